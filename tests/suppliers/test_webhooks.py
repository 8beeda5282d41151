"""Kinguin's webhook (PROVIDERS.md 4.1): X-Event-Secret checked in constant time, each event
stored once, answered 204 empty, applied by a job that hands the order's keys to fulfilment."""

from __future__ import annotations

import json
import time

from rq import SimpleWorker
from sqlalchemy import func, select

from player_platform.keys import fulfilment
from player_platform.keys.models import GameKey, KeyLine
from player_platform.suppliers import offers
from player_platform.webhooks.models import WebhookEvent
from tests.fakes.kinguin import FakeKinguin, event_headers
from tests.suppliers.conftest import paid_orders, seed_game

URL = "/v1/webhooks/suppliers/kinguin"


def _pending_kinguin_order(platform, kinguin: FakeKinguin) -> str:
    seed_game(platform, ("kinguin", "kg-game", 1))
    kinguin.stock("kg-game", price="3.20", qty=10)
    kinguin.complete_later = True
    offers.sync(platform.db, platform.suppliers.adapters)
    (order_id,) = paid_orders(platform, 1)
    fulfilment.fulfil_order(platform.key_fulfilment, order_id)
    with platform.db.unit_of_work() as session:
        line = session.scalars(select(KeyLine)).one()
        assert (line.status, line.supplier) == ("supplier_pending", "kinguin")
    return next(iter(kinguin.orders))


def _drain(platform) -> None:
    queue = platform.jobs.queue("webhook_processing")
    SimpleWorker([queue], connection=platform.jobs.redis).work(burst=True)


def test_an_unknown_supplier_is_404(client):
    response = client.post("/v1/webhooks/suppliers/nobody", data=b"{}", headers=event_headers())
    assert (response.status_code, response.get_json()["code"]) == (404, "supplier_not_found")


def test_a_wrong_secret_is_refused_and_nothing_stored(client, platform, kinguin):
    body = json.dumps({"orderId": "X", "orderExternalId": "r", "status": "completed"})
    for headers in (event_headers(secret="guess"), {"Content-Type": "application/json"}):
        response = client.post(URL, data=body, headers=headers)
        assert (response.status_code, response.get_json()["code"]) == (401, "invalid_signature")
    garbage = client.post(URL, data=b"[1]", headers=event_headers())
    assert (garbage.status_code, garbage.get_json()["code"]) == (422, "invalid_event")
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_order_completed_delivers_its_keys_once_however_often_it_comes(client, platform, kinguin):
    kinguin_order = _pending_kinguin_order(platform, kinguin)
    event = kinguin.complete(kinguin_order)
    # At least once: a redelivery is stored once, applied once; the content type as
    # Kinguin's documentation spells it is taken too.
    for content_type in ("application/json", "aplication/json"):
        headers = {**event_headers(), "Content-Type": content_type}
        response = client.post(URL, data=json.dumps(event), headers=headers)
        assert response.status_code == 204 and response.data == b""
    _drain(platform)
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
        assert session.scalars(select(WebhookEvent.status)).one() == "processed"
        assert session.scalars(select(KeyLine.status)).one() == "delivered"
        keys = session.scalars(select(GameKey)).all()
    assert [k.source for k in keys] == ["kinguin"]
    assert kinguin.charged() == 1


def test_the_fake_delivers_its_webhook_over_http(live_server, live_platform, kinguin):
    kinguin.webhook_url = f"{live_server}{URL}"
    kinguin_order = _pending_kinguin_order(live_platform, kinguin)
    kinguin.complete(kinguin_order)
    deadline = time.time() + 5
    while time.time() < deadline:
        with live_platform.db.unit_of_work() as session:
            if session.scalar(select(func.count()).select_from(WebhookEvent)):
                break
        time.sleep(0.05)
    _drain(live_platform)
    with live_platform.db.unit_of_work() as session:
        assert session.scalars(select(KeyLine.status)).one() == "delivered"
