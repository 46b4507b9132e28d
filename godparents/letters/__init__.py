"""The print kit and the letter check: envelopes, label sheets, letters from templates, and
the words that get letters withheld. The godparents' pages are in views.py (under
/sponsor/letters/), the coordinators' in admin.py (under /coordinator/letters/)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("letters", __name__)
