"""Health, readiness, metrics, request ids and the OpenAPI document."""

from __future__ import annotations

import dataclasses
import json
import logging

from player_platform.app import create_app
from player_platform.logs import JsonFormatter, request_id_var
from player_platform.platform import Platform
from tests.support import bearer, create_api_key, staff_tokens


def test_healthz_and_readyz_answer_ok(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok"}


def test_readyz_names_what_is_down(settings, db):
    no_redis = dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")
    client = create_app(platform=Platform.from_settings(no_redis, db=db)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["down"] == ["redis"]


def test_metrics_count_requests_by_route(client):
    client.get("/healthz")
    client.get("/v1/me")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'pp_http_requests_total{method="GET",route="/v1/me",status="401"} 1.0' in text
    assert "pp_http_request_duration_seconds_bucket" in text
    assert 'pp_queue_depth{queue="maintenance"} 0.0' in text


def test_private_metrics_need_an_api_key_with_the_metrics_scope(settings, db):
    platform = Platform.from_settings(dataclasses.replace(settings, metrics_public=False), db=db)
    client = create_app(platform=platform).test_client()
    admin = bearer(staff_tokens(platform, role="admin")["access_token"])
    assert client.get("/metrics").get_json()["code"] == "api_key_required"
    scores_only = create_api_key(client, admin)["key"]
    refused = client.get("/metrics", headers={"Authorization": f"ApiKey {scores_only}"})
    assert refused.status_code == 403
    scraper = create_api_key(client, admin, scopes=["metrics:read"])["key"]
    scraped = client.get("/metrics", headers={"Authorization": f"ApiKey {scraper}"})
    assert scraped.status_code == 200
    assert "pp_http_requests_total" in scraped.get_data(as_text=True)


def test_request_id_is_echoed_or_made(client):
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["X-Request-ID"] != "bad id with spaces"
    assert len(made.headers["X-Request-ID"]) == 32


def test_log_lines_are_json_with_the_request_id():
    token = request_id_var.set("req-42")
    try:
        record = logging.makeLogRecord(
            {"msg": "hello %s", "args": ("world",), "levelname": "INFO", "name": "t", "status": 201}
        )
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "hello world"
    assert line["request_id"] == "req-42"
    assert line["status"] == 201


def test_openapi_document_and_docs_are_served(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/v1/auth/register",
        "/v1/auth/login",
        "/v1/auth/refresh",
        "/v1/auth/logout",
        "/v1/me",
        "/v1/me/sessions",
        "/v1/me/mfa/totp",
        "/v1/admin/audit-logs",
    ):
        assert path in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200
