"""Prisoners."""
