"""Server API keys: shown once, stored hashed, scoped, revocable, audited; authoritative seasons
take scores from them only."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from player_platform.audit.models import AuditLog
from player_platform.security.models import ApiKey
from tests.leaderboards.conftest import submit, top
from tests.support import create_api_key


def server(key: str) -> dict:
    return {"headers": {"Authorization": f"ApiKey {key}"}}


def test_a_key_is_shown_once_stored_hashed_and_audited(client, platform, admin):
    created = create_api_key(client, admin)
    listed = client.get("/v1/admin/api-keys", headers=admin).get_json()["items"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0] and created["key"].startswith(listed[0]["prefix"])
    with platform.db.unit_of_work() as session:
        stored = session.scalar(select(ApiKey))
        actions = session.scalars(select(AuditLog.action)).all()
    assert stored.key_hash == hashlib.sha256(created["key"].encode()).hexdigest()
    assert created["key"] not in str(vars(stored))
    assert "api_key.create" in actions


def test_authoritative_seasons_take_scores_from_server_keys_only(
    client, admin, new_season, new_player
):
    season = new_season(authoritative=True)
    ada = new_player("Ada")
    refused = submit(client, season, ada, 10)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "server_only")
    game_server = server(create_api_key(client, admin)["key"])
    accepted = submit(client, season, game_server, 10, user_id=ada["id"])
    assert accepted.get_json() == {"score": 10, "best": 10, "rank": 1, "previous": None}
    assert top(client, season) == [(1, "Ada", 10)]
    nameless = submit(client, season, game_server, 10)
    assert (nameless.status_code, nameless.get_json()["code"]) == (422, "user_id_required")


def test_a_key_needs_the_scope_and_stops_working_when_revoked(
    client, platform, admin, new_season, new_player
):
    season = new_season(authoritative=True)
    ada = new_player()
    unscoped = server(create_api_key(client, admin, scopes=["grants:write"])["key"])
    response = submit(client, season, unscoped, 1, user_id=ada["id"])
    assert (response.status_code, response.get_json()["code"]) == (403, "missing_scope")

    created = create_api_key(client, admin)
    revoked = client.delete(f"/v1/admin/api-keys/{created['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    response = submit(client, season, server(created["key"]), 1, user_id=ada["id"])
    assert (response.status_code, response.get_json()["code"]) == (401, "invalid_api_key")
    with platform.db.unit_of_work() as session:
        assert "api_key.revoke" in session.scalars(select(AuditLog.action)).all()


def test_players_cannot_manage_keys(client, new_player):
    player = new_player()
    response = client.post(
        "/v1/admin/api-keys",
        json={"name": "x", "scopes": ["leaderboards:write"]},
        headers=player["headers"],
    )
    assert response.status_code == 403


def test_idempotency_keys_of_two_servers_do_not_collide(client, admin, new_season, new_player):
    season = new_season(operator="increment", authoritative=True)
    ada = new_player("Ada")
    url = f"/v1/leaderboards/{season['season_id']}/scores"
    for key in (create_api_key(client, admin)["key"], create_api_key(client, admin)["key"]):
        headers = {"Authorization": f"ApiKey {key}", "Idempotency-Key": "same"}
        assert (
            client.post(url, json={"score": 1, "user_id": ada["id"]}, headers=headers).status_code
            == 200
        )
    assert top(client, season) == [(1, "Ada", 2)]
