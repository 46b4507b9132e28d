"""Accounts: login, logout, invitations, password resets and the `users` commands."""
