"""Every non-2xx answer on /v1 is problem+json with a stable code; never a stack trace."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from blueprints.problems import DATABASE_DOWN
from player_platform.app import create_app
from player_platform.db import Database
from player_platform.outage import Throttle
from player_platform.platform import Platform
from tests.support import bearer, signed_up

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    return body


def test_unknown_route_is_a_404_problem(client):
    assert_problem(client.get("/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_a_405_problem_with_allow(client):
    response = client.delete("/v1/auth/login")
    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_non_json_body_is_a_415_problem(client):
    response = client.post(
        "/v1/auth/login", data="email=a@b.c", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_invalid_json_is_a_400_problem(client):
    response = client.post("/v1/auth/login", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == PROBLEM


def test_validation_errors_name_each_field(client):
    response = client.post(
        "/v1/auth/register", json={"email": "not-an-email", "password": "x", "surprise": 1}
    )
    body = assert_problem(response, 422, "validation_error")
    assert set(body["errors"]) == {"email", "password", "display_name", "surprise"}


def test_the_nul_character_is_refused_with_422_not_a_database_error(client):
    in_query = client.get("/v1/admin/audit-logs?action=a%00b")
    assert in_query.status_code == 422
    assert in_query.get_json()["code"] == "invalid_characters"
    in_body = client.post(
        "/v1/auth/register",
        data='{"email": "a@example.com", "password": "pass\\u0000word", "display_name": "A"}',
        content_type="application/json",
    )
    assert in_body.status_code == 422
    assert in_body.get_json()["code"] == "invalid_characters"


def test_a_float_is_not_an_integer(client, platform):
    tokens = signed_up(platform)  # a player who may read their ledger
    response = client.get("/v1/me/ledger?limit=1.5", headers=bearer(tokens["access_token"]))
    body = assert_problem(response, 422, "validation_error")
    assert "limit" in str(body["errors"])


def test_oversized_body_is_a_413_problem(client, platform):
    big = {"email": "big@example.com", "password": "x" * 2_000_000, "display_name": "B"}
    assert_problem(client.post("/v1/auth/register", json=big), 413, "payload_too_large")


def test_rate_limit_is_a_429_problem_with_retry_after(settings, db):
    tight = dataclasses.replace(settings, rate_limit_auth_ip=3)
    client = create_app(platform=Platform.from_settings(tight, db=db)).test_client()
    statuses = [
        client.post(
            "/v1/auth/login", json={"email": f"u{i}@example.com", "password": "whatever"}
        ).status_code
        for i in range(5)
    ]
    assert statuses[:3] == [401, 401, 401]
    response = client.post("/v1/auth/login", json={"email": "z@example.com", "password": "x"})
    body = assert_problem(response, 429, "rate_limited")
    assert "limit" in body["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_reads_and_writes_have_their_own_limits(settings, db):
    tight = dataclasses.replace(settings, rate_limit_read_ip=2, rate_limit_write_user=1000)
    client = create_app(platform=Platform.from_settings(tight, db=db)).test_client()
    codes = [client.get("/v1/me").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    assert client.post("/v1/auth/logout").status_code == 401  # writes still go through


def test_an_unreachable_database_is_a_503_problem_without_internals(settings, tmp_path):
    broken_db = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    client = create_app(platform=Platform.from_settings(settings, db=broken_db)).test_client()
    response = client.post("/v1/auth/login", json={"email": "a@example.com", "password": "x"})
    body = assert_problem(response, 503, "database_unavailable")
    assert int(response.headers["Retry-After"]) > 0
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "psycopg" not in text and "127.0.0.1" not in text
    assert body["detail"]
    assert response.headers["X-Request-ID"]


def test_an_unreachable_database_is_logged_once_a_minute_not_per_request(settings, caplog):
    broken_db = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    client = create_app(platform=Platform.from_settings(settings, db=broken_db)).test_client()
    before = DATABASE_DOWN.counts["database"]
    caplog.set_level(logging.WARNING, logger="blueprints.problems")
    body = {"email": "a@example.com", "password": "x"}
    statuses = [client.post("/v1/auth/login", json=body).status_code for _ in range(4)]
    assert statuses == [503] * 4
    assert DATABASE_DOWN.counts["database"] - before == 4
    logged = [r for r in caplog.records if r.getMessage() == "database unreachable"]
    assert len(logged) <= 1  # none when another test logged it within the minute


def test_the_outage_throttle_logs_each_kind_first_then_once_a_minute():
    throttle = Throttle()
    assert [throttle.note("database") for _ in range(3)] == [1, None, None]
    assert throttle.note("leaderboard_index") == 1
    assert throttle.counts == {"database": 3, "leaderboard_index": 1}


@pytest.mark.parametrize("path", ["/v1/me", "/v1/me/sessions", "/v1/admin/audit-logs"])
def test_missing_token_is_a_401_problem(client, path):
    assert_problem(client.get(path), 401, "unauthorized")
