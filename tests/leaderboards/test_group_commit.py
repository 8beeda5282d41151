"""Group commit of submissions (batch.py): only committed scores are acknowledged, operators
stay exact under concurrency, a refused submission fails alone, a player twice in a batch goes in
two rounds, Idempotency-Key submissions keep their own transaction. These run on the live
database (real commits, another thread writes)."""

from __future__ import annotations

import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select

from blueprints.leaderboards import group_commit
from player_platform.app import create_app
from player_platform.db import utcnow
from player_platform.leaderboards.batch import Pending, _rounds
from player_platform.leaderboards.models import LeaderboardEntry, Season
from tests.leaderboards.conftest import submit, top


@pytest.fixture
def platform(live_platform):
    return live_platform


@pytest.fixture
def client(live_platform):
    return create_app(platform=live_platform).test_client()


def entries(platform, season: dict) -> dict[str, tuple[int, int]]:
    """user id -> (score, submissions), as PostgreSQL holds them."""
    with platform.db.unit_of_work() as session:
        rows = session.execute(
            select(LeaderboardEntry.user_id, LeaderboardEntry.score, LeaderboardEntry.submissions)
            .join(Season, Season.id == LeaderboardEntry.season_id)
            .where(Season.season_id == season["season_id"])
        ).all()
    return {str(r.user_id): (r.score, r.submissions) for r in rows}


def hammer(url: str, jobs: list[tuple[dict, int]]) -> list[tuple[dict, int, dict]]:
    """POST every (player, score) from 8 threads at once; (player, score, answer) for each."""

    def send(job: tuple[dict, int]) -> tuple[dict, int, dict]:
        player, score = job
        with requests.post(url, json={"score": score}, headers=player["headers"]) as answer:
            assert answer.status_code == 200, answer.text
            return player, score, answer.json()

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(send, jobs))


def test_the_live_app_writes_through_group_commit(live_platform):
    app = create_app(platform=live_platform)
    with app.app_context():
        assert group_commit() is not None


def test_group_commit_keeps_increment_exact_and_acknowledges_only_committed_scores(
    live_server, live_platform, client, new_season, new_player
):
    season = new_season(operator="increment")
    players = [new_player(f"P{i}") for i in range(5)]
    jobs = [(p, random.randint(1, 9)) for p in players for _ in range(12)]
    random.shuffle(jobs)
    answers = hammer(f"{live_server}/v1/leaderboards/{season['season_id']}/scores", jobs)

    stored = entries(live_platform, season)
    for player in players:
        sent = [s for p, s, _ in answers if p is player]
        assert stored[player["id"]] == (sum(sent), len(sent))
        # each acknowledgement saw a committed total: all distinct, the largest is the sum
        bests = sorted(a["best"] for p, _, a in answers if p is player)
        assert len(set(bests)) == len(bests) and bests[-1] == sum(sent)
    by_score = sorted(((s, u) for u, (s, _) in stored.items()), reverse=True)
    board = top(client, season)
    assert [s for _, _, s in board] == [s for s, _ in by_score]
    assert [r for r, _, _ in board] == [1, 2, 3, 4, 5]


def test_group_commit_keeps_best_and_previous_exact_under_concurrency(
    live_server, live_platform, new_season, new_player
):
    season = new_season(operator="best", sort="asc")
    players = [new_player(f"P{i}") for i in range(4)]
    jobs = [(p, random.randint(1, 10_000)) for p in players for _ in range(10)]
    answers = hammer(f"{live_server}/v1/leaderboards/{season['season_id']}/scores", jobs)
    stored = entries(live_platform, season)
    for player in players:
        sent = [s for p, s, _ in answers if p is player]
        best, written = stored[player["id"]]
        assert best == min(sent)
        # a submission that does not beat the best writes nothing (the row counts the writes)
        assert 1 <= written <= len(sent)
        for _, score, answer in (a for a in answers if a[0] is player):
            assert answer["score"] == score and answer["best"] <= score
            assert answer["previous"] is None or answer["best"] <= answer["previous"]


def test_a_refused_submission_fails_alone_in_its_batch(
    live_server, live_platform, client, new_season, new_player
):
    season = new_season(operator="latest", max_score=100)
    ada, bob = new_player("Ada"), new_player("Bob")
    assert submit(client, season, ada, 10).status_code == 200
    url = f"{live_server}/v1/leaderboards/{season['season_id']}/scores"
    results: list[int] = []
    lock = threading.Lock()

    def send(player: dict, score: int) -> None:
        status = requests.post(url, json={"score": score}, headers=player["headers"]).status_code
        with lock:
            results.append(status)

    threads = [threading.Thread(target=send, args=(bob, 5 + i)) for i in range(6)]
    threads.append(threading.Thread(target=send, args=(ada, 1000)))  # above max_score: 422
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200] * 6 + [422]
    assert entries(live_platform, season)[ada["id"]] == (10, 1)


def test_a_player_twice_in_one_batch_goes_in_two_rounds_in_arrival_order():
    season = SimpleNamespace(id=uuid.uuid4())
    ada, bob = uuid.uuid4(), uuid.uuid4()
    first, other, second = (
        Pending(season, user, "", score, None, "n", utcnow())  # type: ignore[arg-type]
        for user, score in ((ada, 1), (bob, 3), (ada, 2))
    )
    assert _rounds([first, other, second]) == [[first, other], [second]]


def test_an_idempotent_submission_replays_from_its_own_transaction(client, new_season, new_player):
    season = new_season(operator="increment")
    ada = new_player("Ada")
    headers = {**ada["headers"], "Idempotency-Key": "k-1"}
    url = f"/v1/leaderboards/{season['season_id']}/scores"
    first = client.post(url, json={"score": 3}, headers=headers)
    again = client.post(url, json={"score": 3}, headers=headers)
    assert (
        first.get_json()
        == again.get_json()
        == {
            "score": 3,
            "best": 3,
            "rank": 1,
            "previous": None,
        }
    )
    assert again.headers.get("Idempotent-Replayed") == "true"
