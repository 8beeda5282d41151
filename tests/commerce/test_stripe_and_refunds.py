"""Web store with the fake Stripe: checkout, signed webhooks applied once by a job, refunds
and chargebacks that revoke and claw back (with debt), player refund requests, Steam reports."""

from __future__ import annotations

import json
import time

from rq import SimpleWorker
from sqlalchemy import select

from player_platform.audit.models import AuditLog
from player_platform.webhooks.models import WebhookEvent
from tests.commerce.conftest import buy_on_steam, steam_player
from tests.fakes.stripe import sign
from tests.support import bearer, signed_up
from workers import commerce as commerce_jobs


def _deliver(client, event: dict, **options):
    body = json.dumps(event)
    return client.post("/v1/webhooks/stripe", data=body, headers=sign(body, **options))


def _drain(platform) -> None:
    queues = [platform.jobs.queue("webhook_processing")]
    SimpleWorker(queues, connection=platform.redis).work(burst=True)


def _checkout(client, headers, items) -> dict:
    response = client.post(
        "/v1/checkout", json={"items": items, "currency": "USD"}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_stripe_checkout_webhook_grants_once_and_dispute_claws_back(
    client, stripe, catalog, platform
):
    headers = bearer(signed_up(platform)["access_token"])
    bought = _checkout(client, headers, [{"sku_id": "starter", "quantity": 1}])
    intent_id = bought["payment"]["payment_intent_id"]
    assert bought["payment"]["client_secret"].startswith(intent_id)
    assert stripe.intents[intent_id]["amount"] == 999

    event = stripe.succeed(intent_id)
    first, again = _deliver(client, event), _deliver(client, event)
    assert first.get_json() == {"received": True, "duplicate": False}
    assert again.get_json() == {"received": True, "duplicate": True}
    _drain(platform)
    order = client.get(f"/v1/orders/{bought['order']['id']}", headers=headers).get_json()
    assert order["status"] == "fulfilled"
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 100}

    spent = client.post(
        "/v1/me/wallet/spend", json={"sku_id": "gems", "quantity": 60}, headers=headers
    )
    assert spent.get_json() == {"sku_id": "gems", "balance": 40}
    dispute = stripe.event("charge.dispute.created", {"id": "dp_1", "payment_intent": intent_id})
    _deliver(client, dispute)
    _drain(platform)
    order = client.get(f"/v1/orders/{bought['order']['id']}", headers=headers).get_json()
    assert order["status"] == "charged_back"
    wallet = client.get("/v1/me/wallet", headers=headers).get_json()
    assert wallet == {"balances": {"gems": 0}, "debts": {"gems": 60}}
    assert client.get("/v1/me/entitlements", headers=headers).get_json()["items"] == []
    blocked = client.post(
        "/v1/me/wallet/spend", json={"sku_id": "gems", "quantity": 1}, headers=headers
    )
    assert blocked.status_code == 409 and blocked.get_json()["code"] == "wallet_in_debt"
    ledger = client.get("/v1/me/ledger", headers=headers).get_json()["items"]
    assert [(e["change_type"], e["quantity"], e["balance_after"]) for e in ledger] == [
        ("clawback", -40, 0),
        ("spend", -60, 40),
        ("grant", 100, 100),
    ]
    with platform.db.unit_of_work() as session:
        events = session.scalars(select(WebhookEvent)).all()
        assert {e.status for e in events} == {"processed"} and len(events) == 2
        assert session.scalar(select(AuditLog).where(AuditLog.action == "order.chargeback"))


def test_stripe_webhook_rejects_bad_and_stale_signatures(client, stripe):
    event = stripe.event("payment_intent.succeeded", {"id": "pi_x"})
    stale = _deliver(client, event, timestamp=int(time.time()) - 301)
    forged = _deliver(client, event, secret="whsec_wrong")
    missing = client.post("/v1/webhooks/stripe", json=event)
    for response in (stale, forged, missing):
        assert response.status_code == 401
        assert response.get_json()["code"] == "invalid_signature"


def test_refund_request_is_approved_at_once_when_nothing_was_consumed(
    client, stripe, catalog, platform
):
    headers = bearer(signed_up(platform)["access_token"])
    bought = _checkout(client, headers, [{"sku_id": "sword", "quantity": 1}])
    intent_id = bought["payment"]["payment_intent_id"]
    stripe.succeed(intent_id)
    verified = client.post(
        "/v1/commerce/verify-receipt",
        json={"provider": "stripe", "payment_intent_id": intent_id},
        headers=headers,
    ).get_json()
    assert verified["order"]["status"] == "fulfilled"

    refund = client.post(
        f"/v1/orders/{bought['order']['id']}/refund-requests",
        json={"reason": "bought by mistake"},
        headers=headers,
    ).get_json()
    assert refund["status"] == "approved"
    assert stripe.refunds[0]["payment_intent"] == intent_id
    order = client.get(f"/v1/orders/{bought['order']['id']}", headers=headers).get_json()
    assert order["status"] == "refunded"
    revoked = client.get("/v1/me/entitlements?status=revoked", headers=headers).get_json()
    assert [(e["sku_id"], e["revocation_reason"]) for e in revoked["items"]] == [
        ("sword", "refunded")
    ]
    # The refund event Stripe sends afterwards changes nothing more.
    _deliver(client, stripe.event("charge.refunded", stripe.charge(intent_id, amount_refunded=499)))
    _drain(platform)
    with platform.db.unit_of_work() as session:
        refunds = session.scalars(select(AuditLog).where(AuditLog.action == "order.refund")).all()
        assert len(refunds) == 1


def test_consumed_purchase_waits_for_an_admin_who_approves(client, steam, catalog, platform, admin):
    headers, _ = steam_player(client, steam)
    bought = buy_on_steam(client, steam, headers, sku_id="gems", quantity=50)
    client.post("/v1/me/wallet/spend", json={"sku_id": "gems", "quantity": 10}, headers=headers)
    refund = client.post(
        f"/v1/orders/{bought['order']['id']}/refund-requests",
        json={"reason": "changed my mind"},
        headers=headers,
    ).get_json()
    assert refund["status"] == "pending"
    denied_player = client.post(
        f"/v1/admin/refund-requests/{refund['id']}/approve", json={}, headers=headers
    )
    assert denied_player.status_code == 403
    approved = client.post(
        f"/v1/admin/refund-requests/{refund['id']}/approve",
        json={"reason": "goodwill"},
        headers=admin,
    )
    assert approved.get_json()["status"] == "approved"
    assert steam.txns[bought["order"]["provider_order_id"]]["status"] == "Refunded"
    assert client.get("/v1/me/wallet", headers=headers).get_json() == {
        "balances": {"gems": 0},
        "debts": {"gems": 10},
    }
    # Steam's report shows the refund later: polling applies it once more as a no-op.
    assert commerce_jobs.poll_steam() == {"settled": 0, "reversed": 0}


def test_steam_report_polling_applies_a_chargeback(client, steam, catalog, platform):
    headers, _ = steam_player(client, steam)
    bought = buy_on_steam(client, steam, headers, sku_id="sword")
    steam.reverse(bought["order"]["provider_order_id"], "Chargedback")
    assert commerce_jobs.poll_steam() == {"settled": 0, "reversed": 1}
    assert commerce_jobs.poll_steam() == {"settled": 0, "reversed": 0}
    order = client.get(f"/v1/orders/{bought['order']['id']}", headers=headers).get_json()
    assert order["status"] == "charged_back"
    assert commerce_jobs.reconcile_wallets() == 0
