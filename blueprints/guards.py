"""Per-request plumbing for the API: request id, body checks, rate limits, access log, metrics."""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from blueprints.http import access_claims, bearer_token, platform
from player_platform.errors import Invalid, Unauthorized
from player_platform.logs import request_id_var

log = logging.getLogger("player_platform.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EMAIL_ROUTES = frozenset({"/v1/auth/login", "/v1/auth/register", "/v1/auth/password/reset-request"})
# Views that read their body as a stream, at any size, and check it themselves.
STREAMED_ROUTES = frozenset({"/v1/admin/keys/bulk-import"})
STREAMED_MAX_BYTES = 1 << 40
SLOW_SECONDS = 0.25  # successful requests slower than this are logged at INFO


class ApiSessions(SecureCookieSessionInterface):
    """No cookie session on the API (it authenticates with tokens and API keys): reading and
    signing one cost ~8% of a leaderboard read. Other paths (review UI) keep theirs."""

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if request.path.startswith("/v1/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def install(app: Flask) -> None:
    app.session_interface = ApiSessions()
    app.before_request(_start)
    app.before_request(_check_body)
    app.before_request(_rate_limit)
    app.after_request(_finish)


def _start() -> None:
    g.started = time.perf_counter()
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex
    g.request_id_token = request_id_var.set(g.request_id)


def _check_body() -> None:
    if request.path in STREAMED_ROUTES:
        # The view checks the caller, then streams (None would mean Flask's app-wide limit).
        request.max_content_length = STREAMED_MAX_BYTES
        return
    if not request.path.startswith("/v1/"):
        return
    body = b""
    if request.method in BODY_METHODS:
        limit = platform().settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge(f"The body may be at most {limit} bytes.")
        has_body = bool(request.content_length) or "chunked" in request.headers.get(
            "Transfer-Encoding", ""
        )
        if has_body and not request.is_json:
            raise UnsupportedMediaType("Send the body as application/json.")
        body = request.get_data(cache=True)
        if body and request.is_json:
            request.get_json()  # parsed once, strictly (blueprints/body.py), before anyone reads it
    # PostgreSQL text cannot hold NUL: refuse it here with a clear 422, not deep down as a 500.
    if b"%00" in request.query_string or b"\x00" in body or b"\\u0000" in body:
        raise Invalid("Text may not contain the NUL character.", code="invalid_characters")


def _rate_limit() -> None:
    if not request.path.startswith("/v1/"):
        return
    settings, limiter, now = platform().settings, platform().limiter, time.time()
    ip = request.remote_addr or "unknown"
    if request.path.startswith("/v1/auth/"):
        limiter.hit(f"auth-ip:{ip}", limit=settings.rate_limit_auth_ip, now=now)
        email = _body_email()
        if email:
            digest = hashlib.sha256(email.encode()).hexdigest()[:32]
            limiter.hit(f"auth-email:{digest}", limit=settings.rate_limit_auth_ip, now=now)
    elif request.method in READ_METHODS:
        limiter.hit(f"read-ip:{ip}", limit=settings.rate_limit_read_ip, now=now)
    else:
        limiter.hit(f"write:{_caller_key(ip)}", limit=settings.rate_limit_write_user, now=now)


def _body_email() -> str | None:
    if request.path not in EMAIL_ROUTES or not request.is_json:
        return None
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return email.strip().lower() if isinstance(email, str) else None


def _caller_key(ip: str) -> str:
    """Writes count per user when the token is valid (signature only, no database), else per IP."""
    token = bearer_token()
    if token:
        try:
            return "user:" + str(access_claims(token).user_id)
        except Unauthorized:
            pass
    return "ip:" + ip


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    started = g.get("started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule else "unmatched"
    current_app.extensions["player_platform.metrics"].observe(
        method=request.method, route=route, status=response.status_code, seconds=seconds
    )
    # Metrics count every request; the log line is for the ones someone will read: failures and
    # slow answers at INFO, the rest at DEBUG (a JSON line under the handler's lock per request
    # cost the leaderboard reads ~15% of their time; see docs/PERFORMANCE.md).
    quiet = response.status_code < 400 and seconds < SLOW_SECONDS
    level = logging.DEBUG if quiet else logging.INFO
    if not log.isEnabledFor(level):
        return response
    log.log(
        level,
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 2),
            "ip": request.remote_addr,
        },
    )
    return response
