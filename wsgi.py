"""gunicorn entry point: `gunicorn wsgi:app`."""

from player_platform.app import create_app

app = create_app()
