"""Publishers manage only their own SKUs and see only the orders of them; the studio's admins
see everything. Another publisher's SKU answers 404 sku_not_found, like a missing one."""

from __future__ import annotations

from tests import factories
from tests.commerce.test_paypal import capture, paypal_checkout
from tests.support import bearer, signed_up


def _publisher(platform) -> tuple[str, dict[str, str]]:
    with platform.db.unit_of_work() as session:
        signed_in = factories.staff(session, platform, role="publisher")
    return str(signed_in.user_id), bearer(signed_in.access_token)


def _sku(sku_id: str) -> dict:
    return {"sku_id": sku_id, "type": "game_key", "name": sku_id, "prices": {"USD": 999}}


def test_a_publisher_manages_only_its_own_skus_and_orders(client, paypal, platform, admin):
    acme_id, acme = _publisher(platform)
    _, globex = _publisher(platform)
    made = client.post("/v1/admin/skus", json=_sku("acme-rpg"), headers=acme)
    assert made.status_code == 201 and made.get_json()["publisher_id"] == acme_id
    forced = client.post(
        "/v1/admin/skus", json={**_sku("globex-race"), "publisher_id": acme_id}, headers=globex
    )
    assert forced.status_code == 201 and forced.get_json()["publisher_id"] != acme_id
    studio = client.post("/v1/admin/skus", json=_sku("studio-own"), headers=admin)
    assert studio.get_json()["publisher_id"] is None

    listed = client.get("/v1/admin/skus", headers=acme).get_json()["items"]
    assert [s["sku_id"] for s in listed] == ["acme-rpg"]
    everything = client.get("/v1/admin/skus", headers=admin).get_json()["items"]
    assert {s["sku_id"] for s in everything} == {"acme-rpg", "globex-race", "studio-own"}
    for sku_id in ("globex-race", "studio-own", "no-such-sku"):
        touched = client.patch(f"/v1/admin/skus/{sku_id}", json={"active": False}, headers=acme)
        assert touched.status_code == 404 and touched.get_json()["code"] == "sku_not_found"
    own = client.patch("/v1/admin/skus/acme-rpg", json={"name": "Acme RPG"}, headers=acme)
    assert own.status_code == 200 and own.get_json()["name"] == "Acme RPG"

    buyer = bearer(signed_up(platform)["access_token"])
    order_ids = {}
    for sku_id in ("acme-rpg", "globex-race"):
        bought = paypal_checkout(client, buyer, [{"sku_id": sku_id, "quantity": 1}])
        paypal.approve(bought["payment"]["paypal_order_id"])
        assert capture(client, buyer, bought["order"]["id"]).status_code == 200
        order_ids[sku_id] = bought["order"]["id"]
    acme_orders = client.get("/v1/admin/orders", headers=acme).get_json()["items"]
    assert [o["id"] for o in acme_orders] == [order_ids["acme-rpg"]]
    all_orders = client.get("/v1/admin/orders", headers=admin).get_json()["items"]
    assert {o["id"] for o in all_orders} == set(order_ids.values())


def test_publishers_cannot_act_as_admins_and_players_cannot_act_as_publishers(
    client, platform, admin
):
    _, acme = _publisher(platform)
    player = bearer(signed_up(platform)["access_token"])
    assert client.get("/v1/admin/skus", headers=player).get_json()["code"] == "forbidden"
    refused = client.post(
        "/v1/admin/api-keys", json={"name": "x", "scopes": ["grants:write"]}, headers=acme
    )
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    player_id = signed_up(platform)["user"]["id"]
    assigned = client.post(
        "/v1/admin/skus", json={**_sku("x-sku"), "publisher_id": player_id}, headers=admin
    )
    assert assigned.status_code == 422 and assigned.get_json()["code"] == "not_a_publisher"
