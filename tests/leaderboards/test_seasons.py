"""Seasons over HTTP: an admin creates them (the other tests make theirs in the database)."""

from __future__ import annotations

from datetime import timedelta

from player_platform.db import utcnow
from tests.support import bearer, signed_up


def _body(season_id: str) -> dict:
    now = utcnow()
    return {
        "season_id": season_id,
        "name": "Spring",
        "type": "global",
        "start_date": (now - timedelta(minutes=5)).isoformat(),
        "end_date": (now + timedelta(hours=1)).isoformat(),
    }


def test_an_admin_creates_a_season_with_the_documented_defaults(client, admin):
    created = client.post("/v1/admin/seasons", json=_body("spring"), headers=admin)
    assert created.status_code == 201, created.get_json()
    season = created.get_json()
    assert (season["sort"], season["operator"], season["reset_rule"]) == (
        "desc",
        "best",
        "archive",
    )
    again = client.post("/v1/admin/seasons", json=_body("spring"), headers=admin)
    assert again.status_code == 409
    assert again.get_json()["code"] == "season_exists"
    board = client.get("/v1/leaderboards/spring")
    assert board.status_code == 200
    assert board.get_json()["items"] == []


def test_players_cannot_create_seasons(client, platform):
    player = bearer(signed_up(platform)["access_token"])
    refused = client.post("/v1/admin/seasons", json=_body("summer"), headers=player)
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "forbidden"
