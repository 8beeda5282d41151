"""Fraud rules hold risky paid orders with their reasons instead of delivering them; an admin
approves (delivered once) or cancels (refunded with the provider); the KYC gate. Each rule is
switched on through its setting, as a studio would."""

from __future__ import annotations

import dataclasses
import json

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from player_platform.audit.models import AuditLog
from tests.commerce.test_paypal import capture, paypal_checkout
from tests.fakes.stripe import sign
from tests.support import bearer, signed_up


@pytest.fixture
def settings(settings, request):
    """The suite's settings with the fraud settings a test names (indirect parametrize)."""
    return dataclasses.replace(settings, **getattr(request, "param", {}))


def _player(platform) -> dict[str, str]:
    return bearer(signed_up(platform)["access_token"])


def buy(client, paypal, headers, sku_id="sword", *, payer_id="PAYER1", **extra) -> dict:
    """Checkout with PayPal, approve, capture: the order as the capture answers it."""
    bought = paypal_checkout(client, headers, [{"sku_id": sku_id, "quantity": 1}], **extra)
    paypal.approve(bought["payment"]["paypal_order_id"], payer_id=payer_id)
    done = capture(client, headers, bought["order"]["id"])
    assert done.status_code == 200, done.get_json()
    return done.get_json()


def _admin_order(client, admin, order_id) -> dict:
    listed = client.get("/v1/admin/orders?limit=100", headers=admin).get_json()["items"]
    return next(o for o in listed if o["id"] == order_id)


@pytest.mark.parametrize("settings", [{"fraud_orders_per_player": 2}], indirect=True)
def test_player_velocity_holds_the_next_order(client, paypal, catalog, platform, admin):
    headers = _player(platform)
    first, second = buy(client, paypal, headers), buy(client, paypal, headers, "gems")
    assert [first["order"]["status"], second["order"]["status"]] == ["fulfilled", "fulfilled"]
    third = buy(client, paypal, headers, "gems")
    assert third["order"]["status"] == "held" and third["entitlements"] == []
    held = _admin_order(client, admin, third["order"]["id"])
    assert held["fraud_reasons"] == ["velocity_player"] and held["held_at"]


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"fraud_orders_per_ip": 1}, "velocity_ip"),
        ({"fraud_orders_per_fingerprint": 1}, "velocity_fingerprint"),
        ({"fraud_accounts_per_ip": 1}, "accounts_per_ip"),
        ({"fraud_accounts_per_device": 1}, "accounts_per_device"),
    ],
    indirect=["settings"],
)
def test_rules_across_accounts_hold_the_second_buyer(
    client, paypal, catalog, platform, admin, reason
):
    """Two accounts, one IP (loopback), one device, one PayPal payer."""
    first = buy(client, paypal, _player(platform), device_id="device-1")
    second = buy(client, paypal, _player(platform), device_id="device-1")
    assert first["order"]["status"] == "fulfilled"
    assert second["order"]["status"] == "held"
    assert _admin_order(client, admin, second["order"]["id"])["fraud_reasons"] == [reason]


@pytest.mark.parametrize(
    "settings", [{"fraud_new_account_hours": 24, "fraud_new_account_amount": 999}], indirect=True
)
def test_a_new_account_buying_high_value_is_held(client, paypal, catalog, platform, admin):
    headers = _player(platform)
    cheap = buy(client, paypal, headers, "sword")  # 499
    dear = buy(client, paypal, headers, "starter")  # 999
    assert cheap["order"]["status"] == "fulfilled"
    assert _admin_order(client, admin, dear["order"]["id"])["fraud_reasons"] == [
        "new_account_high_value"
    ]


def test_an_order_whose_receipt_was_flagged_is_held(client, stripe, catalog, platform, admin):
    owner, thief = _player(platform), _player(platform)
    bought = client.post(
        "/v1/checkout",
        json={"items": [{"sku_id": "sword", "quantity": 1}], "currency": "USD"},
        headers=owner,
    ).get_json()
    intent_id = bought["payment"]["payment_intent_id"]
    replayed = client.post(
        "/v1/commerce/verify-receipt",
        json={"provider": "stripe", "payment_intent_id": intent_id},
        headers=thief,
    )
    assert replayed.get_json()["code"] == "receipt_already_used"
    body = json.dumps(stripe.succeed(intent_id))
    client.post("/v1/webhooks/stripe", data=body, headers=sign(body))
    SimpleWorker([platform.jobs.queue("webhook_processing")], connection=platform.redis).work(
        burst=True
    )
    held = _admin_order(client, admin, bought["order"]["id"])
    assert (held["status"], held["fraud_reasons"]) == ("held", ["receipt_flagged"])
    assert client.get("/v1/me/entitlements", headers=owner).get_json()["items"] == []


@pytest.mark.parametrize("settings", [{"fraud_orders_per_player": 1}], indirect=True)
def test_approve_delivers_once_and_cancel_refunds_with_the_provider(
    client, paypal, catalog, platform, admin, admin_user
):
    headers = _player(platform)
    buy(client, paypal, headers, "sword")
    held = buy(client, paypal, headers, "gems")
    also_held = buy(client, paypal, headers, "starter")
    order_id, other_id = held["order"]["id"], also_held["order"]["id"]

    no_reason = client.post(f"/v1/admin/orders/{order_id}/approve", json={}, headers=admin)
    assert no_reason.status_code == 422
    approved = client.post(
        f"/v1/admin/orders/{order_id}/approve", json={"reason": "known buyer"}, headers=admin
    )
    assert approved.status_code == 200 and approved.get_json()["status"] == "fulfilled"
    again = client.post(
        f"/v1/admin/orders/{order_id}/approve", json={"reason": "twice"}, headers=admin
    )
    assert again.status_code == 409 and again.get_json()["code"] == "order_not_held"
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 1}

    cancelled = client.post(
        f"/v1/admin/orders/{other_id}/cancel", json={"reason": "stolen card"}, headers=admin
    )
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "refunded"
    capture_id = paypal.capture_of(also_held["order"]["provider_order_id"])["id"]
    assert [r["capture_id"] for r in paypal.refunds] == [capture_id]
    order = client.get(f"/v1/orders/{other_id}", headers=headers).get_json()
    assert (order["status"], order["refunded_amount"]) == ("refunded", 999)
    with platform.db.unit_of_work() as session:
        audit = session.scalars(
            select(AuditLog).where(AuditLog.action.in_(["order.approve", "order.cancel"]))
        ).all()
        assert sorted((a.action, a.actor_id, a.new_values["reason"]) for a in audit) == [
            ("order.approve", admin_user.user_id, "known buyer"),
            ("order.cancel", admin_user.user_id, "stolen card"),
        ]


@pytest.mark.parametrize("settings", [{"kyc_amount": 999}], indirect=True)
def test_orders_above_the_kyc_amount_wait_for_a_verified_identity(
    client, paypal, catalog, platform, admin
):
    player = signed_up(platform)
    headers = bearer(player["access_token"])
    assert buy(client, paypal, headers, "sword")["order"]["status"] == "fulfilled"
    held = buy(client, paypal, headers, "starter")
    order_id = held["order"]["id"]
    assert _admin_order(client, admin, order_id)["fraud_reasons"] == ["kyc_required"]
    refused = client.post(
        f"/v1/admin/orders/{order_id}/approve", json={"reason": "ok"}, headers=admin
    )
    assert refused.status_code == 409 and refused.get_json()["code"] == "kyc_required"

    verified = client.put(
        f"/v1/admin/users/{player['user']['id']}/kyc", json={"verified": True}, headers=admin
    )
    assert verified.status_code == 200 and verified.get_json()["kyc_verified_at"]
    approved = client.post(
        f"/v1/admin/orders/{order_id}/approve", json={"reason": "ok"}, headers=admin
    )
    assert approved.get_json()["status"] == "fulfilled"
    assert buy(client, paypal, headers, "starter")["order"]["status"] == "fulfilled"
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(AuditLog).where(AuditLog.action == "user.kyc_verified"))
    player_put = client.put(
        f"/v1/admin/users/{player['user']['id']}/kyc", json={"verified": True}, headers=headers
    )
    assert player_put.status_code == 403


@pytest.mark.parametrize("settings", [{"fraud_orders_per_fingerprint": 1}], indirect=True)
def test_one_card_across_accounts_holds_the_second_stripe_order(
    client, stripe, catalog, platform, admin
):
    """The card fingerprint comes from the PaymentIntent's expanded latest charge."""
    statuses = []
    for card in ("fp_card_a", "fp_card_b", "fp_card_a"):
        headers = _player(platform)
        bought = client.post(
            "/v1/checkout",
            json={"items": [{"sku_id": "sword", "quantity": 1}], "currency": "USD"},
            headers=headers,
        ).get_json()
        intent_id = bought["payment"]["payment_intent_id"]
        stripe.succeed(intent_id, card_fingerprint=card)
        verified = client.post(
            "/v1/commerce/verify-receipt",
            json={"provider": "stripe", "payment_intent_id": intent_id},
            headers=headers,
        )
        statuses.append(verified.get_json()["order"]["status"])
    assert statuses == ["fulfilled", "fulfilled", "held"]
    held = client.get("/v1/admin/orders?status=held", headers=admin).get_json()["items"]
    assert [o["fraud_reasons"] for o in held] == [["velocity_fingerprint"]]


@pytest.mark.parametrize("settings", [{"fraud_orders_per_player": 1}], indirect=True)
def test_a_held_order_refunded_at_the_provider_is_refunded_here(
    client, paypal, catalog, platform, admin
):
    headers = _player(platform)
    buy(client, paypal, headers, "sword")
    held = buy(client, paypal, headers, "gems")
    refunded = paypal.event("PAYMENT.CAPTURE.REFUNDED", {"custom_id": held["order"]["id"]})
    body = json.dumps(refunded)
    client.post("/v1/webhooks/paypal", data=body, headers=paypal.sign(body))
    SimpleWorker([platform.jobs.queue("webhook_processing")], connection=platform.redis).work(
        burst=True
    )
    order = client.get(f"/v1/orders/{held['order']['id']}", headers=headers).get_json()
    assert order["status"] == "refunded"
    late = client.post(
        f"/v1/admin/orders/{held['order']['id']}/cancel", json={"reason": "x"}, headers=admin
    )
    assert late.status_code == 409 and late.get_json()["code"] == "order_not_held"
