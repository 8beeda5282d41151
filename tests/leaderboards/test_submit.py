"""Submitting scores: operators, sort orders, ties, the season window, bounds, the 64-bit range,
regional boards and Idempotency-Key."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from player_platform.db import utcnow
from player_platform.leaderboards.index import SCORE_MAX, SCORE_MIN
from tests.leaderboards.conftest import submit, top


def test_best_keeps_the_highest_score_and_reports_previous_and_rank(client, new_season, new_player):
    season = new_season(operator="best")
    ada, bob = new_player("Ada"), new_player("Bob")
    assert submit(client, season, ada, 100).get_json() == {
        "score": 100,
        "best": 100,
        "rank": 1,
        "previous": None,
    }
    assert submit(client, season, bob, 150).get_json()["rank"] == 1
    assert submit(client, season, ada, 90).get_json() == {
        "score": 90,
        "best": 100,
        "rank": 2,
        "previous": 100,
    }
    assert submit(client, season, ada, 200).get_json() == {
        "score": 200,
        "best": 200,
        "rank": 1,
        "previous": 100,
    }
    assert top(client, season) == [(1, "Ada", 200), (2, "Bob", 150)]


def test_latest_replaces_even_with_a_worse_score(client, new_season, new_player):
    season = new_season(operator="latest")
    ada, bob = new_player("Ada"), new_player("Bob")
    submit(client, season, ada, 500)
    submit(client, season, bob, 300)
    assert submit(client, season, ada, 100).get_json() == {
        "score": 100,
        "best": 100,
        "rank": 2,
        "previous": 500,
    }
    assert top(client, season) == [(1, "Bob", 300), (2, "Ada", 100)]


def test_increment_adds_up(client, new_season, new_player):
    season = new_season(operator="increment")
    ada = new_player("Ada")
    for points in (5, 7, -2):
        submit(client, season, ada, points)
    assert top(client, season) == [(1, "Ada", 10)]


def test_ascending_boards_rank_the_lowest_first(client, new_season, new_player):
    season = new_season(sort="asc", operator="best")
    ada, bob = new_player("Ada"), new_player("Bob")
    submit(client, season, ada, 61_000)
    submit(client, season, bob, 59_500)
    assert submit(client, season, ada, 70_000).get_json()["best"] == 61_000  # slower: kept
    assert top(client, season) == [(1, "Bob", 59_500), (2, "Ada", 61_000)]


def test_ties_go_to_whoever_reached_the_score_first(client, new_season, new_player):
    season = new_season(operator="best")
    first, second, third = new_player("First"), new_player("Second"), new_player("Third")
    submit(client, season, second, 10)  # reaches 10 before it is a tie
    submit(client, season, first, 50)
    submit(client, season, second, 50)
    submit(client, season, third, 50)
    submit(client, season, first, 50)  # the same score again does not move First back
    assert top(client, season) == [(1, "First", 50), (2, "Second", 50), (3, "Third", 50)]
    me = client.get(f"/v1/leaderboards/{season['season_id']}/me", headers=third["headers"])
    assert me.get_json()["rank"] == 3


def test_latest_keeps_the_time_a_repeated_score_was_first_reached(client, new_season, new_player):
    season = new_season(operator="latest")
    ada, bob = new_player("Ada"), new_player("Bob")
    submit(client, season, ada, 7)
    submit(client, season, bob, 7)
    submit(client, season, ada, 7)
    assert top(client, season) == [(1, "Ada", 7), (2, "Bob", 7)]


def test_the_whole_signed_64_bit_range_ranks_exactly(client, new_season, new_player):
    season = new_season()
    scores = {
        "max": SCORE_MAX,
        "max-1": SCORE_MAX - 1,
        "zero": 0,
        "min+1": SCORE_MIN + 1,
        "min": SCORE_MIN,
        "2^53+1": 2**53 + 1,
        "2^53": 2**53,
    }
    for name, score in scores.items():
        assert submit(client, season, new_player(name), score).status_code == 200
    expected = sorted(scores.items(), key=lambda kv: -kv[1])
    assert top(client, season) == [(i + 1, n, s) for i, (n, s) in enumerate(expected)]
    for outside in (SCORE_MAX + 1, SCORE_MIN - 1, 1.5, "12"):
        response = submit(client, season, new_player(), outside)
        assert response.status_code == 422
        assert response.get_json()["code"] == "validation_error"


def test_increment_cannot_overflow_64_bits(client, new_season, new_player):
    season = new_season(operator="increment")
    ada = new_player()
    submit(client, season, ada, SCORE_MAX - 1)
    response = submit(client, season, ada, 2)
    assert response.status_code == 422
    assert response.get_json()["code"] == "score_out_of_bounds"
    assert submit(client, season, ada, 1).get_json()["best"] == SCORE_MAX


@pytest.mark.parametrize(
    ("start", "end"),
    [(timedelta(minutes=5), timedelta(hours=1)), (-timedelta(hours=2), -timedelta(hours=1))],
)
def test_outside_the_window_a_season_refuses_scores(client, new_season, new_player, start, end):
    now = utcnow()
    season = new_season(start_date=(now + start).isoformat(), end_date=(now + end).isoformat())
    response = submit(client, season, new_player(), 1)
    assert response.status_code == 409
    assert response.get_json()["code"] == "season_closed"


def test_bounds_and_max_increase_are_enforced(client, new_season, new_player):
    season = new_season(min_score=0, max_score=1000, max_increase=100)
    ada = new_player()
    for score in (-1, 1001):
        response = submit(client, season, ada, score)
        assert (response.status_code, response.get_json()["code"]) == (422, "score_out_of_bounds")
    assert submit(client, season, ada, 100).status_code == 200
    jump = submit(client, season, ada, 201)
    assert (jump.status_code, jump.get_json()["code"]) == (422, "score_out_of_bounds")
    assert submit(client, season, ada, 200).get_json()["best"] == 200


def test_max_increase_limits_each_increment(client, new_season, new_player):
    season = new_season(operator="increment", max_increase=10)
    ada = new_player()
    assert submit(client, season, ada, 11).get_json()["code"] == "score_out_of_bounds"
    assert submit(client, season, ada, 10).get_json()["best"] == 10


def test_players_cannot_name_another_player(client, new_season, new_player):
    season = new_season()
    ada, bob = new_player(), new_player()
    response = submit(client, season, ada, 5, user_id=bob["id"])
    assert (response.status_code, response.get_json()["code"]) == (422, "user_id_not_allowed")


def test_anonymous_submission_is_refused(client, new_season):
    season = new_season()
    response = client.post(f"/v1/leaderboards/{season['season_id']}/scores", json={"score": 1})
    assert response.status_code == 401


def test_unknown_season_is_404(client, new_player):
    response = submit(client, {"season_id": "nope"}, new_player(), 1)
    assert (response.status_code, response.get_json()["code"]) == (404, "season_not_found")


def test_an_idempotency_key_makes_a_retried_increment_harmless(client, new_season, new_player):
    season = new_season(operator="increment")
    ada = new_player("Ada")
    headers = {**ada["headers"], "Idempotency-Key": "match-42"}
    url = f"/v1/leaderboards/{season['season_id']}/scores"
    first = client.post(url, json={"score": 5}, headers=headers)
    again = client.post(url, json={"score": 5}, headers=headers)
    assert (
        first.get_json() == again.get_json() == {"score": 5, "best": 5, "rank": 1, "previous": None}
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    assert top(client, season) == [(1, "Ada", 5)]


def test_regional_boards_rank_each_region_apart(client, new_season, new_player):
    season = new_season(type="regional")
    eu1, eu2, na = (
        new_player("Eu1", region="eu"),
        new_player("Eu2", region="eu"),
        new_player("Na", region="na"),
    )
    homeless = new_player("Nowhere")
    submit(client, season, eu1, 10)
    submit(client, season, eu2, 20)
    assert submit(client, season, na, 5).get_json()["rank"] == 1
    refused = submit(client, season, homeless, 5)
    assert (refused.status_code, refused.get_json()["code"]) == (409, "region_required")
    assert top(client, season, region="eu") == [(1, "Eu2", 20), (2, "Eu1", 10)]
    assert top(client, season, region="na") == [(1, "Na", 5)]
    unnamed = client.get(f"/v1/leaderboards/{season['season_id']}")
    assert (unnamed.status_code, unnamed.get_json()["code"]) == (422, "region_required")
    me = client.get(f"/v1/leaderboards/{season['season_id']}/me", headers=eu1["headers"])
    assert me.get_json()["rank"] == 2


def test_reached_time_has_microsecond_resolution(client, new_season, new_player):
    season = new_season()
    players = [new_player(f"P{i}") for i in range(3)]
    for player in players:
        submit(client, season, player, 1)
        time.sleep(0.001)
    assert [n for _, n, _ in top(client, season)] == ["P0", "P1", "P2"]
