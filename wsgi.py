"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import sys

from godparents import create_app
from godparents.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:
    # One clear line instead of a traceback; exit code 3 is gunicorn's "worker failed to
    # boot", which stops the server instead of starting new workers that fail the same way.
    print(f"godparents: configuration error: {error.format_message()}", file=sys.stderr)
    sys.exit(3)
