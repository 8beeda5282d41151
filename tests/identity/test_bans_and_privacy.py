"""Moderators ban and unban with immediate effect; players export and erase their data."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from player_platform.audit.models import AuditLog
from player_platform.db import utcnow
from player_platform.identity.models import Identity
from tests.support import bearer, login, signed_up, staff_tokens

ALICE = "76561198000000001"


def ban(client, staff, user_id, **body):
    return client.post(
        f"/v1/admin/users/{user_id}/ban",
        json={"reason": "cheating", **body},
        headers=bearer(staff["access_token"]),
    )


def test_a_ban_stops_tokens_and_refresh_at_once_and_unban_restores(client, platform):
    moderator = staff_tokens(platform, role="moderator")
    player = signed_up(platform)
    banned = ban(client, moderator, player["user"]["id"])
    assert banned.status_code == 200, banned.get_json()
    assert banned.get_json()["status"] == "banned"

    me = client.get("/v1/me", headers=bearer(player["access_token"]))
    assert me.status_code == 403
    assert (me.get_json()["code"], me.get_json()["reason"]) == ("account_banned", "cheating")
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": player["refresh_token"]})
    assert refreshed.status_code == 403
    assert login(client, player["email"]).status_code == 403

    lifted = client.post(
        f"/v1/admin/users/{player['user']['id']}/unban",
        json={"reason": "appeal upheld"},
        headers=bearer(moderator["access_token"]),
    )
    assert lifted.get_json()["status"] == "active"
    assert client.get("/v1/me", headers=bearer(player["access_token"])).status_code == 200
    with platform.db.unit_of_work() as session:
        entries = session.scalars(
            select(AuditLog).where(AuditLog.action.in_(["user.ban", "user.unban"]))
        ).all()
        ban_entry = next(e for e in entries if e.action == "user.ban")
        assert ban_entry.old_values["status"] == "active"
        assert ban_entry.new_values == {"status": "banned", "reason": "cheating", "until": None}
        assert ban_entry.actor_id is not None and ban_entry.ip is not None
        assert len(entries) == 2


def test_a_suspension_shows_until_to_the_player(client, platform):
    moderator = staff_tokens(platform)
    player = signed_up(platform)
    until = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    ban(client, moderator, player["user"]["id"], until=until.isoformat())
    me = client.get("/v1/me", headers=bearer(player["access_token"])).get_json()
    assert (me["account_status"], me["until"]) == ("suspended", until.isoformat())


def test_only_staff_signed_in_with_totp_can_ban(client, platform):
    player, target = signed_up(platform), signed_up(platform)
    assert ban(client, player, target["user"]["id"]).get_json()["code"] == "forbidden"
    moderator = staff_tokens(platform)
    without_totp = login(client, moderator["email"]).status_code
    assert without_totp == 401  # enrolled staff must send a code at all
    past = ban(client, moderator, target["user"]["id"], until="2000-01-01T00:00:00+00:00")
    assert past.status_code == 422
    unknown = ban(client, moderator, "00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
    assert unknown.get_json()["code"] == "user_not_found"


def test_a_moderator_cannot_ban_an_admin(client, platform):
    moderator = staff_tokens(platform, role="moderator")
    admin = staff_tokens(platform, role="admin")
    refused = ban(client, moderator, admin["user"]["id"])
    assert refused.status_code == 403
    assert ban(client, admin, moderator["user"]["id"]).status_code == 200


def test_export_holds_what_is_stored_and_no_secret(client, platform, steam):
    player = signed_up(platform)
    client.post(
        "/v1/me/identities/steam",
        json={"ticket": steam.add_ticket(ALICE)},
        headers=bearer(player["access_token"]),
    )
    exported = client.get("/v1/me/export", headers=bearer(player["access_token"]))
    assert exported.status_code == 200
    data = exported.get_json()
    assert data["user"]["id"] == player["user"]["id"]
    assert {i["provider"] for i in data["identities"]} == {"email", "steam"}
    assert {a["action"] for a in data["activity"]} >= {"user.register", "identity.link"}
    assert len(data["sessions"]) == 1
    text = exported.get_data(as_text=True)
    with platform.db.unit_of_work() as session:
        secret_hash = session.scalar(
            select(Identity.secret_hash).where(Identity.provider == "email")
        )
    for secret in (secret_hash, player["refresh_token"], "argon2"):
        assert secret not in text


def test_erasure_anonymises_frees_identities_and_keeps_the_audit_trail(client, platform, steam):
    player = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(ALICE)}).get_json()
    headers = bearer(player["access_token"])
    client.post(
        "/v1/me/identities/email",
        json={"email": "erase.me@example.com", "password": "a long password"},
        headers=headers,
    )
    erased = client.delete("/v1/me", headers=headers)
    assert erased.status_code == 202
    assert client.get("/v1/me", headers=headers).status_code == 401
    assert login(client, "erase.me@example.com", "a long password").status_code == 401

    again = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(ALICE)}).get_json()
    assert again["user"]["id"] != player["user"]["id"]  # the Steam account is free again
    with platform.db.unit_of_work() as session:
        actions = set(
            session.scalars(
                select(AuditLog.action).where(AuditLog.resource_id == player["user"]["id"])
            )
        )
        assert {"user.register", "identity.link", "user.erase"} <= actions
