"""Invariant 5, no lost webhook: Stripe delivers one event many times at once, then Redis is
emptied before any worker ran the job; the re-drive finds the stored event and it is applied
exactly once."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from rq import SimpleWorker
from sqlalchemy import func, select

from player_platform.db import utcnow
from player_platform.wallet.models import LedgerEntry, Wallet
from player_platform.webhooks import service as webhooks
from player_platform.webhooks.models import WebhookEvent
from tests.commerce.conftest import seed_catalog
from tests.fakes.stripe import sign
from tests.support import PASSWORD

DELIVERIES = 12


def test_a_webhook_whose_job_was_lost_is_redriven_and_applied_once(
    live_server, live_platform, stripe
):
    seed_catalog(live_platform)
    player = requests.post(
        f"{live_server}/v1/auth/register",
        json={"email": "web@example.com", "password": PASSWORD, "display_name": "Web"},
        timeout=10,
    ).json()
    headers = {"Authorization": f"Bearer {player['access_token']}"}
    bought = requests.post(
        f"{live_server}/v1/checkout",
        json={"items": [{"sku_id": "starter", "quantity": 1}], "currency": "USD"},
        headers=headers,
        timeout=10,
    ).json()
    body = json.dumps(stripe.succeed(bought["payment"]["payment_intent_id"]))
    barrier = threading.Barrier(DELIVERIES)

    def deliver(_):
        barrier.wait()
        return requests.post(
            f"{live_server}/v1/webhooks/stripe", data=body, headers=sign(body), timeout=20
        )

    with ThreadPoolExecutor(DELIVERIES) as pool:
        replies = list(pool.map(deliver, range(DELIVERIES)))
    assert {r.status_code for r in replies} == {200}
    assert sorted(r.json()["duplicate"] for r in replies) == [False] + [True] * (DELIVERIES - 1)

    live_platform.redis.flushdb()  # Redis lost the queued job before any worker took it
    queue = live_platform.jobs.queue("webhook_processing")
    assert queue.count == 0
    with live_platform.db.unit_of_work() as session:
        assert session.scalar(select(WebhookEvent.status)) == "pending"
        later = utcnow() + webhooks.REDRIVE_AFTER + timedelta(seconds=1)
        assert webhooks.redrive(session, jobs=live_platform.jobs, now=later) == 1
    SimpleWorker([queue], connection=live_platform.redis).work(burst=True)

    with live_platform.db.unit_of_work() as session:
        assert session.scalar(select(WebhookEvent.status)) == "processed"
        assert webhooks.redrive(session, jobs=live_platform.jobs, now=later) == 0
        assert session.scalar(select(Wallet.balance).where(Wallet.sku_id == "gems")) == 100
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    order = requests.get(
        f"{live_server}/v1/orders/{bought['order']['id']}", headers=headers, timeout=10
    ).json()
    assert order["status"] == "fulfilled"
