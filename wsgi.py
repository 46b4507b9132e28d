"""The WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from godparents import create_app

app = create_app()
