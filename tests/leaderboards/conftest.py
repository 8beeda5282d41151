"""Leaderboard fixtures: seasons and players made in the database, and small HTTP helpers."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from blueprints.leaderboards.schemas import SeasonSchema
from player_platform.leaderboards.models import LeaderboardEntry, Season
from player_platform.leaderboards.reads import board_of
from player_platform.platform import Platform
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


def board_in_postgresql(platform: Platform, season_id: str) -> list[tuple[uuid.UUID, int]]:
    """A descending season's board as PostgreSQL holds it: (user, score), best first."""
    E = LeaderboardEntry
    with platform.db.unit_of_work() as session:
        season = session.scalar(select(Season).where(Season.season_id == season_id))
        rows = session.execute(
            select(E.user_id, E.score)
            .where(E.season_id == season.id, E.removed_at.is_(None))
            .order_by(E.score.desc(), E.reached_at, E.user_id)
        ).all()
    return [(r.user_id, r.score) for r in rows]


def board_in_redis(platform: Platform, season_id: str) -> list[tuple[uuid.UUID, int]] | None:
    """The same board as the Redis index holds it; None when the index is not ready."""
    with platform.db.unit_of_work() as session:
        season = session.scalar(select(Season).where(Season.season_id == season_id))
    found = platform.leaderboards.top(board_of(season), offset=0, limit=1000)
    return None if found is None else [(p.user_id, p.score) for p in found[0]]
