"""Sponsorships."""
