"""A crash between a flow's steps (after the provider call, before its outcome is recorded)
leaves a state the periodic jobs finish. The crash is reproduced by running the steps that
happened before it (commerce/flows.py) and stopping there."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from player_platform.audit.service import SYSTEM
from player_platform.commerce import orders, refunds, service
from player_platform.commerce.models import Order, RefundRequest
from player_platform.db import utcnow
from player_platform.wallet.models import Entitlement
from tests.commerce.conftest import buy_on_steam, steam_player
from tests.support import bearer, register
from workers import commerce as jobs


def _age(platform, model, column, row_id, by=timedelta(hours=1)) -> None:
    with platform.db.unit_of_work() as session:
        session.execute(update(model).where(model.id == row_id).values({column: utcnow() - by}))


def _order(platform, order_id) -> Order:
    with platform.db.unit_of_work() as session:
        return session.get(Order, uuid.UUID(str(order_id)))


def test_a_steam_purchase_finalized_but_not_recorded_is_settled_by_the_poll(
    client, steam, catalog, platform
):
    headers, _ = steam_player(client, steam)
    init = client.post(
        "/v1/commerce/steam/init", json={"sku_id": "sword", "quantity": 1}, headers=headers
    ).get_json()
    steam.approve(init["payment"]["orderid"])
    # finalize_steam's provider step ran, then the process died before recording it
    txn = service.ask_steam(platform.steam_microtxn, int(init["payment"]["orderid"]))
    assert txn["status"] == "Succeeded"
    assert _order(platform, init["order"]["id"]).status == "pending"

    _age(platform, Order, "created_at", uuid.UUID(init["order"]["id"]), timedelta(minutes=2))
    assert jobs.poll_steam()["settled"] == 1
    assert _order(platform, init["order"]["id"]).status == "fulfilled"
    with platform.db.unit_of_work() as session:
        granted = session.scalars(select(Entitlement.sku_id)).all()
    assert granted == ["sword"]
    assert jobs.poll_steam()["settled"] == 0  # nothing left pending


def _approve_without_refunding(platform, order_id, user_id) -> uuid.UUID:
    """request_refund's first step committed; the provider was never asked."""
    with platform.db.unit_of_work() as session:
        refund = refunds.request_refund(
            session,
            jobs=platform.jobs,
            user_id=uuid.UUID(user_id),
            order_id=uuid.UUID(order_id),
            reason="crash",
            origin=SYSTEM,
            now=utcnow(),
        )
        assert refund.status == "refunding"
        return refund.id


def test_a_stripe_refund_left_refunding_is_refunded_once_by_the_periodic_job(
    client, stripe, catalog, platform
):
    player = register(client)
    headers = bearer(player["access_token"])
    bought = client.post(
        "/v1/checkout",
        json={"items": [{"sku_id": "sword", "quantity": 1}], "currency": "USD"},
        headers=headers,
    ).get_json()
    intent_id = bought["payment"]["payment_intent_id"]
    stripe.succeed(intent_id)
    client.post(
        "/v1/commerce/verify-receipt",
        json={"provider": "stripe", "payment_intent_id": intent_id},
        headers=headers,
    )
    refund_id = _approve_without_refunding(platform, bought["order"]["id"], player["user"]["id"])
    assert jobs.finish_refunds() == 0  # approved a moment ago: its own request may still run

    _age(platform, RefundRequest, "decided_at", refund_id)
    assert jobs.finish_refunds() == 1
    assert [r["payment_intent"] for r in stripe.refunds] == [intent_id]
    assert _order(platform, bought["order"]["id"]).status == "refunded"
    with platform.db.unit_of_work() as session:
        assert session.get(RefundRequest, refund_id).status == "approved"
        assert session.scalar(select(Entitlement.status)) == "revoked"
    assert jobs.finish_refunds() == 0


def test_a_steam_refund_made_but_not_recorded_is_completed_without_refunding_twice(
    client, steam, catalog, platform
):
    headers, _ = steam_player(client, steam)
    bought = buy_on_steam(client, steam, headers)
    user_id = client.get("/v1/me", headers=headers).get_json()["id"]
    refund_id = _approve_without_refunding(platform, bought["order"]["id"], user_id)
    orderid = int(bought["order"]["provider_order_id"])
    platform.steam_microtxn.refund_txn(orderid)  # the provider step ran, then the crash

    _age(platform, RefundRequest, "decided_at", refund_id)
    assert jobs.finish_refunds() == 1
    assert steam.txns[str(orderid)]["status"] == "Refunded"
    assert _order(platform, bought["order"]["id"]).status == "refunded"


def test_a_checkout_whose_payment_intent_was_never_recorded_is_failed(
    client, stripe, catalog, platform
):
    player = register(client)
    with platform.db.unit_of_work() as session:  # checkout's first step, then the crash
        order = orders.open_checkout(
            session,
            provider="stripe",
            client_ip=None,
            device_id=None,
            user_id=uuid.UUID(player["user"]["id"]),
            lines=[("sword", 1)],
            currency="USD",
            now=utcnow(),
        )
    assert jobs.fail_abandoned_checkouts() == 0
    _age(platform, Order, "created_at", order.id)
    assert jobs.fail_abandoned_checkouts() == 1
    failed = _order(platform, order.id)
    assert (failed.status, failed.failure_reason) == ("failed", "stripe:checkout_abandoned")
