"""The catalog over HTTP: an admin creates SKUs, anyone lists and searches them."""

from __future__ import annotations

from tests.commerce.conftest import CATALOG
from tests.support import bearer, signed_up


def test_an_admin_creates_skus_that_the_catalog_lists_and_searches(client, admin):
    for sku in CATALOG:
        created = client.post("/v1/admin/skus", json=sku, headers=admin)
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["sku_id"] == sku["sku_id"]
    again = client.post("/v1/admin/skus", json=CATALOG[0], headers=admin)
    assert again.status_code == 409
    assert again.get_json()["code"] == "sku_exists"
    listed = client.get("/v1/skus").get_json()["items"]
    assert sorted(item["sku_id"] for item in listed) == ["gems", "starter", "sword"]
    found = client.get("/v1/skus", query_string={"q": "flame"}).get_json()["items"]
    assert [item["sku_id"] for item in found] == ["sword"]


def test_players_cannot_create_skus(client, platform):

    player = bearer(signed_up(platform)["access_token"])
    refused = client.post("/v1/admin/skus", json=CATALOG[0], headers=player)
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "forbidden"
