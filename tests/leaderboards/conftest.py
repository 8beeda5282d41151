"""Leaderboard fixtures: an admin, seasons created through the admin API, players made in the
database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from player_platform.db import utcnow
from tests.support import bearer, signed_up


@pytest.fixture
def new_season(client, admin):
    """Create a season through the admin API; open now for an hour unless told otherwise."""

    def create(**overrides) -> dict:
        now = utcnow()
        body = {
            "season_id": f"s-{uuid.uuid4().hex[:12]}",
            "name": "Season",
            "type": "global",
            "start_date": (now - timedelta(minutes=5)).isoformat(),
            "end_date": (now + timedelta(hours=1)).isoformat(),
            **overrides,
        }
        response = client.post("/v1/admin/seasons", json=body, headers=admin)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create


@pytest.fixture
def new_player(platform):
    def create(name: str = "Player", *, region: str | None = None) -> dict:
        tokens = signed_up(platform, display_name=name, region=region)
        return {
            "id": tokens["user"]["id"],
            "name": name,
            "headers": bearer(tokens["access_token"]),
        }

    return create


def submit(client, season: dict, player: dict, score: int, **extra):
    return client.post(
        f"/v1/leaderboards/{season['season_id']}/scores",
        json={"score": score, **extra},
        headers=player["headers"],
    )


def top(client, season: dict, **query) -> list[tuple[int, str, int]]:
    response = client.get(f"/v1/leaderboards/{season['season_id']}", query_string=query)
    assert response.status_code == 200, response.get_json()
    return [(i["rank"], i["display_name"], i["score"]) for i in response.get_json()["items"]]
