"""A `best` submission that does not beat the player's entry writes nothing (no row version, no
commit) and still answers the rank, best and previous score a write would have; without the
index (a flushed Redis) PostgreSQL answers the same; a removed entry is still refused."""

from __future__ import annotations

from sqlalchemy import text

from tests.leaderboards.conftest import submit, top
from tests.support import bearer, staff_tokens


def row_version(platform, season: dict, player: dict) -> tuple[str, int]:
    """The physical row (ctid: a new one for every UPDATE) and the version of an entry."""
    with platform.db.unit_of_work() as session:
        row = session.execute(
            text(
                "SELECT e.ctid::text AS ctid, e.version FROM leaderboard_entries e"
                " JOIN seasons s ON s.id = e.season_id"
                " WHERE s.season_id = :season AND e.user_id = :user"
            ),
            {"season": season["season_id"], "user": player["id"]},
        ).one()
    return row.ctid, row.version


def test_a_submission_that_does_not_beat_the_best_writes_no_row_version(
    client, platform, new_season, new_player
):
    season = new_season(operator="best")
    ada, bob, cy = new_player("Ada"), new_player("Bob"), new_player("Cy")
    submit(client, season, ada, 300)
    submit(client, season, bob, 100)
    submit(client, season, cy, 50)
    before = row_version(platform, season, bob)

    for score in (99, 100):  # lower, then level: neither is better
        answer = submit(client, season, bob, score)
        assert answer.status_code == 200
        assert answer.get_json() == {"score": score, "best": 100, "rank": 2, "previous": 100}
    assert row_version(platform, season, bob) == before

    better = submit(client, season, bob, 400)
    assert better.get_json() == {"score": 400, "best": 400, "rank": 1, "previous": 100}
    assert row_version(platform, season, bob)[1] == before[1] + 1
    assert top(client, season) == [(1, "Bob", 400), (2, "Ada", 300), (3, "Cy", 50)]


def test_a_level_score_keeps_the_tie_with_whoever_reached_it_first(
    client, platform, new_season, new_player
):
    season = new_season(operator="best")
    ada, bob = new_player("Ada"), new_player("Bob")
    submit(client, season, ada, 70)
    submit(client, season, bob, 70)
    again = submit(client, season, bob, 70)
    assert again.get_json() == {"score": 70, "best": 70, "rank": 2, "previous": 70}
    assert top(client, season) == [(1, "Ada", 70), (2, "Bob", 70)]


def test_ascending_boards_skip_higher_scores_and_write_lower_ones(
    client, platform, new_season, new_player
):
    season = new_season(operator="best", sort="asc")
    ada = new_player("Ada")
    submit(client, season, ada, 60)
    before = row_version(platform, season, ada)
    slower = submit(client, season, ada, 75)
    assert slower.get_json() == {"score": 75, "best": 60, "rank": 1, "previous": 60}
    assert row_version(platform, season, ada) == before
    faster = submit(client, season, ada, 40)
    assert faster.get_json() == {"score": 40, "best": 40, "rank": 1, "previous": 60}


def test_with_the_index_flushed_postgresql_answers_the_same(
    client, platform, redis, new_season, new_player
):
    season = new_season(operator="best")
    ada, bob = new_player("Ada"), new_player("Bob")
    submit(client, season, ada, 300)
    submit(client, season, bob, 100)
    redis.flushdb()
    answer = submit(client, season, bob, 80)
    assert answer.get_json() == {"score": 80, "best": 100, "rank": 2, "previous": 100}
    assert top(client, season) == [(1, "Ada", 300), (2, "Bob", 100)]


def test_a_removed_entry_refuses_a_score_below_its_old_best(
    client, platform, new_season, new_player
):
    season = new_season(operator="best")
    cheat = new_player("Cheat")
    submit(client, season, cheat, 999)
    moderator = bearer(staff_tokens(platform, role="moderator")["access_token"])
    client.delete(
        f"/v1/moderation/leaderboards/{season['season_id']}/entries/{cheat['id']}",
        json={"reason": "cheating"},
        headers=moderator,
    )
    refused = submit(client, season, cheat, 5)
    assert (refused.status_code, refused.get_json()["code"]) == (403, "entry_removed")
