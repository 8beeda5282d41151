"""What every API view shares: the platform, the caller, its origin, and Idempotency-Key."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from typing import Any

import orjson
from flask import current_app, g, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from player_platform.audit.service import Origin
from player_platform.db import utcnow
from player_platform.errors import DomainError, Invalid, Unauthorized
from player_platform.idempotency import service as idempotency
from player_platform.identity.sessions import Actor, authenticate, authenticate_view
from player_platform.logs import request_id_var
from player_platform.platform import Platform
from player_platform.security import api_keys
from player_platform.security.tokens import AccessClaims, hash_token

BEARER_AUTH = [{"bearerAuth": []}]
BEARER_OR_API_KEY = [{"bearerAuth": []}, {"apiKeyAuth": []}]
API_KEY_AUTH = [{"apiKeyAuth": []}]


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


def access_claims(token: str) -> AccessClaims:
    """The claims of ``token``, verified once per request: the write rate limit and the actor
    share them (the signature check was a tenth of a leaderboard submission)."""
    cached = g.get("access_claims")
    if cached is not None and cached[0] == token:
        return cached[1]
    claims = platform().tokens.verify(token, now=utcnow())
    g.access_claims = (token, claims)
    return claims


def json_response(body: object) -> Response:
    """``body`` as JSON, written by orjson, for the hot routes instead of a marshmallow dump.

    The values must be known-good (ints, str, uuid, ISO dates, JSON metadata) and the shape
    exactly the route's documented schema (test_fuzz checks every response against the OpenAPI
    document); orjson writes them about ten times faster than a Nested(many) dump + json.dumps.
    """
    try:
        data = orjson.dumps(body)
    except TypeError:  # an integer beyond 64 bits inside a player's metadata
        data = json.dumps(body, default=str).encode()
    return Response(data, mimetype="application/json")


def api_key() -> str | None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "apikey" and key.strip() else None


def current_caller(scope: str) -> Actor | api_keys.ServerCaller:
    """A player (Bearer token), or a server whose API key holds ``scope`` (ApiKey <key>).

    Call it inside the view's unit of work, like current_player(): a player's user is read-only."""
    if api_key() is None:
        return current_player()
    return current_server(scope)


def current_server(scope: str) -> api_keys.ServerCaller:
    """A server whose API key holds ``scope`` (401 without a live key, 403 without the scope)."""
    key = api_key()
    if key is None:
        raise Unauthorized(
            "Send a server API key: Authorization: ApiKey <key>.", code="api_key_required"
        )
    with platform().db.unit_of_work() as session:
        caller = api_keys.authenticate(session, key=key, now=utcnow())
    caller.require_scope(scope)
    return caller


def current_actor() -> Actor:
    """The authenticated caller (401 without a valid, live access token).

    Call it inside the view's unit of work: the user is loaded in that session, so the view
    can change it. It is looked up once per unit of work.
    """
    return _actor("actor", authenticate)


def current_player() -> Actor:
    """current_actor() for views that only read the user: the same checks, but ``Actor.user``
    is a read-only ``UserView`` (a Core query, no ORM entity: cheaper on the hot routes)."""
    return _actor("player", authenticate_view)


def optional_player() -> Actor | None:
    """current_player() when the request carries a token (an invalid one is still 401), None
    for an anonymous caller: for routes that anyone may call and players see more of."""
    return current_player() if bearer_token() is not None else None


def current_claims() -> AccessClaims:
    """The verified claims of the request's access token (401 without a valid one); whether
    its session is still open is for ``authenticate`` (or ``sessions.profile``) to check."""
    token = bearer_token()
    if token is None:
        raise Unauthorized(
            "Send an access token: Authorization: Bearer <token>.", code="unauthorized"
        )
    return access_claims(token)


def _actor(slot: str, resolve: Callable[..., Actor]) -> Actor:
    claims = current_claims()
    with platform().db.unit_of_work() as session:
        for name in (slot, "actor"):  # a full actor serves a reader too
            cached = g.get(name)
            if cached is not None and cached[0] is session:
                return cached[1]
        actor = resolve(session, claims, now=utcnow())
        setattr(g, slot, (session, actor))
    return actor


# The codes a staff-only route answers 403 with (its OpenAPI alt_response description).
STAFF_ERRORS = "forbidden, mfa_required"


def staff(role: str) -> Actor:
    actor = current_actor()
    actor.require_role(role)
    return actor


def idempotent(
    view: Callable[..., ResponseReturnValue] | None = None, *, atomic: bool = True
) -> Any:
    """Honour an optional Idempotency-Key (see player_platform.idempotency.service).

    Put it above flask-smorest's response decorator so it sees the final response. By default
    the claim, the view and the stored response are one transaction. ``atomic=False`` is for
    views that call a provider between units of work of their own: the claim commits first,
    the view runs outside any transaction, and the response is stored in a new one.
    """
    if view is None:
        return functools.partial(idempotent, atomic=atomic)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255:
            raise Invalid(
                "Idempotency-Key must be 1 to 255 characters.", code="invalid_idempotency_key"
            )
        call = idempotency.Request.of(
            scope=f"{request.url_rule.rule} {_caller_scope()}",
            key=key,
            method=request.method,
            path=request.path,
            body=request.get_data(),
        )
        run = _run_atomic if atomic else _run_in_steps
        return run(call, functools.partial(view, *args, **kwargs))

    return wrapper


def _run_atomic(call: idempotency.Request, view: Callable[[], Response]) -> Response:
    p = platform()
    with p.db.unit_of_work() as session:
        claimed = idempotency.claim(session, p.redis, p.vault, request=call, now=utcnow())
        if isinstance(claimed, idempotency.StoredResponse):
            return _replay(claimed)
        try:
            response = view()
        except DomainError as error:
            if error.persist:  # its effects commit: free the key so a retry runs again
                idempotency.release(session, record_id=claimed)
            raise
        _keep(session, call, claimed, response)
    return response


def _run_in_steps(call: idempotency.Request, view: Callable[[], Response]) -> Response:
    p = platform()
    with p.db.unit_of_work() as session:
        claimed = idempotency.claim(session, p.redis, p.vault, request=call, now=utcnow())
    if isinstance(claimed, idempotency.StoredResponse):
        return _replay(claimed)
    try:
        response = view()
    except BaseException:
        with p.db.unit_of_work() as session:
            idempotency.release(session, record_id=claimed)
        raise
    with p.db.unit_of_work() as session:
        _keep(session, call, claimed, response)
    return response


def _keep(
    session: Session, call: idempotency.Request, claimed: uuid.UUID, response: Response
) -> None:
    """Store a successful JSON response for replay; free the key of any other."""
    p = platform()
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


def _caller_scope() -> str:
    """Whose Idempotency-Keys these are: a player's, a server key's, or nobody's."""
    if bearer_token():
        return str(current_actor().id)
    key = api_key()
    if key:
        return "key:" + hash_token(key)
    return "anonymous"


def _replay(stored: idempotency.StoredResponse) -> Response:
    response = current_app.json.response(stored.body)
    response.status_code = stored.status
    response.headers["Idempotent-Replayed"] = "true"
    return response
