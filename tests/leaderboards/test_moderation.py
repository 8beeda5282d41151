"""Moderators take a score off a board: it leaves every listing, the player cannot come back
until restored, and both actions are audited."""

from __future__ import annotations

from sqlalchemy import select

from player_platform.audit.models import AuditLog
from tests.leaderboards.conftest import submit, top
from tests.support import bearer, staff_tokens


def test_a_removed_score_leaves_the_board_and_cannot_come_back(
    client, platform, new_season, new_player
):
    season = new_season()
    cheat, ada, bob = new_player("Cheat"), new_player("Ada"), new_player("Bob")
    submit(client, season, cheat, 999)
    submit(client, season, ada, 50)
    submit(client, season, bob, 40)
    moderator = bearer(staff_tokens(platform, role="moderator")["access_token"])
    url = f"/v1/moderation/leaderboards/{season['season_id']}/entries/{cheat['id']}"

    removed = client.delete(url, json={"reason": "speed hack"}, headers=moderator)
    assert removed.status_code == 200
    assert removed.get_json()["removal_reason"] == "speed hack"
    assert top(client, season) == [(1, "Ada", 50), (2, "Bob", 40)]
    me = client.get(f"/v1/leaderboards/{season['season_id']}/me", headers=cheat["headers"])
    assert me.get_json()["code"] == "not_ranked"
    again = submit(client, season, cheat, 1000)
    assert (again.status_code, again.get_json()["code"]) == (403, "entry_removed")
    assert top(client, season) == [(1, "Ada", 50), (2, "Bob", 40)]

    restored = client.post(url + "/restore", headers=moderator)
    assert restored.status_code == 200
    assert top(client, season)[0] == (1, "Cheat", 999)
    with platform.db.unit_of_work() as session:
        logged = session.execute(
            select(AuditLog.action, AuditLog.new_values).where(
                AuditLog.resource_type == "leaderboard_entry"
            )
        ).all()
    assert [a for a, _ in logged].count("leaderboard.entry.remove") == 1
    assert {"removed": True, "reason": "speed hack"} in [n for _, n in logged]
    assert "leaderboard.entry.restore" in [a for a, _ in logged]


def test_a_removal_survives_a_rebuild_of_the_index(client, platform, redis, new_season, new_player):
    season = new_season()
    cheat, ada = new_player("Cheat"), new_player("Ada")
    submit(client, season, cheat, 999)
    submit(client, season, ada, 1)
    moderator = bearer(staff_tokens(platform, role="moderator")["access_token"])
    client.delete(
        f"/v1/moderation/leaderboards/{season['season_id']}/entries/{cheat['id']}",
        json={"reason": "cheating"},
        headers=moderator,
    )
    redis.flushdb()
    assert top(client, season) == [(1, "Ada", 1)]


def test_players_cannot_remove_scores(client, new_season, new_player):
    season = new_season()
    ada, bob = new_player(), new_player()
    submit(client, season, bob, 5)
    response = client.delete(
        f"/v1/moderation/leaderboards/{season['season_id']}/entries/{bob['id']}",
        json={"reason": "I don't like Bob"},
        headers=ada["headers"],
    )
    assert response.status_code == 403
