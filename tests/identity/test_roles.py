"""Admins give accounts their roles: audited, and the account's old tokens stop at once."""

from __future__ import annotations

from sqlalchemy import select

from player_platform.audit.models import AuditLog
from tests.support import bearer, login, signed_up, staff_tokens


def set_roles(client, staff, user_id, roles):
    return client.put(
        f"/v1/admin/users/{user_id}/roles",
        json={"roles": roles},
        headers=bearer(staff["access_token"]),
    )


def test_an_admin_makes_a_player_a_reseller_and_the_old_token_stops(client, platform):
    admin = staff_tokens(platform, role="admin")
    player = signed_up(platform)
    given = set_roles(client, admin, player["user"]["id"], ["reseller"])
    assert given.status_code == 200, given.get_json()
    assert sorted(given.get_json()["roles"]) == ["player", "reseller"]
    assert client.get("/v1/me", headers=bearer(player["access_token"])).status_code == 401
    again = login(client, player["email"])
    assert again.get_json()["user"]["roles"] == ["player", "reseller"]
    with platform.db.unit_of_work() as session:
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "user.roles")).all()
        assert entry.old_values == {"roles": ["player"]}
        assert entry.new_values == {"roles": ["player", "reseller"], "sessions_ended": 1}
        assert entry.actor_id is not None and entry.ip is not None
    unchanged = set_roles(client, admin, player["user"]["id"], ["reseller"])
    assert unchanged.status_code == 200
    assert client.get("/v1/me", headers=bearer(again.get_json()["access_token"])).status_code == 200


def test_only_admins_give_roles_and_never_drop_their_own_admin_role(client, platform):
    moderator = staff_tokens(platform, role="moderator")
    admin = staff_tokens(platform, role="admin")
    player = signed_up(platform)
    refused = set_roles(client, moderator, player["user"]["id"], ["moderator"])
    assert refused.status_code == 403
    own = set_roles(client, admin, admin["user"]["id"], ["moderator"])
    assert (own.status_code, own.get_json()["code"]) == (409, "own_admin_role")
    unknown = set_roles(client, admin, player["user"]["id"], ["god"])
    assert (unknown.status_code, unknown.get_json()["code"]) == (422, "validation_error")
    with platform.db.unit_of_work() as session:
        assert session.scalars(select(AuditLog).where(AuditLog.action == "user.roles")).all() == []
