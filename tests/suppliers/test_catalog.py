"""Supplier offers pulled into supplier_offers in batches; the catalog shows each game key's
best offer within its margin floor (admin-set) and what suppliers hold; admins see each
supplier's breaker and last sync."""

from __future__ import annotations

import time

from sqlalchemy import select

from player_platform.suppliers.models import SupplierOffer
from tests.fakes.codeswholesale import FakeCodesWholesale
from tests.fakes.kinguin import FakeKinguin
from tests.suppliers.conftest import seed_game
from workers import suppliers as supplier_jobs


def _seed(platform, kinguin: FakeKinguin, codeswholesale: FakeCodesWholesale) -> None:
    seed_game(platform, ("codeswholesale", "cw-game", 1), ("kinguin", "kg-game", 2))
    codeswholesale.stock("cw-game", price="5.00", quantity=7)
    kinguin.stock("kg-game", price="3.20", qty=4)


def test_the_sync_pulls_offers_in_batches_and_keeps_them_fresh(platform, kinguin, codeswholesale):
    _seed(platform, kinguin, codeswholesale)
    codeswholesale.page_size = 1
    codeswholesale.stock("cw-other", price="1.00", quantity=1)  # not ours: not pulled
    assert supplier_jobs.sync_offers() == {"codeswholesale": 1, "kinguin": 1}
    kinguin.products["kg-game"]["qty"] = 0
    supplier_jobs.sync_offers()
    with platform.db.unit_of_work() as session:
        rows = {(o.supplier, o.product_id): (o.price_cents, o.quantity)
                for o in session.scalars(select(SupplierOffer))}  # fmt: skip
    assert rows == {("codeswholesale", "cw-game"): (500, 7), ("kinguin", "kg-game"): (320, 0)}


def test_a_supplier_down_keeps_its_last_offers(platform, kinguin, codeswholesale):
    _seed(platform, kinguin, codeswholesale)
    supplier_jobs.sync_offers()
    kinguin.down = True
    assert supplier_jobs.sync_offers() == {"codeswholesale": 1, "kinguin": 0}
    with platform.db.unit_of_work() as session:
        assert session.get(SupplierOffer, ("kinguin", "kg-game")).quantity == 4


def test_the_catalog_shows_the_best_offer_within_the_margin_floor(
    client, admin, platform, kinguin, codeswholesale
):
    _seed(platform, kinguin, codeswholesale)
    supplier_jobs.sync_offers()
    sku = client.get("/v1/skus/game").get_json()
    assert sku["supplier_offer"] == {"supplier": "kinguin", "price_cents": 320, "quantity": 4}
    assert sku["supplier_stock"] == 11
    patched = client.patch("/v1/admin/skus/game", json={"margin_floor": 300}, headers=admin)
    assert patched.status_code == 200 and patched.get_json()["margin_floor"] == 300
    listed = client.get("/v1/skus").get_json()["items"]
    assert [(s["sku_id"], s["supplier_offer"], s["supplier_stock"]) for s in listed] == [
        ("game", None, 0)  # both ask more than the floor: neither sells it
    ]
    bad = client.patch("/v1/admin/skus/game", json={"margin_floor": -1}, headers=admin)
    assert bad.status_code == 422


def test_admins_see_each_suppliers_breaker_and_last_sync(client, admin, platform, kinguin,
                                                         codeswholesale):  # fmt: skip
    _seed(platform, kinguin, codeswholesale)
    supplier_jobs.sync_offers()
    platform.suppliers.breakers.record("kinguin", ok=True, seconds=0.2, now=time.time())
    platform.suppliers.breakers.record("kinguin", ok=False, seconds=0.4, now=time.time())
    response = client.get("/v1/admin/suppliers", headers=admin)
    assert response.status_code == 200
    by_name = {s["name"]: s for s in response.get_json()["items"]}
    assert set(by_name) == {"codeswholesale", "kinguin"}
    assert by_name["kinguin"]["state"] == "closed"
    assert (by_name["kinguin"]["calls"], by_name["kinguin"]["success_rate"]) == (2, 0.5)
    assert by_name["kinguin"]["latency_ms"] == 300.0
    assert by_name["codeswholesale"]["last_sync_at"] is not None
    assert client.get("/v1/admin/suppliers").status_code == 401


def test_admins_route_a_sku_to_supplier_products_audited(client, admin, platform):
    seed_game(platform)
    url = "/v1/admin/skus/game/suppliers"
    routes = [
        {"supplier": "kinguin", "platform": "steam", "product_id": "kg-1", "priority": 2},
        {"supplier": "codeswholesale", "platform": "steam", "product_id": "cw-1", "priority": 1},
    ]
    response = client.put(url, json={"routes": routes}, headers=admin)
    assert response.status_code == 200
    assert [r["supplier"] for r in response.get_json()["routes"]] == ["codeswholesale", "kinguin"]
    chain = platform.suppliers
    assert [
        (r.supplier, r.product_id)
        for r in chain.routes(sku_id="game", platform="steam", quantity=1)[0]
    ] == []  # no offers yet
    replaced = client.put(url, json={"routes": routes[:1]}, headers=admin).get_json()["routes"]
    assert [r["product_id"] for r in replaced] == ["kg-1"]
    assert client.get(url, headers=admin).get_json()["routes"] == replaced
    audit = client.get("/v1/admin/audit-logs?action=sku.suppliers", headers=admin).get_json()
    assert len(audit["items"]) == 2
    twice = client.put(url, json={"routes": [routes[0], routes[0]]}, headers=admin)
    unknown = client.put(url, json={"routes": [{**routes[0], "supplier": "acme"}]}, headers=admin)
    assert (twice.status_code, unknown.status_code) == (422, 422)
    missing = client.put("/v1/admin/skus/nope/suppliers", json={"routes": []}, headers=admin)
    assert (missing.status_code, missing.get_json()["code"]) == (404, "sku_not_found")
