"""Sales and player figures: the admin JSON routes, and the console pages that show them."""

from __future__ import annotations

from datetime import timedelta

from player_platform.commerce.models import Order, OrderItem
from player_platform.db import utcnow
from tests import factories
from tests.support import bearer, signed_up


def _order(session, user_id, *, total, provider="stripe", refunded=0, sku_id="sword"):
    now = utcnow()
    order = Order(
        user_id=user_id, status="refunded" if refunded else "fulfilled", provider=provider,
        provider_order_id=f"pi_{total}_{refunded}_{provider}", currency="USD", total=total,
        refunded_amount=refunded, refunded_at=now if refunded else None, created_at=now,
    )  # fmt: skip
    order.items.append(OrderItem(position=0, sku_id=sku_id, quantity=1, amount=total,
                                 refunded=bool(refunded)))  # fmt: skip
    session.add(order)
    session.flush()


def test_sales_are_summed_per_day_sku_and_provider_for_admins_only(client, platform, admin):
    player = signed_up(platform)
    with platform.db.unit_of_work() as session:
        factories.sku(session, sku_id="sword", type="durable", name="Sword", prices={"USD": 499})
        _order(session, player["user"]["id"], total=499)
        _order(session, player["user"]["id"], total=999, refunded=999, provider="steam")
    today = utcnow().date().isoformat()
    by_day = client.get("/v1/admin/analytics/sales?group_by=day", headers=admin).get_json()
    assert by_day["items"] == [
        {"key": today, "currency": "USD", "orders": 2, "revenue": 1498, "refunds": 1,
         "refunded": 999}
    ]  # fmt: skip
    by_provider = client.get("/v1/admin/analytics/sales?group_by=provider", headers=admin)
    assert {(r["key"], r["revenue"], r["refunds"]) for r in by_provider.get_json()["items"]} == {
        ("stripe", 499, 0),
        ("steam", 999, 1),
    }
    by_sku = client.get("/v1/admin/analytics/sales?group_by=sku", headers=admin).get_json()
    assert [(r["key"], r["orders"], r["revenue"]) for r in by_sku["items"]] == [("sword", 2, 1498)]
    refused = client.get("/v1/admin/analytics/sales", headers=bearer(player["access_token"]))
    assert refused.status_code == 403


def test_player_figures_count_registrations_and_daily_active_players(client, platform, admin):
    for _ in range(3):
        signed_up(platform)
    body = client.get("/v1/admin/analytics/players", headers=admin).get_json()
    today = utcnow().date().isoformat()
    # three players and the admin registered and signed in today
    assert body["registrations"] == [{"day": today, "count": 4}]
    assert body["daily_active"] == [{"day": today, "count": 4}]
    assert body["identities"] == {"email": 4}


def test_a_range_longer_than_400_days_or_backwards_is_refused(client, admin):
    start = utcnow().date()
    for query in (f"from={start}&to={start - timedelta(days=1)}",
                  f"from={start - timedelta(days=500)}&to={start}", "to=0001-01-02"):  # fmt: skip
        answer = client.get(f"/v1/admin/analytics/players?{query}", headers=admin)
        assert answer.status_code == 422, query
        assert answer.get_json()["code"] == "validation_error"
