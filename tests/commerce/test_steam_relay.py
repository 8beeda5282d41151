"""A studio's Steam relay at /v1/webhooks/steam: HMAC-signed refunds and chargebacks applied
by the same reversal as GetReport polling, once, whichever comes first."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from rq import SimpleWorker

from tests.commerce.conftest import buy_on_steam, steam_player
from tests.conftest import STEAM_RELAY_SECRET
from workers import commerce as commerce_jobs


def _relay(client, event: dict, *, secret=STEAM_RELAY_SECRET, at=None):
    body = json.dumps(event).encode()
    timestamp = str(int(at or time.time()))
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {
        "X-PP-Timestamp": timestamp,
        "X-PP-Signature": f"sha256={mac}",
        "Content-Type": "application/json",
    }
    return client.post("/v1/webhooks/steam", data=body, headers=headers)


def _drain(platform) -> None:
    queue = platform.jobs.queue("webhook_processing")
    SimpleWorker([queue], connection=platform.redis).work(burst=True)


def test_a_relayed_chargeback_reverses_the_order_once(client, steam, catalog, platform):
    headers, _ = steam_player(client, steam)
    bought = buy_on_steam(client, steam, headers, sku_id="sword")
    orderid = bought["order"]["provider_order_id"]
    event = {
        "id": "relay-1",
        "type": "chargeback",
        "transaction": {"orderid": orderid, "status": "Chargedback", "items": []},
    }
    assert _relay(client, event).get_json() == {"received": True, "duplicate": False}
    assert _relay(client, event).get_json() == {"received": True, "duplicate": True}
    _drain(platform)
    order = client.get(f"/v1/orders/{bought['order']['id']}", headers=headers).get_json()
    assert order["status"] == "charged_back"
    steam.reverse(orderid, "Chargedback")  # the report shows it later: nothing left to do
    assert commerce_jobs.poll_steam() == {"settled": 0, "reversed": 0}
    assert commerce_jobs.reconcile_wallets() == 0


def test_the_relay_refuses_bad_signatures_old_timestamps_and_other_bodies(client):
    event = {"id": "r", "type": "refund", "transaction": {"orderid": "1", "status": "Refunded"}}
    forged = _relay(client, event, secret="wrong")
    old = _relay(client, event, at=time.time() - 600)
    odd = _relay(client, {"id": "r", "type": "gift", "transaction": {}})
    assert (forged.status_code, forged.get_json()["code"]) == (401, "invalid_signature")
    assert old.status_code == 401
    assert (odd.status_code, odd.get_json()["code"]) == (422, "invalid_event")
