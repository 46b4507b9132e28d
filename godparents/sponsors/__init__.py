"""Godparents and their office staff."""
