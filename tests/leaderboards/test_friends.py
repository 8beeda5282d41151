"""Friends boards: the caller and their Steam friends who play here, ranked among themselves,
with the friend list fetched from Steam (the fake, on loopback) and cached."""

from __future__ import annotations

import uuid

from player_platform.identity.models import Identity
from tests.leaderboards.conftest import submit


def with_steam(platform, player: dict, steam_id: str) -> dict:
    with platform.db.unit_of_work() as session:
        session.add(
            Identity(user_id=uuid.UUID(player["id"]), provider="steam", provider_id=steam_id)
        )
    return player


def friends_board(client, season, player):
    response = client.get(
        f"/v1/leaderboards/{season['season_id']}/friends", headers=player["headers"]
    )
    assert response.status_code == 200, response.get_json()
    return [(i["rank"], i["display_name"], i["score"]) for i in response.get_json()["items"]]


def test_friends_are_ranked_among_themselves_and_the_list_is_cached(
    client, platform, steam, new_season, new_player
):
    season = new_season(type="friends")
    me = with_steam(platform, new_player("Me"), "76561197960000001")
    pal = with_steam(platform, new_player("Pal"), "76561197960000002")
    stranger = with_steam(platform, new_player("Stranger"), "76561197960000003")
    quiet = with_steam(platform, new_player("Quiet"), "76561197960000004")  # never scored
    steam.friends["76561197960000001"] = [
        "76561197960000002",
        "76561197960000004",
        "76561197960999999",
    ]
    for player, score in ((me, 10), (pal, 30), (stranger, 99)):
        submit(client, season, player, score)
    assert quiet and friends_board(client, season, me) == [(1, "Pal", 30), (2, "Me", 10)]

    steam.friends["76561197960000001"] = ["76561197960000003"]
    assert friends_board(client, season, me) == [(1, "Pal", 30), (2, "Me", 10)]  # cached


def test_without_steam_or_with_a_private_list_the_board_is_the_caller(
    client, platform, steam, new_season, new_player
):
    season = new_season(type="friends")
    loner = new_player("Loner")
    private = with_steam(platform, new_player("Private"), "76561197960000011")
    steam.friends["76561197960000011"] = None
    submit(client, season, loner, 5)
    submit(client, season, private, 7)
    assert friends_board(client, season, loner) == [(1, "Loner", 5)]
    assert friends_board(client, season, private) == [(1, "Private", 7)]
