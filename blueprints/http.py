"""What every API view shares: the platform, the caller, its origin, and Idempotency-Key."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, g, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from player_platform.audit.service import Origin
from player_platform.db import utcnow
from player_platform.errors import Invalid, Unauthorized
from player_platform.idempotency import service as idempotency
from player_platform.identity.sessions import Actor, authenticate
from player_platform.logs import request_id_var
from player_platform.platform import Platform

BEARER_AUTH = [{"bearerAuth": []}]


def platform() -> Platform:
    return current_app.extensions["player_platform"]


def origin() -> Origin:
    return Origin(
        ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
        request_id=request_id_var.get(),
    )


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_actor() -> Actor:
    """The authenticated caller (401 without a valid, live access token).

    Call it inside the view's unit of work: the user is loaded in that session, so the view
    can change it. It is looked up once per unit of work.
    """
    token = bearer_token()
    if token is None:
        raise Unauthorized(
            "Send an access token: Authorization: Bearer <token>.", code="unauthorized"
        )
    with platform().db.unit_of_work() as session:
        cached = g.get("actor")
        if cached is not None and cached[0] is session:
            return cached[1]
        actor = authenticate(session, platform().tokens, bearer=token, now=utcnow())
        g.actor = (session, actor)
    return actor


def staff(role: str) -> Actor:
    actor = current_actor()
    actor.require_role(role)
    return actor


def idempotent(view: Callable[..., ResponseReturnValue]) -> Callable[..., Response]:
    """Honour an optional Idempotency-Key (see player_platform.idempotency.service).

    Put it above flask-smorest's response decorator so it sees the final response.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255:
            raise Invalid(
                "Idempotency-Key must be 1 to 255 characters.", code="invalid_idempotency_key"
            )
        caller = str(current_actor().id) if bearer_token() else "anonymous"
        call = idempotency.Request.of(
            scope=f"{request.url_rule.rule} {caller}",
            key=key,
            method=request.method,
            path=request.path,
            body=request.get_data(),
        )
        p = platform()
        with p.db.unit_of_work() as session:
            claimed = idempotency.claim(session, p.redis, p.vault, request=call, now=utcnow())
            if isinstance(claimed, idempotency.StoredResponse):
                return _replay(claimed)
            response = view(*args, **kwargs)
            if response.status_code < 400 and response.is_json:
                idempotency.complete(
                    session,
                    p.redis,
                    p.vault,
                    record_id=claimed,
                    request=call,
                    status=response.status_code,
                    body=response.get_json(),
                )
            else:
                idempotency.release(session, record_id=claimed)
        return response

    return wrapper


def _replay(stored: idempotency.StoredResponse) -> Response:
    response = current_app.json.response(stored.body)
    response.status_code = stored.status
    response.headers["Idempotent-Replayed"] = "true"
    return response
