"""Wishlists: players keep SKUs on a list; a price drop or a return to sale tells every
wishlister once (inbox and mail), fanned out in batches by a job however often it runs."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from player_platform.commerce import wishlists
from player_platform.commerce.storefront_models import WishlistAlert
from player_platform.db import utcnow
from player_platform.messaging.models import MessageRecipient
from tests.storefront.conftest import drain, player_headers, verify_email
from tests.support import signed_up
from workers import storefront as storefront_jobs


def test_a_player_keeps_a_wishlist(store_client, store_platform, shop):
    headers = player_headers(signed_up(store_platform))
    for sku_id in ("sword", "game", "sword"):  # a second add changes nothing
        added = store_client.post("/v1/me/wishlist", json={"sku_id": sku_id}, headers=headers)
        assert added.status_code == 201, added.get_json()
    assert added.get_json()["prices"] == {"USD": 499, "EUR": 450}
    listed = store_client.get("/v1/me/wishlist", headers=headers).get_json()["items"]
    assert sorted(i["sku_id"] for i in listed) == ["game", "sword"]
    assert store_client.delete("/v1/me/wishlist/sword", headers=headers).status_code == 204
    assert store_client.delete("/v1/me/wishlist/sword", headers=headers).status_code == 204
    listed = store_client.get("/v1/me/wishlist", headers=headers).get_json()["items"]
    assert [i["sku_id"] for i in listed] == ["game"]
    missing = store_client.post("/v1/me/wishlist", json={"sku_id": "nope"}, headers=headers)
    assert missing.status_code == 404 and missing.get_json()["code"] == "sku_not_found"
    assert store_client.get("/v1/me/wishlist").status_code == 401
    other = player_headers(signed_up(store_platform))
    assert store_client.get("/v1/me/wishlist", headers=other).get_json()["items"] == []


def test_a_price_drop_tells_each_wishlister_once_by_inbox_and_mail(
    store_client, store_platform, admin, shop, mailbox
):
    fans = [signed_up(store_platform) for _ in range(3)]
    for fan in fans:
        verify_email(store_platform, fan["user"]["id"])
        store_client.post("/v1/me/wishlist", json={"sku_id": "game"}, headers=player_headers(fan))
    bystander = signed_up(store_platform)

    cheaper = store_client.patch(
        "/v1/admin/skus/game", json={"prices": {"USD": 999}}, headers=admin
    )
    assert cheaper.status_code == 200, cheaper.get_json()
    pricier = store_client.patch(
        "/v1/admin/skus/game", json={"prices": {"USD": 1299}}, headers=admin
    )
    assert pricier.status_code == 200  # a rise tells nobody
    drain(store_platform, "notification_send")

    for fan in fans:
        [mail] = mailbox.to(fan["email"])
        assert mail["Subject"] == "A price dropped on your wishlist"
        assert "now costs 9.99 USD (was 14.99 USD)" in mail.get_body(("plain",)).get_content()
        inbox = store_client.get("/v1/me/inbox", headers=player_headers(fan)).get_json()
        assert [m["subject"] for m in inbox["items"]] == ["A price dropped on your wishlist"]
    assert mailbox.to(bystander["email"]) == []
    with store_platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(WishlistAlert)) == 1


def test_back_on_sale_fans_out_in_batches_once_however_often_the_job_runs(
    store_client, store_platform, admin, shop
):
    fans = [signed_up(store_platform) for _ in range(7)]
    for fan in fans:
        store_client.post("/v1/me/wishlist", json={"sku_id": "sword"}, headers=player_headers(fan))
    off = store_client.patch("/v1/admin/skus/sword", json={"active": False}, headers=admin)
    assert off.status_code == 200
    back = store_client.patch("/v1/admin/skus/sword", json={"active": True}, headers=admin)
    assert back.status_code == 200
    with store_platform.db.unit_of_work() as session:
        alert = session.scalars(select(WishlistAlert)).one()
        assert alert.kind == "back_in_stock"

    told_per_batch = []
    more = True
    while more:  # batches of 3, by hand
        more = _batch(store_platform, alert.id)
        told_per_batch.append(_told(store_platform))
    assert told_per_batch == [3, 6, 7]
    assert storefront_jobs.fan_out_wishlist_alert(str(alert.id)) == 1  # done: tells nobody
    with store_platform.db.unit_of_work() as session:  # as if the job restarted from scratch
        session.get(WishlistAlert, alert.id).done_at = None
        session.get(WishlistAlert, alert.id).cursor = None
    while _batch(store_platform, alert.id):
        pass
    assert _told(store_platform) == 7
    for fan in fans:
        inbox = store_client.get("/v1/me/inbox", headers=player_headers(fan)).get_json()
        assert [m["subject"] for m in inbox["items"]] == ["Back in stock on your wishlist"]


def _batch(platform, alert_id) -> bool:
    with platform.db.unit_of_work() as session:
        return wishlists.fan_out_batch(
            session, jobs=platform.jobs, vault=platform.vault, alert_id=alert_id, now=utcnow(),
            batch=3,
        )  # fmt: skip


def _told(platform) -> int:
    with platform.db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(MessageRecipient))


def test_nobody_wishing_means_no_alert(store_client, store_platform, admin, shop):
    store_client.patch("/v1/admin/skus/game", json={"prices": {"USD": 99}}, headers=admin)
    with store_platform.db.unit_of_work() as session:
        assert session.scalars(select(WishlistAlert)).all() == []
        assert wishlists.items(session, user_id=uuid.uuid4()) == []
