"""Session invariants under concurrent requests on PostgreSQL, through a real HTTP server."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from player_platform.identity.models import Identity, RefreshToken, User
from tests.support import PASSWORD, bearer, signed_up


def _together(count: int, call):
    """Start ``count`` calls at the same instant and return their responses."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_refreshes_of_one_token_share_one_successor_and_keep_the_session(
    live_server, live_platform
):
    for _ in range(5):
        body = {"refresh_token": signed_up(live_platform)["refresh_token"]}
        responses = _together(
            3,
            lambda _, body=body: requests.post(
                f"{live_server}/v1/auth/refresh", json=body, timeout=10
            ),
        )
        assert [r.status_code for r in responses] == [200] * 3, [r.text for r in responses]
        successors = {r.json()["refresh_token"] for r in responses}
        assert len(successors) == 1  # one successor, however many requests raced
        for response in responses:
            me = requests.get(
                f"{live_server}/v1/me", headers=bearer(response.json()["access_token"]), timeout=10
            )
            assert me.status_code == 200
        onward = requests.post(
            f"{live_server}/v1/auth/refresh",
            json={"refresh_token": successors.pop()},
            timeout=10,
        )
        assert onward.status_code == 200, onward.text
    with live_platform.db.unit_of_work() as session:
        live = session.scalar(
            select(func.count())
            .select_from(RefreshToken)
            .where(RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        )
    assert live == 5  # one open token per family: no fork


def test_eight_racing_exchanges_of_one_token_insert_one_successor(live_server, live_platform):
    tokens = signed_up(live_platform)
    body = {"refresh_token": tokens["refresh_token"]}
    responses = _together(
        8, lambda _: requests.post(f"{live_server}/v1/auth/refresh", json=body, timeout=20)
    )
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    assert len({r.json()["refresh_token"] for r in responses}) == 1
    with live_platform.db.unit_of_work() as session:
        rows = session.scalars(select(RefreshToken)).all()
    assert len(rows) == 2  # the spent token and its one successor
    assert sorted(row.used_at is None for row in rows) == [False, True]


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
