"""Storefront fixtures: a studio's webhook receiver on loopback (answers scripted per request),
a platform that mails to the loopback SMTP server, and a paid Stripe order."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest
from flask import Flask, request
from rq import SimpleWorker
from sqlalchemy import select

from player_platform.app import create_app
from player_platform.db import utcnow
from player_platform.identity.models import Identity
from player_platform.platform import Platform, bind_current
from tests import factories
from tests.fakes import serve
from tests.fakes.stripe import sign
from tests.support import bearer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """The studio's endpoint: records every request, answers each with the next scripted
    (status, seconds to wait) or 200 at once when the script is spent."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    script: list[tuple[int, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *answers: tuple[int, float]) -> None:
        with self.lock:
            self.script.extend(answers)

    def _next(self) -> tuple[int, float]:
        with self.lock:
            self.received.append(Received(dict(request.headers), request.get_data()))
            return self.script.pop(0) if self.script else (200, 0.0)


def receiver_app(receiver: Receiver) -> Flask:
    app = Flask("studio")

    @app.post("/hooks")
    def hook():
        status, seconds = receiver._next()
        time.sleep(seconds)
        return {"ok": status < 300}, status

    return app


@pytest.fixture
def receiver():
    state = Receiver()
    with serve(receiver_app(state)) as url:
        state.url = f"{url}/hooks"
        yield state


@pytest.fixture
def store_platform(settings, db, smtp_server, platform) -> Platform:
    """Short receiver timeout (a hung endpoint fails its attempt in 1 s), 3 attempts, mail to
    the loopback SMTP server; bound after the default ``platform`` (which ``admin`` uses), so
    jobs run on this one."""
    p = Platform.from_settings(
        dataclasses.replace(
            settings,
            smtp_url=smtp_server[0],
            studio_webhook_timeout_seconds=1,
            studio_webhook_max_attempts=3,
        ),
        db=db,
    )
    bind_current(p)
    return p


@pytest.fixture
def store_client(store_platform):
    return create_app(platform=store_platform).test_client()


@pytest.fixture
def shop(store_platform):
    """A catalog of one game key and one durable."""
    with store_platform.db.unit_of_work() as session:
        factories.sku(session, sku_id="sword", type="durable", name="Flame Sword",
                      prices={"USD": 499, "EUR": 450})  # fmt: skip
        factories.sku(session, sku_id="game", type="durable", name="Hollow Knight",
                      prices={"USD": 1499})  # fmt: skip


def drain(platform: Platform, *queues: str) -> None:
    names = queues or ("webhook_processing", "studio_webhooks", "notification_send")
    SimpleWorker([platform.jobs.queue(q) for q in names], connection=platform.redis).work(
        burst=True
    )


def verify_email(platform: Platform, user_id: str) -> None:
    with platform.db.unit_of_work() as session:
        identity = session.scalars(
            select(Identity).where(Identity.user_id == uuid.UUID(user_id))
        ).one()
        identity.verified_at = utcnow()


def pay_with_stripe(client, stripe, platform, headers, items, *, tax: int | None = None) -> dict:
    """Checkout, the customer pays (Stripe charges ``tax`` if given), the signed webhook is
    applied by its job: the order, fulfilled."""
    response = client.post(
        "/v1/checkout", json={"items": items, "currency": "USD"}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    intent_id = response.get_json()["payment"]["payment_intent_id"]
    if tax is not None:
        stripe.intents[intent_id]["amount_details"] = {"tax": {"total_tax_amount": tax}}
    body = json.dumps(stripe.succeed(intent_id))
    assert client.post("/v1/webhooks/stripe", data=body, headers=sign(body)).status_code == 200
    drain(platform, "webhook_processing")
    order_id = response.get_json()["order"]["id"]
    order = client.get(f"/v1/orders/{order_id}", headers=headers).get_json()
    assert order["status"] == "fulfilled"
    return order


def player_headers(player: dict) -> dict[str, str]:
    return bearer(player["access_token"])
