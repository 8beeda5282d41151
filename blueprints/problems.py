"""Every error as RFC 9457 problem+json with a stable ``code``; never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Flask, Response, current_app, request
from flask_smorest import Api
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from blueprints.body import ApiBlueprint
from player_platform.db import database_unreachable
from player_platform.errors import DomainError, RateLimited
from player_platform.outage import Throttle

log = logging.getLogger(__name__)
DATABASE_DOWN = Throttle()  # 503s answered because PostgreSQL was unreachable

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ProblemSchema(ma.Schema):
    """Problem details (RFC 9457) with a stable machine ``code``."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    code = ma.fields.String()
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw())


PROBLEM_JSON = "application/problem+json"
DATABASE_RETRY_AFTER = 5  # seconds a client waits before retrying while the database is down


class ProblemApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        # flask-smorest documents its shared error responses with the default content type;
        # ours are problem+json, and the document must say so.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE

    def register_blueprint(self, blp: flask_smorest.Blueprint, **options: Any) -> None:
        if not isinstance(blp, ApiBlueprint):
            raise TypeError(f"{blp.name}: API blueprints are ApiBlueprint (the strict body parser)")
        super().register_blueprint(blp, **options)

    def handle_http_exception(self, error: HTTPException) -> Response:
        return http_problem(error)


def problem(
    status: int,
    *,
    code: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.update(headers or {})
    return response


def http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = _field_errors(data.get("messages") or data.get("errors"))
    headers = dict(data.get("headers") or {})
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 422:
        detail = "The request is not valid: see errors."
    elif status >= 500:
        detail = "Something went wrong on our side; it has been logged."
    else:
        detail = error.description
    return problem(
        status,
        code=HTTP_CODES.get(status, "http_error"),
        title=error.name,
        detail=detail,
        headers=headers,
        errors=errors,
    )


def domain_problem(error: DomainError) -> Response:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else {}
    return problem(
        error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        headers=headers,
        **error.extra,
    )


def database_problem(error: SQLAlchemyError) -> Response:
    """The database is down or restarting: 503 with Retry-After, not a 500. Nothing to restart
    here: the pool reconnects (pre-ping) once it answers again."""
    if not database_unreachable(error):
        return unexpected_problem(error)
    count = DATABASE_DOWN.note("database")
    if count is not None:  # once a minute while it is down, not once per request
        log.warning(
            "database unreachable",
            extra={
                "path": request.path,
                "error": repr(getattr(error, "orig", error)),
                "count": count,
            },
        )
    return problem(
        503,
        code="database_unavailable",
        title="Service unavailable",
        detail="The database is unreachable just now; retry shortly.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )


def unexpected_problem(error: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.path})
    return http_problem(InternalServerError())


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_problem)
    app.register_error_handler(SQLAlchemyError, database_problem)
    app.register_error_handler(Exception, unexpected_problem)


def _field_errors(messages: Any) -> dict[str, Any] | None:
    """webargs nests errors by location ({"json": {"email": [...]}}); clients want fields."""
    if not isinstance(messages, dict):
        return None
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat
