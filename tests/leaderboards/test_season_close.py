"""Season end: final standings, rewards (inbox messages) and the reset happen exactly once,
even when several workers close at the same moment. Concurrent submissions lose nothing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select, update

from player_platform.app import create_app
from player_platform.db import utcnow
from player_platform.leaderboards import lifecycle
from player_platform.leaderboards.models import LeaderboardEntry, Season, SeasonReward
from player_platform.messaging.models import Message
from tests import factories
from tests.leaderboards.conftest import submit, top
from workers.leaderboards import close_ended_seasons

REWARDS = [
    {"from_rank": 1, "to_rank": 1, "sku_id": "gold-crown", "quantity": 1},
    {"from_rank": 2, "to_rank": 3, "sku_id": "gems", "quantity": 50},
]


@pytest.fixture
def platform(live_platform):
    return live_platform


@pytest.fixture
def client(live_platform):
    return create_app(platform=live_platform).test_client()


def end_now(platform, season: dict) -> None:
    with platform.db.unit_of_work() as session:
        session.execute(
            update(Season)
            .where(Season.season_id == season["season_id"])
            .values(end_date=utcnow() - timedelta(seconds=1))
        )


def played(client, platform, new_season, new_player, reset_rule: str) -> dict:
    season = new_season(reset_rule=reset_rule, rewards=REWARDS)
    for name, score in [("Ada", 50), ("Bob", 40), ("Cy", 30), ("Di", 20), ("Ed", 10)]:
        submit(client, season, new_player(name), score)
    end_now(platform, season)
    return season


def test_closing_concurrently_closes_once_and_pays_each_reward_once(
    client, platform, new_season, new_player
):
    season = played(client, platform, new_season, new_player, "archive")
    with platform.db.unit_of_work() as session:
        season_uuid = session.scalar(
            select(Season.id).where(Season.season_id == season["season_id"])
        )
    index = platform.leaderboards
    start = threading.Barrier(6)

    def close() -> bool:
        start.wait()
        with platform.db.unit_of_work() as session:
            return lifecycle.close_season(session, index, season_id=season_uuid, now=utcnow())

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: close(), range(6)))
    assert results.count(True) == 1
    assert close_ended_seasons() == []  # the periodic job finds nothing left to close

    with platform.db.unit_of_work() as session:
        rewards = session.execute(
            select(
                SeasonReward.rank, SeasonReward.sku_id, SeasonReward.quantity, SeasonReward.status
            ).order_by(SeasonReward.rank)
        ).all()
        live = session.scalar(select(func.count()).select_from(LeaderboardEntry))
    assert [tuple(r) for r in rewards] == [
        (1, "gold-crown", 1, "delivered"),
        (2, "gems", 50, "delivered"),
        (3, "gems", 50, "delivered"),
    ]
    archive = client.get(f"/v1/leaderboards/{season['season_id']}/archive").get_json()["items"]
    assert [(a["rank"], a["display_name"], a["score"]) for a in archive] == [
        (1, "Ada", 50),
        (2, "Bob", 40),
        (3, "Cy", 30),
        (4, "Di", 20),
        (5, "Ed", 10),
    ]
    assert live == 0 and top(client, season) == []  # reset: the live board starts empty
    late = submit(client, season, new_player(), 1)
    assert (late.status_code, late.get_json()["code"]) == (409, "season_closed")


def test_a_reward_band_arrives_in_the_inbox_and_is_claimed_once(
    client, platform, new_season, new_player
):
    with platform.db.unit_of_work() as session:
        factories.sku(session, sku_id="gold-crown", type="durable", name="Crown", prices={})
        factories.sku(session, sku_id="gems", type="consumable", name="Gems", prices={})
    season = new_season(reset_rule="archive", rewards=REWARDS)
    players = [new_player(name) for name in ("Ada", "Bob", "Cy", "Di")]
    for someone, score in zip(players, (50, 40, 30, 20), strict=True):
        submit(client, season, someone, score)
    end_now(platform, season)
    assert len(close_ended_seasons()) == 1
    assert close_ended_seasons() == []

    def inbox(someone):
        return client.get("/v1/me/inbox", headers=someone["headers"]).get_json()["items"]

    ada, bob, cy, di = players
    assert inbox(di) == []  # rank 4: no band
    assert [m["attachments"] for m in inbox(ada)] == [
        [{"type": "sku", "sku_id": "gold-crown", "quantity": 1}]
    ]
    for someone in (bob, cy):
        (message,) = inbox(someone)
        assert message["kind"] == "season_reward" and message["data"]["to_rank"] == 3
        url = f"/v1/me/inbox/{message['id']}/claim"
        assert client.post(url, headers=someone["headers"]).get_json()["balances"] == {"gems": 50}
        again = client.post(url, headers=someone["headers"])
        assert (again.status_code, again.get_json()["code"]) == (409, "already_claimed")
        wallet = client.get("/v1/me/wallet", headers=someone["headers"]).get_json()
        assert wallet["balances"] == {"gems": 50}
    with platform.db.unit_of_work() as session:  # one message per band, not per player
        assert session.scalar(select(func.count()).select_from(Message)) == 2


def test_the_periodic_job_closes_a_season_kept_as_it_was(client, platform, new_season, new_player):
    season = played(client, platform, new_season, new_player, "none")
    assert len(close_ended_seasons()) == 1
    board = top(client, season)
    assert board[:2] == [(1, "Ada", 50), (2, "Bob", 40)]  # reset_rule none: still readable
    archive = client.get(f"/v1/leaderboards/{season['season_id']}/archive").get_json()["items"]
    assert [(a["rank"], a["display_name"], a["score"]) for a in archive] == board


def test_a_cleared_season_keeps_no_archive_but_still_rewards(
    client, platform, new_season, new_player
):
    season = played(client, platform, new_season, new_player, "clear")
    assert len(close_ended_seasons()) == 1
    response = client.get(f"/v1/leaderboards/{season['season_id']}/archive")
    assert (response.status_code, response.get_json()["code"]) == (404, "archive_not_found")
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(SeasonReward)) == 3


def test_concurrent_increments_lose_nothing_and_ranks_agree(
    live_server, client, new_season, new_player
):
    season = new_season(operator="increment")
    players = [new_player(f"P{i}") for i in range(4)]
    url = f"{live_server}/v1/leaderboards/{season['season_id']}/scores"

    def hammer(player: dict) -> None:
        with requests.Session() as http:
            for _ in range(20):
                assert (
                    http.post(url, json={"score": 1}, headers=player["headers"]).status_code == 200
                )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(hammer, players + players))
    assert sorted(s for _, _, s in top(client, season)) == [40, 40, 40, 40]
    ranks = [r for r, _, _ in top(client, season)]
    assert ranks == [1, 2, 3, 4]
