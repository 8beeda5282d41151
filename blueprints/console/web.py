"""What every console page shares: CSRF on every form, security headers, HTML error pages,
POST-redirect-GET with flash messages, and tables that export as CSV (``?format=csv``)."""

from __future__ import annotations

import csv
import functools
import hmac
import io
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from blueprints.guards import STREAMED_MAX_BYTES
from blueprints.http import platform
from player_platform.errors import DomainError, Invalid

CSRF_FIELD = "csrf_token"
FORM_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSV_DANGER = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas
# Forms that upload files past PP_MAX_BODY_BYTES, and the role that may send them.
UPLOADS = {"console.import_keys": "admin"}


def install(app: Flask) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="pp_console",
        SESSION_COOKIE_PATH="/moderation/",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=platform_settings_production(app),
    )


def attach(bp: Blueprint) -> None:
    """The blueprint's own hooks (once, at import: a blueprint serves many apps in tests)."""
    bp.before_request(lift_upload_limit)  # before check_csrf reads the form
    bp.before_request(check_csrf)
    bp.after_request(security_headers)
    bp.register_error_handler(HTTPException, http_error_page)
    bp.register_error_handler(DomainError, domain_error_page)
    bp.register_error_handler(ValidationError, invalid_query_page)
    bp.app_context_processor(lambda: {"csrf_token": csrf_token})


def platform_settings_production(app: Flask) -> bool:
    return app.extensions["player_platform"].settings.production


def csrf_token() -> str:
    """This session's token (drawn once; a new session at sign-in draws a new one)."""
    token = session.get(CSRF_FIELD)
    if token is None:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def lift_upload_limit() -> None:
    """An upload form of the role it needs may send a file of any size (spooled to disk by the
    form parser, then read line by line); anyone else keeps the app's body limit, so nobody
    signed out can make us store a large body."""
    role = UPLOADS.get(request.endpoint or "")
    if role and current_user.is_authenticated and current_user.has_role(role):
        request.max_content_length = STREAMED_MAX_BYTES


def check_csrf() -> None:
    if request.method not in FORM_METHODS:
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(400, "This form has expired or did not come from the console: reload and retry.")


def security_headers(response: Response) -> Response:
    settings = platform().settings
    images = " ".join(sorted({"'self'", "data:", *storage_origins(settings)}))
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"img-src {images}; font-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if settings.production:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if response.mimetype != "text/css" and response.mimetype != "text/javascript":
        response.headers["Cache-Control"] = "no-store"
    return response


def storage_origins(settings: Any) -> set[str]:
    """Where previews' short-lived URLs point: this service (local disk) or the S3 endpoint."""
    origins = set()
    for url in (settings.public_url, settings.s3_endpoint_url):
        if url:
            parts = urlsplit(url)
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return origins


def http_error_page(error: HTTPException) -> tuple[str, int]:
    return render_template("console/error.html", error=error), error.code or 500


def domain_error_page(error: DomainError) -> tuple[str, int]:
    return render_template("console/error.html", error=error, detail=refusal(error)), error.status


def invalid_query_page(error: ValidationError) -> tuple[str, int]:
    return render_template("console/error.html", error=None, detail=_messages(error)), 400


def back(default: str) -> str:
    """The console page a form came from (its ``next`` field), else ``default``: never another
    site (an open redirect)."""
    target = request.form.get("next") or ""
    if target.startswith("/moderation/") and not target.startswith("//"):
        return target
    return default


def action(view: Callable[..., Any]) -> Callable[..., Any]:
    """A console POST: run it; a refused action (DomainError) becomes a flash message; then
    redirect (POST-redirect-GET). The view returns (message, where to go)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            message, target = view(*args, **kwargs)
        except DomainError as error:
            flash(refusal(error), "error")
            return redirect(back(request.path))
        if message:
            flash(message, "ok")
        return redirect(target)

    return wrapper


def refusal(error: DomainError) -> str:
    extra = ", ".join(f"{k}: {v}" for k, v in error.extra.items() if k != "errors" and v)
    return f"{error.detail} ({error.code}{'; ' + extra if extra else ''})"


def table(
    template: str,
    *,
    rows: Sequence[Any],
    columns: Sequence[tuple[str, Callable[[Any], Any]]],
    filename: str,
    **context: Any,
) -> Response | str:
    """The page, or with ``?format=csv`` the same rows as CSV (the columns it names)."""
    if request.args.get("format") == "csv":
        return csv_response(
            filename, [c[0] for c in columns], ([f(r) for _, f in columns] for r in rows)
        )
    return render_template(template, rows=rows, **context)


def csv_response(filename: str, header: list[str], rows: Iterable[list[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_DANGER) else text


def page_args(default_limit: int = 50) -> dict[str, Any]:
    """limit (1..200) and cursor from the query string."""
    try:
        limit = max(1, min(200, int(request.args.get("limit", default_limit))))
    except ValueError:
        limit = default_limit
    return {"limit": limit, "cursor": request.args.get("cursor") or None}


def next_url(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    args = {**request.args.to_dict(), "cursor": cursor}
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def form_values(schema_class: type, fields: tuple[str, ...], **given: Any) -> dict[str, Any]:
    """The form's fields loaded by the API's own schema (one set of rules for both): a
    refusal is a 422 validation_error the action shows as a flash message."""
    values = {f: request.form[f] for f in fields if request.form.get(f, "").strip()}
    values.update({k: v for k, v in given.items() if v is not None})
    try:
        return schema_class().load(values)
    except ValidationError as error:
        raise Invalid(
            "The form is not valid: " + _messages(error), code="validation_error"
        ) from None


def _messages(error: ValidationError) -> str:
    messages = error.messages if isinstance(error.messages, dict) else {"form": error.messages}
    return "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in messages.items())


def uuid_arg(name: str) -> uuid.UUID | None:
    value = arg(name)
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        raise Invalid(f"{name} must be an id (a UUID).", code="validation_error") from None


def date_arg(name: str) -> datetime | None:
    """A YYYY-MM-DD query argument as midnight UTC."""
    value = arg(name)
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        raise Invalid(f"{name} must be a date (YYYY-MM-DD).", code="validation_error") from None


def arg(name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    return value or None
