"""The key store's events reach the studio and the wishlisters: stock.low once per crossing,
key.delivered with masked keys only (never a code), and a restocked pool is back in stock for
the players who wished for its SKU."""

from __future__ import annotations

from sqlalchemy import select

from player_platform.commerce.storefront_models import WishlistAlert
from tests.keys.conftest import buy, import_csv, seed_game, steam_code
from tests.keys.conftest import drain as drain_keys
from tests.storefront.conftest import drain, player_headers
from tests.storefront.test_studio_webhooks import add_endpoint, verify
from tests.support import signed_up


def test_key_events_reach_the_studio_masked_and_restocking_tells_wishlisters(
    store_client, store_platform, admin, receiver, stripe
):
    seed_game(store_platform)
    endpoint = add_endpoint(
        store_client, admin, receiver.url, events=["key.delivered", "stock.low"]
    )
    fan = signed_up(store_platform)
    store_client.post("/v1/me/wishlist", json={"sku_id": "game"}, headers=player_headers(fan))
    codes = [steam_code()]
    import_csv(store_client, admin, codes)  # 1 key: at or below the threshold of 10
    buyer = player_headers(signed_up(store_platform))
    order_id = buy(store_client, stripe, buyer)
    drain_keys(store_platform, "fulfilment")
    drain(store_platform, "studio_webhooks")

    events = {hit.event["type"]: hit for hit in receiver.received}
    assert sorted(events) == ["key.delivered", "stock.low"]  # the low stock alerted once
    assert len(receiver.received) == 2
    for hit in receiver.received:
        assert verify(endpoint["secret"], hit.headers["Pp-Signature"], hit.body)
    low = events["stock.low"].event["data"]
    assert (low["sku_id"], low["available"], low["threshold"]) == ("game", 1, 10)
    delivered = events["key.delivered"].event["data"]
    assert delivered["order_id"] == order_id
    [key] = delivered["keys"]
    assert key["masked_code"] in {f"*****-{c[-5:]}" for c in codes}
    sent = b"".join(hit.body for hit in receiver.received).decode()
    assert all(code not in sent for code in codes)

    with store_platform.db.unit_of_work() as session:
        assert session.scalars(select(WishlistAlert)).all() == []
    import_csv(store_client, admin, [steam_code() for _ in range(12)])  # 13 > 10: restocked
    drain(store_platform, "notification_send")
    with store_platform.db.unit_of_work() as session:
        [alert] = session.scalars(select(WishlistAlert)).all()
        assert alert.kind == "back_in_stock"
    inbox = store_client.get("/v1/me/inbox", headers=player_headers(fan)).get_json()
    assert [m["subject"] for m in inbox["items"]] == ["Back in stock on your wishlist"]
