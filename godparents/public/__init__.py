"""The campaign in public: pages without login, their settings, and the open data feed.

Everything shown comes from one snapshot of exactly the public fields (``services``),
built only from records whose every consent holds, cached by the data version.
"""

from flask import Blueprint

bp = Blueprint("public", __name__)
