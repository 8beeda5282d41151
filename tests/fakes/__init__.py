"""Fake servers of outside services (Steam, Epic, Twitch, Stripe, suppliers) for the tests.

Each fake is a small Flask app that follows shared/contracts/PROVIDERS.md: same paths,
parameters, signatures and error shapes, so the production clients are what the tests exercise.
``serve`` runs one on a free loopback port in a thread; ``Delays`` lets a test make one
answer of a fake slow (a provider that answers after 5 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, g
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


@dataclass
class SlowAnswer:
    """One held-back answer: ``entered`` when the request arrived, ``answered`` once the fake
    produced its answer, ``seconds`` after."""

    seconds: float
    entered: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)


@dataclass
class Delays:
    pending: dict[str, SlowAnswer] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def slow(self, key: str, seconds: float = 5.0) -> SlowAnswer:
        """Answer the next request with ``key`` (what the fake's ``key_of`` says) late."""
        with self.lock:
            self.pending[key] = SlowAnswer(seconds)
            return self.pending[key]

    def take(self, key: str) -> SlowAnswer | None:
        with self.lock:
            return self.pending.pop(key, None)


def hold_back_answers(app: Flask, delays: Callable[[], Delays], key_of: Callable[[], str]) -> None:
    """Let ``delays()`` (the fake's current Delays: resets replace it) slow ``app``'s answers."""

    @app.before_request
    def hold_back():
        answer = delays().take(key_of())
        if answer is not None:
            answer.entered.set()
            time.sleep(answer.seconds)
            g.slow_answer = answer

    @app.teardown_request
    def release(_error):
        answer = g.pop("slow_answer", None)
        if answer is not None:
            answer.answered.set()
