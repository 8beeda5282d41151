"""Commerce fixtures: a catalog made through the service, players signed in with Steam."""

from __future__ import annotations

import itertools

import pytest

from tests import factories
from tests.support import bearer

_steam_ids = itertools.count(76561198000000101)

CATALOG = [
    {
        "sku_id": "sword",
        "type": "durable",
        "name": "Flame Sword",
        "prices": {"USD": 499},
        "description": "A blade that burns",
        "tags": ["weapon"],
        "platforms": ["steam", "web"],
        "steam_item_id": 1001,
    },
    {
        "sku_id": "gems",
        "type": "consumable",
        "name": "Gems",
        "prices": {"USD": 10, "EUR": 9},
        "description": "Premium currency",
        "tags": ["currency"],
        "platforms": ["steam", "web"],
        "steam_item_id": 1002,
    },
    {
        "sku_id": "starter",
        "type": "bundle",
        "name": "Starter Pack",
        "prices": {"USD": 999},
        "description": "The sword and 100 gems",
        "platforms": ["steam"],
        "steam_item_id": 1003,
        "contents": [{"sku_id": "sword", "quantity": 1}, {"sku_id": "gems", "quantity": 100}],
    },
]


@pytest.fixture
def catalog(platform) -> list[dict]:
    seed_catalog(platform)
    return CATALOG


def steam_player(client, steam) -> tuple[dict[str, str], str]:
    """Sign in with a fresh Steam account; its auth headers and SteamID64."""
    steam_id = str(next(_steam_ids))
    response = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(steam_id)})
    assert response.status_code == 200, response.get_json()
    return bearer(response.get_json()["access_token"]), steam_id


def buy_on_steam(client, steam, headers, sku_id="sword", quantity=1) -> dict:
    """Init, the player approves in the overlay, finalize: the fulfilled purchase."""
    init = client.post(
        "/v1/commerce/steam/init", json={"sku_id": sku_id, "quantity": quantity}, headers=headers
    )
    assert init.status_code == 201, init.get_json()
    steam.approve(init.get_json()["payment"]["orderid"])
    done = client.post(
        "/v1/commerce/steam/finalize",
        json={"order_id": init.get_json()["order"]["id"]},
        headers=headers,
    )
    assert done.status_code == 200, done.get_json()
    return done.get_json()


def seed_catalog(platform) -> None:
    """The catalog written through the service, committed (visible to a live server too)."""
    with platform.db.unit_of_work() as session:
        for values in CATALOG:
            factories.sku(session, **values)
