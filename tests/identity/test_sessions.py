"""Register, sign in, refresh, sign out: the session lifecycle a game client relies on."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from player_platform.app import create_app
from player_platform.db import utcnow
from player_platform.errors import DomainError
from player_platform.identity import sessions
from player_platform.identity.models import Identity, RefreshToken, User
from player_platform.platform import Platform
from player_platform.security.passwords import hash_password, verify_password
from player_platform.security.tokens import hash_token
from tests.factories import TEST_ORIGIN
from tests.support import PASSWORD, bearer, login, register, signed_up


def test_register_login_me_refresh_logout_flow(client):
    signed_up = register(client, email="Flow@Example.com", display_name="Flow")
    assert signed_up["user"]["display_name"] == "Flow"
    assert signed_up["expires_in"] == 1800

    signed_in = login(client, "flow@example.com")
    assert signed_in.status_code == 200
    tokens = signed_in.get_json()

    me = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["identities"][0]["provider_id"] == "flow@example.com"
    assert me.get_json()["roles"] == ["player"]

    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new = refreshed.get_json()
    assert new["refresh_token"] != tokens["refresh_token"]

    out = client.post("/v1/auth/logout", headers=bearer(new["access_token"]))
    assert out.status_code == 204
    after = client.get("/v1/me", headers=bearer(new["access_token"]))
    assert after.status_code == 401
    assert after.get_json()["code"] == "session_revoked"
    spent = client.post("/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert spent.status_code == 401


def test_email_is_unique_whatever_its_case(client):
    register(client, email="Someone@Example.com")
    again = client.post(
        "/v1/auth/register",
        json={"email": "  someone@EXAMPLE.com ", "password": PASSWORD, "display_name": "Two"},
    )
    assert again.status_code == 422  # not an address until trimmed: the client must trim
    assert again.get_json()["errors"] == {"email": ["Not a valid email address."]}
    duplicate = client.post(
        "/v1/auth/register",
        json={"email": "SOMEONE@example.com", "password": PASSWORD, "display_name": "Two"},
    )
    assert duplicate.status_code == 409
    assert duplicate.get_json()["code"] == "email_taken"


def test_password_is_stored_as_argon2id_and_tokens_only_as_hashes(client, platform):
    tokens = register(client, email="hash@example.com")
    with platform.db.unit_of_work() as session:
        identity = session.scalar(
            select(Identity).where(Identity.provider_id == "hash@example.com")
        )
        stored = session.scalars(select(RefreshToken.token_hash)).all()
    assert identity.secret_hash.startswith("$argon2id$")
    assert PASSWORD not in identity.secret_hash
    assert tokens["refresh_token"] not in stored
    assert hash_token(tokens["refresh_token"]) in stored


def test_wrong_password_and_unknown_email_answer_alike(client, platform):
    signed_up(platform, email="known@example.com")
    wrong = login(client, "known@example.com", "not the password")
    unknown = login(client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["code"] == unknown.get_json()["code"] == "invalid_credentials"


def _refresh(platform, token: str, *, now):
    """The exchange the API runs: one statement when it can, else ``sessions.refresh``."""
    return sessions.exchange(
        platform.db, platform.tokens, refresh_token=token, origin=TEST_ORIGIN, now=now
    )


def _refused_with(platform, token: str, *, now) -> str:
    with pytest.raises(DomainError) as refused:
        _refresh(platform, token, now=now)
    return refused.value.code


def test_a_retry_within_the_reuse_window_answers_the_same_pair_and_keeps_the_session(
    client, platform
):
    first = signed_up(platform)
    spent_at = utcnow()
    rotated = _refresh(platform, first["refresh_token"], now=spent_at)
    # The answer was lost; the client retries with the token it holds, 9 s later.
    retried = _refresh(platform, first["refresh_token"], now=spent_at + timedelta(seconds=9))
    assert retried.refresh_token == rotated.refresh_token
    assert retried.access_token != rotated.access_token
    for pair in (rotated, retried):
        assert client.get("/v1/me", headers=bearer(pair.access_token)).status_code == 200
    # The family lives on: its one successor rotates as usual.
    onward = client.post("/v1/auth/refresh", json={"refresh_token": retried.refresh_token})
    assert onward.status_code == 200, onward.get_json()


def test_reuse_after_the_window_revokes_the_whole_family(client, platform):
    first = signed_up(platform)
    spent_at = utcnow()
    newest = _refresh(platform, first["refresh_token"], now=spent_at)
    window = timedelta(seconds=platform.settings.refresh_reuse_seconds)
    reused_at = spent_at + window + timedelta(seconds=1)
    assert _refused_with(platform, first["refresh_token"], now=reused_at) == "refresh_token_reused"
    # The thief and the owner are both out: the newest token and its access token died too.
    assert _refused_with(platform, newest.refresh_token, now=reused_at) == "invalid_refresh_token"
    me = client.get("/v1/me", headers=bearer(newest.access_token))
    assert me.get_json()["code"] == "session_revoked"


def test_the_purge_drops_long_spent_tokens_and_keeps_the_live_one(platform):
    first = signed_up(platform)
    spent_at = utcnow() - sessions.SPENT_KEPT - timedelta(minutes=1)
    newest = _refresh(platform, first["refresh_token"], now=spent_at)
    recent = signed_up(platform)
    _refresh(platform, recent["refresh_token"], now=utcnow())
    with platform.db.unit_of_work() as session:
        assert sessions.purge_expired(session, now=utcnow()) == 1
        hashes = set(session.scalars(select(RefreshToken.token_hash)))
    assert hash_token(first["refresh_token"]) not in hashes
    assert hash_token(recent["refresh_token"]) in hashes  # spent lately: its reuse still tells
    assert _refused_with(platform, first["refresh_token"], now=utcnow()) == (
        "invalid_refresh_token"
    )  # a replay this late is an unknown token, and the family lives on
    assert _refresh(platform, newest.refresh_token, now=utcnow()).refresh_token


def test_reuse_within_the_window_after_the_successor_was_spent_revokes_the_family(client, platform):
    first = signed_up(platform)
    spent_at = utcnow()
    second = _refresh(platform, first["refresh_token"], now=spent_at)
    third = _refresh(platform, second.refresh_token, now=spent_at + timedelta(seconds=1))
    replay_at = spent_at + timedelta(seconds=2)
    assert _refused_with(platform, first["refresh_token"], now=replay_at) == "refresh_token_reused"
    me = client.get("/v1/me", headers=bearer(third.access_token))
    assert me.get_json()["code"] == "session_revoked"


def test_reusing_a_spent_refresh_token_over_http_after_the_window_is_refused(
    settings, db, platform
):
    platform = Platform.from_settings(replace(settings, refresh_reuse_seconds=0), db=db)
    client = create_app(platform=platform).test_client()
    first = signed_up(platform)
    assert (
        client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code
        == 200
    )
    replay = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert replay.get_json()["code"] == "refresh_token_reused"


def test_unknown_and_expired_refresh_tokens_are_refused(client, platform):
    assert (
        client.post("/v1/auth/refresh", json={"refresh_token": "made-up"}).get_json()["code"]
        == "invalid_refresh_token"
    )
    tokens = signed_up(platform)
    with platform.db.unit_of_work() as session:
        token = session.scalar(
            select(RefreshToken).where(
                RefreshToken.token_hash == hash_token(tokens["refresh_token"])
            )
        )
        token.expires_at = utcnow() - timedelta(seconds=1)
    expired = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert expired.status_code == 401
    assert expired.get_json()["code"] == "invalid_refresh_token"


def test_banned_user_is_refused_at_once_with_reason_and_until(client, platform):
    tokens = signed_up(platform)
    until = utcnow() + timedelta(days=3)
    with platform.db.unit_of_work() as session:
        user = session.get(User, uuid.UUID(tokens["user"]["id"]))
        user.status, user.status_reason, user.status_until = "suspended", "griefing", until
    me = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 403
    body = me.get_json()
    assert body["code"] == "account_banned"
    assert body["reason"] == "griefing"
    assert body["until"] == until.isoformat()
    refresh = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 403


def test_a_suspension_that_has_run_out_lets_the_player_back(client, platform):
    tokens = signed_up(platform)
    with platform.db.unit_of_work() as session:
        user = session.get(User, uuid.UUID(tokens["user"]["id"]))
        user.status, user.status_until = "suspended", utcnow() - timedelta(minutes=1)
    assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 200


def test_sessions_are_listed_and_signed_out_everywhere(client, platform):
    first = signed_up(platform, email="devices@example.com")
    second = login(client, "devices@example.com").get_json()
    listed = client.get("/v1/me/sessions", headers=bearer(second["access_token"])).get_json()
    assert len(listed["items"]) == 2
    assert [item["current"] for item in listed["items"]].count(True) == 1

    out = client.delete("/v1/me/sessions", headers=bearer(second["access_token"]))
    assert out.status_code == 200
    assert out.get_json() == {"revoked": 2}
    for tokens in (first, second):
        assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 401
        assert (
            client.post(
                "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
            ).status_code
            == 401
        )


def test_profile_update_is_audited(client, platform):
    from player_platform.audit.models import AuditLog

    tokens = signed_up(platform, display_name="Before")
    changed = client.patch(
        "/v1/me",
        json={"display_name": "After"},
        headers={**bearer(tokens["access_token"]), "User-Agent": "game/1.0"},
    )
    assert changed.status_code == 200
    assert changed.get_json()["display_name"] == "After"
    with platform.db.unit_of_work() as session:
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "user.update"))
    assert entry.old_values == {"display_name": "Before"}
    assert entry.new_values == {"display_name": "After"}
    assert entry.user_agent == "game/1.0"
    assert entry.ip == "127.0.0.1"
    assert entry.request_id == changed.headers["X-Request-ID"]


def test_repeated_failed_logins_lock_the_account_progressively(client, platform):
    signed_up(platform, email="locked@example.com")
    for _ in range(5):
        assert login(client, "locked@example.com", "wrong").status_code == 401
    locked = login(client, "locked@example.com")  # even the right password
    assert locked.status_code == 429
    assert locked.get_json()["code"] == "account_locked"
    assert 1 <= int(locked.headers["Retry-After"]) <= 61


def test_password_hashing_uses_the_configured_argon2_cost(settings, db):
    Platform.from_settings(replace(settings, password_hash_cost="standard"), db=db)
    assert hash_password("secret").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    Platform.from_settings(settings, db=db)  # the test settings: cheapest
    cheap = hash_password("secret")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert verify_password(cheap, "secret") and not verify_password(cheap, "guess")
