"""Leaderboard fixtures: seasons and players made in the database, and small HTTP helpers."""

from __future__ import annotations

import pytest

from blueprints.leaderboards.schemas import SeasonSchema
from tests import factories
from tests.support import bearer, signed_up


@pytest.fixture
def new_season(platform, admin_user):
    """Create a season (``factories.season``); its fields as the admin API answers them."""

    def create(**fields) -> dict:
        with platform.db.unit_of_work() as session:
            season = factories.season(session, platform, admin=admin_user, **fields)
            return SeasonSchema().dump(season)

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
