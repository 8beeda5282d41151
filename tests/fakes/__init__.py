"""Fake servers of outside services (Steam, Epic, Twitch, Stripe, suppliers) for the tests.

Each fake is a small Flask app that follows shared/contracts/PROVIDERS.md: same paths,
parameters, signatures and error shapes, so the production clients are what the tests exercise.
``serve`` runs one on a free loopback port in a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 and yield its base URL (no trailing slash)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
