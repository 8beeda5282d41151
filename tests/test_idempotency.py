"""Idempotency-Key: one effect however many identical requests arrive at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from player_platform.idempotency.models import IdempotencyRecord
from player_platform.identity.models import User
from tests.support import PASSWORD


def test_twenty_parallel_identical_requests_have_one_effect_and_one_answer(
    live_server, live_platform
):
    body = {"email": "idem@example.com", "password": PASSWORD, "display_name": "Idem"}
    barrier = threading.Barrier(20)

    def send(_):
        barrier.wait()
        return requests.post(
            f"{live_server}/v1/auth/register",
            json=body,
            headers={"Idempotency-Key": "signup-1"},
            timeout=30,
        )

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(send, range(20)))

    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.text for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 19
    with live_platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        record = session.scalar(select(IdempotencyRecord))
    assert body["password"] not in record.response_body  # the stored response is sealed
    assert responses[0].json()["refresh_token"] not in record.response_body


def test_same_key_with_another_body_is_refused(client):
    first = client.post(
        "/v1/auth/register",
        headers={"Idempotency-Key": "k-1"},
        json={"email": "one@example.com", "password": PASSWORD, "display_name": "One"},
    )
    assert first.status_code == 201
    other = client.post(
        "/v1/auth/register",
        headers={"Idempotency-Key": "k-1"},
        json={"email": "two@example.com", "password": PASSWORD, "display_name": "Two"},
    )
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_key_reused"


def test_replay_survives_an_emptied_redis(client, redis):
    body = {"email": "flush@example.com", "password": PASSWORD, "display_name": "F"}
    first = client.post("/v1/auth/register", headers={"Idempotency-Key": "k-2"}, json=body)
    redis.flushdb()
    again = client.post("/v1/auth/register", headers={"Idempotency-Key": "k-2"}, json=body)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_failed_request_does_not_burn_its_key(client):
    client.post(
        "/v1/auth/register",
        json={"email": "taken@example.com", "password": PASSWORD, "display_name": "T"},
    )
    failed = client.post(
        "/v1/auth/register",
        headers={"Idempotency-Key": "k-3"},
        json={"email": "taken@example.com", "password": PASSWORD, "display_name": "T"},
    )
    assert failed.status_code == 409
    retried = client.post(
        "/v1/auth/register",
        headers={"Idempotency-Key": "k-3"},
        json={"email": "taken@example.com", "password": PASSWORD, "display_name": "T"},
    )
    assert retried.status_code == 409
    assert "Idempotent-Replayed" not in retried.headers


def test_an_overlong_key_is_a_validation_error(client):
    response = client.post(
        "/v1/auth/register",
        headers={"Idempotency-Key": "x" * 256},
        json={"email": "long@example.com", "password": PASSWORD, "display_name": "L"},
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "invalid_idempotency_key"
