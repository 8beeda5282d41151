"""Presigned uploads and downloads for local-disk storage; S3 serves its own URLs.

A plain Blueprint (not in the OpenAPI document): clients follow URLs the API handed out, and
the signature in the query string is the only credential.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request, send_file

from blueprints.problems import domain_problem
from player_platform.errors import DomainError, Forbidden, Invalid, NotFound
from storage import attachment_disposition
from storage.local import LocalStorage

bp = Blueprint("files", __name__)
bp.register_error_handler(DomainError, domain_problem)


@bp.get("/files/<path:key>")
def download(key: str) -> Response:
    storage = _local_storage()
    filename = request.args.get("filename", "")
    _require_signature(storage, key, content_type="", bound={"filename": filename})
    info = storage.head(key)
    if info is None:
        raise NotFound(f"No object {key!r}.", code="object_not_found")
    response = send_file(storage.path(key), mimetype=info.content_type)
    if filename:
        response.headers["Content-Disposition"] = attachment_disposition(filename)
    else:  # send_file names the file after the path, inline; S3 sends no such header
        del response.headers["Content-Disposition"]
    # Uploaded content is served from the API's origin: never sniffed, never scripted.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


@bp.put("/files/<path:key>")
def upload(key: str) -> Response:
    storage = _local_storage()
    content_type = request.headers.get("Content-Type", "")
    bound = {name: request.args.get(name, "") for name in ("length", "sha256")}
    _require_signature(storage, key, content_type=content_type, bound=bound)
    if bound["length"]:
        # The signed length replaces the API's body limit; anything else is refused unread.
        request.max_content_length = int(bound["length"])
        if request.content_length != int(bound["length"]):
            raise Invalid("The body is not the signed length.", code="size_mismatch")
    data = request.get_data()
    if bound["sha256"] and hashlib.sha256(data).hexdigest() != bound["sha256"]:
        raise Invalid("The body does not match the signed SHA-256.", code="bad_digest")
    storage.put(key, data, content_type=content_type)
    return Response(status=204)


def _local_storage() -> LocalStorage:
    storage = current_app.extensions["player_platform"].storage
    if not isinstance(storage, LocalStorage):
        raise NotFound("Files are served by the object store, not here.")
    return storage


def _require_signature(
    storage: LocalStorage, key: str, *, content_type: str, bound: dict[str, str]
) -> None:
    """403 unless the query string signs this method, key, content type and ``bound``."""
    expires = request.args.get("expires", 0, type=int)
    method = "GET" if request.method == "HEAD" else request.method
    sig = request.args.get("sig", "")
    now = datetime.now(UTC)
    if not storage.verify_signature(key, method, expires, content_type, sig, now, bound=bound):
        raise Forbidden("The link is invalid or has expired.", code="invalid_signature")
