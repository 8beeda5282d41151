"""WSGI entry point: `granian --interface wsgi wsgi:app` (or `gunicorn wsgi:app`)."""

from player_platform.app import create_app

app = create_app()
