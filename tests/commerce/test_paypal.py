"""PayPal as the second web payment provider, with the fake PayPal: checkout, the buyer's
approval, capture (retried idempotently), webhooks verified by PayPal's postback and applied
once by a job, refunds reversing the order."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta

import requests
from rq import SimpleWorker
from sqlalchemy import select

from player_platform.commerce.models import Order
from player_platform.wallet.models import Entitlement
from player_platform.webhooks.models import WebhookEvent
from tests.support import bearer, signed_up


def _deliver(client, paypal, event: dict, **options):
    body = json.dumps(event)
    return client.post("/v1/webhooks/paypal", data=body, headers=paypal.sign(body, **options))


def _drain(platform) -> None:
    queues = [platform.jobs.queue("webhook_processing")]
    SimpleWorker(queues, connection=platform.redis).work(burst=True)


def paypal_checkout(client, headers, items, **extra) -> dict:
    response = client.post(
        "/v1/checkout",
        json={"items": items, "currency": "USD", "provider": "paypal", **extra},
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def capture(client, headers, order_id, **options):
    return client.post(
        "/v1/commerce/paypal/capture", json={"order_id": order_id}, headers=headers, **options
    )


def test_paypal_checkout_approve_capture_fulfils_and_a_retry_captures_nothing_twice(
    client, paypal, catalog, platform
):
    headers = bearer(signed_up(platform)["access_token"])
    bought = paypal_checkout(client, headers, [{"sku_id": "starter", "quantity": 1}])
    paypal_order_id = bought["payment"]["paypal_order_id"]
    assert bought["order"]["provider"] == "paypal" and bought["order"]["status"] == "pending"
    assert paypal_order_id in bought["payment"]["approve_url"]
    unit = paypal.orders[paypal_order_id]["purchase_units"][0]
    assert unit["amount"] == {"currency_code": "USD", "value": "9.99"}

    early = capture(client, headers, bought["order"]["id"])
    assert early.status_code == 402 and early.get_json()["code"] == "payment_declined"
    paypal.approve(paypal_order_id)
    done = capture(client, headers, bought["order"]["id"])
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["order"]["status"] == "fulfilled"
    again = capture(client, headers, bought["order"]["id"])
    assert again.get_json()["order"]["status"] == "fulfilled"
    assert paypal.captures == 1
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 100}

    completed = paypal.event("PAYMENT.CAPTURE.COMPLETED", paypal.capture_of(paypal_order_id))
    assert _deliver(client, paypal, completed).get_json() == {
        "received": True,
        "duplicate": False,
    }
    _drain(platform)
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 100}


def test_a_capture_lost_on_the_way_back_is_answered_again_by_paypal(
    client, paypal, catalog, platform
):
    """The capture happened at PayPal but our answer was lost: the retry sends the same
    PayPal-Request-Id, PayPal answers the first capture, and the order is fulfilled once."""
    headers = bearer(signed_up(platform)["access_token"])
    bought = paypal_checkout(client, headers, [{"sku_id": "sword", "quantity": 1}])
    paypal_order_id = bought["payment"]["paypal_order_id"]
    paypal.approve(paypal_order_id)
    api = platform.paypal
    api.capture_order(order_id=uuid.UUID(bought["order"]["id"]), paypal_order_id=paypal_order_id)
    done = capture(client, headers, bought["order"]["id"])
    assert done.status_code == 200 and done.get_json()["order"]["status"] == "fulfilled"
    assert paypal.captures == 1
    assert [e["sku_id"] for e in done.get_json()["entitlements"]] == ["sword"]


def test_a_paypal_webhook_alone_fulfils_once_even_replayed(client, paypal, catalog, platform):
    headers = bearer(signed_up(platform)["access_token"])
    bought = paypal_checkout(client, headers, [{"sku_id": "gems", "quantity": 50}])
    paypal_order_id = bought["payment"]["paypal_order_id"]
    paypal.approve(paypal_order_id)
    paypal.capture(paypal_order_id)  # captured by the buyer's page; our capture never ran
    event = paypal.event("PAYMENT.CAPTURE.COMPLETED", paypal.capture_of(paypal_order_id))
    first = _deliver(client, paypal, event)
    replayed = _deliver(client, paypal, event)  # a new transmission of the same event
    assert first.get_json()["duplicate"] is False and replayed.get_json()["duplicate"] is True
    _drain(platform)
    order = client.get(f"/v1/orders/{bought['order']['id']}", headers=headers).get_json()
    assert order["status"] == "fulfilled"
    ledger = client.get("/v1/me/ledger", headers=headers).get_json()["items"]
    assert [(e["change_type"], e["quantity"]) for e in ledger] == [("grant", 50)]

    refunded = paypal.event("PAYMENT.CAPTURE.REFUNDED", {"custom_id": bought["order"]["id"]})
    _deliver(client, paypal, refunded)
    _drain(platform)
    order = client.get(f"/v1/orders/{bought['order']['id']}", headers=headers).get_json()
    assert order["status"] == "refunded"
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 0}


def test_paypal_webhooks_with_a_bad_signature_or_stale_time_are_refused(client, paypal, platform):
    event = paypal.event("PAYMENT.CAPTURE.COMPLETED", {"custom_id": str(uuid.uuid4())})
    body = json.dumps(event)
    headers = paypal.sign(body)
    tampered = client.post("/v1/webhooks/paypal", data=body.replace("1.0", "2.0"), headers=headers)
    forged = client.post(
        "/v1/webhooks/paypal",
        data=body,
        headers={**headers, "PAYPAL-TRANSMISSION-SIG": headers["PAYPAL-TRANSMISSION-SIG"][::-1]},
    )
    old = (datetime.now(UTC) - timedelta(minutes=11)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stale = _deliver(client, paypal, event, transmission_time=old)
    missing = client.post("/v1/webhooks/paypal", json=event)
    for response in (tampered, forged, stale, missing):
        assert response.status_code == 401, response.get_json()
        assert response.get_json()["code"] == "invalid_signature"
    with platform.db.unit_of_work() as session:
        assert session.scalars(select(WebhookEvent)).all() == []


def test_concurrent_captures_and_webhooks_grant_once(
    live_server, live_platform, paypal, fake_servers
):
    from tests.commerce.conftest import seed_catalog

    seed_catalog(live_platform)
    headers = bearer(signed_up(live_platform)["access_token"])
    bought = requests.post(
        f"{live_server}/v1/checkout",
        json={
            "items": [{"sku_id": "sword", "quantity": 1}],
            "currency": "USD",
            "provider": "paypal",
        },
        headers=headers,
        timeout=10,
    ).json()
    paypal_order_id = bought["payment"]["paypal_order_id"]
    paypal.approve(paypal_order_id)
    paypal.capture(paypal_order_id)
    event = paypal.event("PAYMENT.CAPTURE.COMPLETED", paypal.capture_of(paypal_order_id))
    statuses: list[int] = []

    def buyer():
        statuses.append(
            requests.post(
                f"{live_server}/v1/commerce/paypal/capture",
                json={"order_id": bought["order"]["id"]},
                headers=headers,
                timeout=30,
            ).status_code
        )

    def provider():
        statuses.append(paypal.send(f"{live_server}/v1/webhooks/paypal", event).status_code)

    threads = [threading.Thread(target=f) for f in (buyer, buyer, buyer, provider, provider)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _drain(live_platform)
    assert sorted(statuses) == [200] * 5
    order_id = uuid.UUID(bought["order"]["id"])
    with live_platform.db.unit_of_work() as session:
        assert session.get(Order, order_id).status == "fulfilled"
        grants = session.scalars(select(Entitlement).where(Entitlement.order_id == order_id))
        assert [e.sku_id for e in grants] == ["sword"]
