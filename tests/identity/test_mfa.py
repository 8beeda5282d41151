"""TOTP: enrolment, sign-in with a code, no replay, and staff rights only with a TOTP sign-in."""

from __future__ import annotations

import uuid

import pyotp
from sqlalchemy import func, select

from player_platform.audit.models import AuditLog
from player_platform.db import utcnow
from player_platform.identity.models import User
from player_platform.identity.service import ensure_admin
from tests.support import PASSWORD, bearer, code_at, enrol, login, signed_up


def test_enrolled_account_needs_a_code_and_a_code_works_once(client, platform):
    tokens = signed_up(platform, email="mfa@example.com")
    secret = enrol(client, tokens["access_token"])

    assert login(client, "mfa@example.com").get_json()["code"] == "otp_required"
    assert login(client, "mfa@example.com", otp="000000").get_json()["code"] == "invalid_otp"
    code = code_at(secret, 1)
    assert login(client, "mfa@example.com", otp=code).status_code == 200
    replay = login(client, "mfa@example.com", otp=code)
    assert replay.status_code == 401
    assert replay.get_json()["code"] == "invalid_otp"


def test_the_enrolment_code_cannot_be_replayed_at_sign_in(client, platform):
    tokens = signed_up(platform, email="replay@example.com")
    enrolment = client.post("/v1/me/mfa/totp", headers=bearer(tokens["access_token"])).get_json()
    code = pyotp.TOTP(enrolment["secret"]).now()
    client.post(
        "/v1/me/mfa/totp/verify", json={"otp": code}, headers=bearer(tokens["access_token"])
    )
    assert login(client, "replay@example.com", otp=code).get_json()["code"] == "invalid_otp"


def test_wrong_code_does_not_enable_and_secret_is_sealed_at_rest(client, platform):
    tokens = signed_up(platform)
    body = client.post("/v1/me/mfa/totp", headers=bearer(tokens["access_token"])).get_json()
    wrong = client.post(
        "/v1/me/mfa/totp/verify", json={"otp": "123456"}, headers=bearer(tokens["access_token"])
    )
    assert wrong.status_code == 422
    assert wrong.get_json()["code"] == "invalid_otp"
    with platform.db.unit_of_work() as session:
        user = session.get(User, uuid.UUID(tokens["user"]["id"]))
        assert user.totp_enabled_at is None
        assert body["secret"] not in user.totp_secret


def test_removing_totp_needs_a_current_code(client, platform):
    tokens = signed_up(platform, email="remove@example.com")
    secret = enrol(client, tokens["access_token"])
    headers = bearer(tokens["access_token"])
    assert (
        client.delete("/v1/me/mfa/totp", json={"otp": "000000"}, headers=headers).status_code == 422
    )
    assert (
        client.delete(
            "/v1/me/mfa/totp", json={"otp": code_at(secret, 1)}, headers=headers
        ).status_code
        == 204
    )
    assert login(client, "remove@example.com").status_code == 200


def test_staff_rights_need_a_sign_in_with_a_totp_code(client, platform):
    with platform.db.unit_of_work() as session:
        ensure_admin(session, email="boss@example.com", password=PASSWORD, now=utcnow())
    plain = login(client, "boss@example.com").get_json()
    refused = client.get("/v1/admin/audit-logs", headers=bearer(plain["access_token"]))
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "mfa_required"

    secret = enrol(client, plain["access_token"])
    strong = login(client, "boss@example.com", otp=code_at(secret, 1)).get_json()
    allowed = client.get("/v1/admin/audit-logs", headers=bearer(strong["access_token"]))
    assert allowed.status_code == 200
    actions = [entry["action"] for entry in allowed.get_json()["items"]]
    assert {"admin.bootstrap", "mfa.enrol", "mfa.enable"} <= set(actions)
    # A refreshed token keeps the second factor of the sign-in it came from.
    refreshed = client.post(
        "/v1/auth/refresh", json={"refresh_token": strong["refresh_token"]}
    ).get_json()
    assert (
        client.get("/v1/admin/audit-logs", headers=bearer(refreshed["access_token"])).status_code
        == 200
    )


def test_players_are_forbidden_from_admin_routes(client, platform):
    tokens = signed_up(platform)
    response = client.get("/v1/admin/audit-logs", headers=bearer(tokens["access_token"]))
    assert response.status_code == 403
    assert response.get_json()["code"] == "forbidden"


def test_bootstrap_admin_is_idempotent(platform):
    for _ in range(3):
        with platform.db.unit_of_work() as session:
            ensure_admin(session, email="Root@Example.com", password=PASSWORD, now=utcnow())
    with platform.db.unit_of_work() as session:
        admins = session.scalars(select(User)).all()
        audit_count = session.scalar(select(func.count()).select_from(AuditLog))
    assert len(admins) == 1
    assert admins[0].has_role("moderator") and "admin" in admins[0].roles
    assert audit_count == 1
