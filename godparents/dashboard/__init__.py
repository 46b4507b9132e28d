"""The coordinators' dashboard."""

from flask import Blueprint

# The package's pages attach their routes to it: views.py those of godparents, their
# staff and the public, admin.py the coordinators' (docs/architecture.md). create_app
# registers it.
bp = Blueprint("dashboard", __name__)
