"""A user's own settings: contact details, language, time zone, reminders, password, calendar."""

from flask import Blueprint

# The package's pages attach their routes to it: views.py those of godparents, their
# staff and the public, admin.py the coordinators' (docs/architecture.md). create_app
# registers it.
bp = Blueprint("account", __name__)
