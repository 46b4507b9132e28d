"""Import and export of prisoners as CSV, from the coordinators' pages."""

from __future__ import annotations
