"""The impact report: what the campaign did in a period, for the coordinators."""

from flask import Blueprint

# admin.py attaches the coordinators' pages (docs/architecture.md); create_app registers it.
bp = Blueprint("reports", __name__)
