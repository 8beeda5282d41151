"""The cached hot path keeps the rules: a cached season follows an admin change, cached names
follow a display-name change and come back after the names hash is lost, metadata beyond 64 bits
survives the cache, and a warm read runs no SQL at all."""

from __future__ import annotations

import uuid

from sqlalchemy import event

from player_platform.db import utcnow
from player_platform.jobs import Jobs
from player_platform.leaderboards.index import (
    Board,
    Change,
    LeaderboardIndex,
    decode_info,
    encode_info,
)
from tests.leaderboards.conftest import submit, top
from tests.support import bearer, staff_tokens


def test_a_season_change_is_seen_by_the_next_submission(client, admin, new_season, new_player):
    season = new_season(max_score=1000)
    ada = new_player("Ada")
    assert submit(client, season, ada, 900).status_code == 200  # the season is now cached
    changed = client.patch(
        f"/v1/admin/seasons/{season['season_id']}", json={"max_score": 100}, headers=admin
    )
    assert changed.status_code == 200, changed.get_json()
    refused = submit(client, season, ada, 950)
    assert (refused.status_code, refused.get_json()["code"]) == (422, "score_out_of_bounds")


def test_names_follow_a_display_name_change(client, new_season, new_player):
    season = new_season()
    ada, bob = new_player("Ada"), new_player("Bob")
    submit(client, season, ada, 20)
    submit(client, season, bob, 10)
    assert top(client, season) == [(1, "Ada", 20), (2, "Bob", 10)]  # names now cached
    renamed = client.patch("/v1/me", json={"display_name": "Ada L."}, headers=ada["headers"])
    assert renamed.status_code == 200
    assert top(client, season) == [(1, "Ada L.", 20), (2, "Bob", 10)]
    around = client.get(f"/v1/leaderboards/{season['season_id']}/around/{bob['id']}")
    assert [i["display_name"] for i in around.get_json()["items"]] == ["Ada L.", "Bob"]


def test_names_missing_from_the_index_are_loaded_once_and_kept(
    client, redis, engine, new_season, new_player
):
    season = new_season()
    players = [new_player(f"P{i}") for i in range(3)]
    for i, player in enumerate(players):
        submit(client, season, player, 10 + i)
    for key in redis.keys("pp:{lb:*}:n"):
        redis.delete(key)  # as after a names hash expired
    assert [n for _, n, _ in top(client, season)] == ["P2", "P1", "P0"]

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert [n for _, n, _ in top(client, season)] == ["P2", "P1", "P0"]
        around = client.get(f"/v1/leaderboards/{season['season_id']}/around/{players[0]['id']}")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [i["display_name"] for i in around.get_json()["items"]] == ["P2", "P1", "P0"]
    assert statements == []  # a warm read: the index and the cached season, no SQL


def test_metadata_comes_from_the_index_after_a_submission(client, new_season, new_player):
    season = new_season()
    ada = new_player("Ada")
    submit(client, season, ada, 5, metadata={"car": "red"})
    submit(client, season, ada, 9, metadata={"car": "blue", "big": 2**70})
    items = client.get(f"/v1/leaderboards/{season['season_id']}").get_json()["items"]
    assert [(i["display_name"], i["score"], i["metadata"]) for i in items] == [
        ("Ada", 9, {"car": "blue", "big": 2**70})
    ]


def test_the_batched_index_update_survives_a_redis_that_lost_its_scripts(redis, db):
    index = LeaderboardIndex(redis, Jobs(redis, inline=True), db)
    board = Board(uuid.uuid4(), "", True)
    redis.set(board.ready, 1)
    ada, bob = uuid.uuid4(), uuid.uuid4()
    redis.script_flush()  # as after a restart of Redis
    ranks = index.apply_all(
        [
            (board, Change(ada, 1, 10, utcnow(), encode_info("Ada", None))),
            (board, Change(bob, 1, 20, utcnow(), encode_info("Bob", {"k": 1}))),
        ]
    )
    assert ranks == [1, 1]  # each rank as of its own change
    placings, infos = index.top(board, offset=0, limit=10)
    assert [(p.rank, p.user_id, p.score) for p in placings] == [(1, bob, 20), (2, ada, 10)]
    assert [decode_info(i) for i in infos] == [("Bob", {"k": 1}), ("Ada", None)]


def test_a_ban_or_sign_out_stops_submissions_and_standings_at_once(
    client, platform, new_season, new_player
):
    season = new_season()
    ada, bob = new_player("Ada"), new_player("Bob")
    me = f"/v1/leaderboards/{season['season_id']}/me"
    assert submit(client, season, ada, 10).status_code == 200
    assert client.get(me, headers=ada["headers"]).get_json()["rank"] == 1
    moderator = staff_tokens(platform, role="moderator")
    banned = client.post(
        f"/v1/admin/users/{ada['id']}/ban",
        json={"reason": "cheating"},
        headers=bearer(moderator["access_token"]),
    )
    assert banned.status_code == 200, banned.get_json()
    for answer in (submit(client, season, ada, 20), client.get(me, headers=ada["headers"])):
        assert (answer.status_code, answer.get_json()["code"]) == (403, "account_banned")

    assert submit(client, season, bob, 5).status_code == 200
    assert client.post("/v1/auth/logout", headers=bob["headers"]).status_code == 204
    for answer in (submit(client, season, bob, 30), client.get(me, headers=bob["headers"])):
        assert (answer.status_code, answer.get_json()["code"]) == (401, "session_revoked")
