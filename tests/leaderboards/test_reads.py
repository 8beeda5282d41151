"""Reading boards: pages, around, me — the same ranks everywhere, and still the same ranks
when Redis lost the index (served from PostgreSQL, then rebuilt by one job)."""

from __future__ import annotations

import uuid

from rq import SimpleWorker

from player_platform.leaderboards.models import Season
from tests.leaderboards.conftest import submit, top


def seed(client, season, new_player, scores):
    players = []
    for i, score in enumerate(scores):
        player = new_player(f"P{i}")
        submit(client, season, player, score)
        players.append(player)
    return players


def all_pages(client, season, limit):
    items, cursor = [], None
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"/v1/leaderboards/{season['season_id']}", query_string=query).get_json()
        items += [(i["rank"], i["display_name"], i["score"]) for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def around(client, season, player, radius):
    response = client.get(
        f"/v1/leaderboards/{season['season_id']}/around/{player['id']}",
        query_string={"radius": radius},
    )
    assert response.status_code == 200, response.get_json()
    return [(i["rank"], i["display_name"], i["score"]) for i in response.get_json()["items"]]


def test_pages_around_and_me_agree_on_every_rank(client, new_season, new_player):
    season = new_season()
    players = seed(client, season, new_player, [30, 10, 50, 20, 40, 60, 0])
    board = top(client, season, limit=100)
    assert [s for _, _, s in board] == [60, 50, 40, 30, 20, 10, 0]
    assert all_pages(client, season, limit=3) == board
    assert around(client, season, players[0], 2) == board[1:6]  # P0 (30) is 4th
    assert around(client, season, players[5], 1) == board[0:2]  # the top has nobody above
    me = client.get(f"/v1/leaderboards/{season['season_id']}/me", headers=players[0]["headers"])
    assert me.get_json() == {
        "rank": 4,
        "user_id": players[0]["id"],
        "display_name": "P0",
        "score": 30,
        "metadata": None,
    }


def test_metadata_and_names_come_with_the_ranks(client, new_season, new_player):
    season = new_season()
    ada = new_player("Ada")
    submit(client, season, ada, 3, metadata={"map": "dust", "kills": 3})
    item = client.get(f"/v1/leaderboards/{season['season_id']}").get_json()["items"][0]
    assert item["metadata"] == {"map": "dust", "kills": 3}
    assert item["display_name"] == "Ada"


def test_unranked_players_and_bad_cursors_are_told_so(client, new_season, new_player):
    season = new_season()
    nobody = new_player()
    me = client.get(f"/v1/leaderboards/{season['season_id']}/me", headers=nobody["headers"])
    assert (me.status_code, me.get_json()["code"]) == (404, "not_ranked")
    stranger = client.get(f"/v1/leaderboards/{season['season_id']}/around/{uuid.uuid4()}")
    assert stranger.status_code == 404
    bad = client.get(f"/v1/leaderboards/{season['season_id']}", query_string={"cursor": "x!"})
    assert (bad.status_code, bad.get_json()["code"]) == (422, "invalid_cursor")


def test_after_a_flush_reads_are_the_same_and_one_job_rebuilds(
    client, platform, redis, new_season, new_player
):
    season = new_season()
    players = seed(client, season, new_player, [5, 9, 9, 1, 7])
    before = top(client, season)
    before_around = around(client, season, players[0], 1)

    redis.flushdb()
    assert top(client, season) == before  # from PostgreSQL
    assert around(client, season, players[0], 1) == before_around
    queue = platform.jobs.queue("leaderboard_update")
    assert queue.count == 1  # several reads noticed; one rebuild was scheduled
    # A score that arrives while the index is missing still counts, and ranks right.
    late = new_player("Late")
    assert submit(client, season, late, 8).get_json()["rank"] == 3

    SimpleWorker([queue], connection=platform.redis).work(burst=True)
    index = platform.leaderboards
    with platform.db.unit_of_work() as session:
        season_uuid = session.query(Season.id).filter_by(season_id=season["season_id"]).scalar()
    assert index.is_ready(season_uuid)
    after = top(client, season)
    assert [r for r in after if r[1] != "Late"] == [
        (r + (1 if r >= 3 else 0), n, s) for r, n, s in before
    ]
    assert (3, "Late", 8) in after


def test_every_key_of_a_season_shares_one_hash_tag(client, redis, new_season, new_player):
    season = new_season()
    seed(client, season, new_player, [1, 2])
    keys = [k.decode() for k in redis.keys("pp:{lb:*")]
    tags = {k[k.index("{") + 1 : k.index("}")] for k in keys}
    assert len(keys) >= 3 and len(tags) == 1
