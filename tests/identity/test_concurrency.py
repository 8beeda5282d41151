"""Session invariants under concurrent requests on PostgreSQL, through a real HTTP server."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from player_platform.identity.models import Identity, User
from tests.support import PASSWORD


def _together(count: int, call):
    """Start ``count`` calls at the same instant and return their responses."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_two_concurrent_refreshes_with_one_token_never_both_win(live_server):
    for attempt in range(5):
        signed_up = requests.post(
            f"{live_server}/v1/auth/register",
            json={
                "email": f"race{attempt}@example.com",
                "password": PASSWORD,
                "display_name": "Racer",
            },
            timeout=10,
        ).json()
        body = {"refresh_token": signed_up["refresh_token"]}
        responses = _together(
            2,
            lambda _, body=body: requests.post(
                f"{live_server}/v1/auth/refresh", json=body, timeout=10
            ),
        )
        winners = [r for r in responses if r.status_code == 200]
        assert len(winners) <= 1, [r.text for r in responses]
        losers = [r for r in responses if r.status_code != 200]
        assert all(r.status_code == 401 for r in losers)


def test_concurrent_registrations_of_one_email_make_one_account(live_server, live_platform):
    body = {"email": "twins@example.com", "password": PASSWORD, "display_name": "Twin"}
    responses = _together(
        10, lambda _: requests.post(f"{live_server}/v1/auth/register", json=body, timeout=20)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, statuses
    assert set(statuses) == {201, 409}
    with live_platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
        assert session.scalar(select(func.count()).select_from(Identity)) == 1


def test_concurrent_wrong_passwords_are_all_counted(live_server, live_platform):
    requests.post(
        f"{live_server}/v1/auth/register",
        json={"email": "brute@example.com", "password": PASSWORD, "display_name": "B"},
        timeout=10,
    )
    responses = _together(
        8,
        lambda _: requests.post(
            f"{live_server}/v1/auth/login",
            json={"email": "brute@example.com", "password": "guess"},
            timeout=20,
        ),
    )
    # Sign-ins of one account are serialised: the first five failures are counted and lock the
    # account; the three after them are refused without reaching the password check.
    codes = sorted(r.json()["code"] for r in responses)
    assert codes == ["account_locked"] * 3 + ["invalid_credentials"] * 5
    with live_platform.db.unit_of_work() as session:
        user = session.scalar(select(User))
    assert user.failed_logins == 5
    assert user.locked_until is not None
