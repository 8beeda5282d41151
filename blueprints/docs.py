"""Swagger UI's assets for /docs, served from the installed swagger-ui-bundle package: the page
works on a self-hosted install without internet (flask-smorest would load them from a CDN)."""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/docs/assets/"
ONE_DAY = 86_400

bp = Blueprint("docs_assets", __name__)


@bp.get(f"{ASSETS_URL}<path:filename>")
def asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_path, filename, max_age=ONE_DAY)
