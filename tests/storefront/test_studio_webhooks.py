"""Signed webhooks to a studio's own endpoint, a real HTTP server on loopback: the signature
verifies as README says, failures retry with a doubling backoff, the last failure dead-letters,
an admin replays it, and concurrent runs of one delivery send it once."""

from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from player_platform.audit.models import AuditLog
from player_platform.audit.service import SYSTEM
from player_platform.db import utcnow
from player_platform.studiohooks import service as studiohooks
from player_platform.studiohooks.models import StudioDelivery, StudioEvent
from tests.storefront.conftest import drain, pay_with_stripe, player_headers
from tests.support import signed_up


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a studio does with PP-Signature (README, "Studio webhooks")."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def add_endpoint(client, admin, url, events=("order.fulfilled", "order.refunded")) -> dict:
    response = client.post(
        "/v1/admin/webhook-endpoints", json={"url": url, "events": list(events)}, headers=admin
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def listen(platform, url: str) -> None:
    """An endpoint for stock.low, made through the service (not the subject of the test)."""
    with platform.db.unit_of_work() as session:
        studiohooks.create_endpoint(
            session, vault=platform.vault, actor_id=None, origin=SYSTEM, now=utcnow(),
            url=url, events=["stock.low"],
        )  # fmt: skip


def emit_one(platform, event_type="stock.low", payload=None) -> uuid.UUID:
    with platform.db.unit_of_work() as session:
        event = studiohooks.emit(
            session, event_type, payload or {"sku_id": "game", "available": 3}, jobs=platform.jobs
        )
        return session.scalars(
            select(StudioDelivery.id).where(StudioDelivery.event_id == event.id)
        ).one()


def test_a_fulfilled_order_reaches_the_studio_signed_and_the_secret_shows_once(
    store_client, store_platform, admin, receiver, stripe, shop
):
    endpoint = add_endpoint(store_client, admin, receiver.url)
    assert endpoint["secret"].startswith("whsec_")
    listed = store_client.get("/v1/admin/webhook-endpoints", headers=admin).get_json()
    assert listed["items"][0]["id"] == endpoint["id"] and "secret" not in listed["items"][0]
    player = signed_up(store_platform)

    order = pay_with_stripe(
        store_client, stripe, store_platform, player_headers(player),
        [{"sku_id": "sword", "quantity": 2}],
    )  # fmt: skip
    drain(store_platform, "studio_webhooks")

    [hit] = receiver.received
    assert verify(endpoint["secret"], hit.headers["Pp-Signature"], hit.body)
    assert not verify(endpoint["secret"], hit.headers["Pp-Signature"], hit.body + b" ")
    assert hit.headers["Pp-Event-Type"] == "order.fulfilled"
    assert hit.event["type"] == "order.fulfilled"
    assert hit.event["data"]["order_id"] == order["id"]
    assert hit.event["data"]["total"] == 998 and hit.event["data"]["status"] == "fulfilled"
    deliveries = store_client.get("/v1/admin/webhook-deliveries", headers=admin).get_json()
    assert [(d["status"], d["attempts"]) for d in deliveries["items"]] == [("delivered", 1)]
    with store_platform.db.unit_of_work() as session:
        audit = session.scalars(
            select(AuditLog).where(AuditLog.action == "studio_webhook.create")
        ).one()
        assert endpoint["secret"] not in str(audit.new_values)


def test_an_event_exists_only_if_its_change_committed(store_platform, admin, receiver):
    listen(store_platform, receiver.url)
    with pytest.raises(RuntimeError), store_platform.db.unit_of_work() as session:
        studiohooks.emit(session, "stock.low", {"sku_id": "x"}, jobs=store_platform.jobs)
        raise RuntimeError("the change failed")
    drain(store_platform, "studio_webhooks")
    with store_platform.db.unit_of_work() as session:
        assert session.scalars(select(StudioEvent)).all() == []
    assert receiver.received == []


def test_failures_retry_with_a_doubling_backoff_then_deliver(store_platform, admin, receiver):
    p = store_platform
    listen(p, receiver.url)
    delivery_id = emit_one(p)
    receiver.answer((500, 0), (200, 2.0))  # an error, then an answer slower than the 1 s allowed
    policy = studiohooks.Policy(max_attempts=5, backoff_seconds=10)
    t0 = utcnow()

    def attempt(at):
        return studiohooks.attempt(
            p.db, http=p.studio_http, vault=p.vault, policy=policy, delivery_id=delivery_id, now=at
        )

    first = attempt(t0)
    assert (first.status, first.attempts, first.last_status) == ("pending", 1, 500)
    assert first.next_attempt_at == t0 + timedelta(seconds=10)
    assert attempt(t0 + timedelta(seconds=5)) is None  # not due: nothing sent
    assert len(receiver.received) == 1
    second = attempt(t0 + timedelta(seconds=10))
    assert (second.status, second.attempts) == ("pending", 2)
    assert "ReadTimeout" in second.last_error
    assert second.next_attempt_at == t0 + timedelta(seconds=10 + 20)
    third = attempt(t0 + timedelta(seconds=30))
    assert (third.status, third.attempts, third.last_status) == ("delivered", 3, 200)
    assert len(receiver.received) == 3
    assert len({r.event["id"] for r in receiver.received}) == 1  # the same event each time
    assert attempt(t0 + timedelta(hours=1)) is None  # delivered: never sent again


def test_the_last_failure_dead_letters_and_an_admin_replays_it(
    store_client, store_platform, admin, receiver
):
    add_endpoint(store_client, admin, receiver.url, events=["stock.low"])
    delivery_id = emit_one(store_platform)
    receiver.answer((503, 0), (500, 0), (502, 0))
    now = utcnow()
    for attempt in range(3):  # PP_STUDIO_WEBHOOK_MAX_ATTEMPTS=3 in this platform
        studiohooks.attempt(
            store_platform.db, http=store_platform.studio_http, vault=store_platform.vault,
            policy=store_platform.studio_webhook_policy, delivery_id=delivery_id,
            now=now + timedelta(hours=attempt),
        )  # fmt: skip

    dead = store_client.get(
        "/v1/admin/webhook-deliveries", query_string={"status": "dead"}, headers=admin
    ).get_json()["items"]
    assert [(d["id"], d["attempts"], d["last_status"]) for d in dead] == [
        (str(delivery_id), 3, 502)
    ]
    assert dead[0]["event_type"] == "stock.low"
    replayed = store_client.post(
        f"/v1/admin/webhook-deliveries/{delivery_id}/replay", headers=admin
    )
    assert replayed.status_code == 200 and replayed.get_json()["status"] == "pending"
    drain(store_platform, "studio_webhooks")
    assert len(receiver.received) == 4
    delivered = store_client.get(
        "/v1/admin/webhook-deliveries", query_string={"status": "delivered"}, headers=admin
    ).get_json()["items"]
    assert [d["id"] for d in delivered] == [str(delivery_id)]
    again = store_client.post(f"/v1/admin/webhook-deliveries/{delivery_id}/replay", headers=admin)
    assert again.get_json()["status"] == "delivered"  # a delivered one is not sent twice
    drain(store_platform, "studio_webhooks")
    assert len(receiver.received) == 4
    with store_platform.db.unit_of_work() as session:
        replays = session.scalars(
            select(AuditLog).where(AuditLog.action == "studio_webhook.replay")
        ).all()
        assert [r.resource_id for r in replays] == [str(delivery_id)]
    missing = store_client.post(
        f"/v1/admin/webhook-deliveries/{uuid.uuid4()}/replay", headers=admin
    )
    assert missing.status_code == 404 and missing.get_json()["code"] == "webhook_delivery_not_found"


def test_concurrent_runs_of_one_delivery_send_it_once(live_platform, receiver):
    p = live_platform
    listen(p, receiver.url)
    delivery_id = emit_one(p)
    receiver.answer((200, 0.5))  # slow enough for every run to try while the first one sends
    start = threading.Barrier(8)
    outcomes = []

    def run():
        start.wait()
        outcomes.append(
            studiohooks.attempt(
                p.db,
                http=p.studio_http,
                vault=p.vault,
                policy=p.studio_webhook_policy,
                delivery_id=delivery_id,
                now=utcnow(),
            )
        )

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(receiver.received) == 1
    assert [o.status for o in outcomes if o is not None] == ["delivered"]


def test_the_redrive_sends_what_lost_its_job(store_platform, admin, receiver):
    p = store_platform
    listen(p, receiver.url)
    emit_one(p)
    p.redis.flushdb()  # Redis lost the queued job
    later = utcnow() + timedelta(minutes=5)
    with p.db.unit_of_work() as session:
        assert studiohooks.redrive(session, jobs=p.jobs, now=later) == 1
    drain(p, "studio_webhooks")
    assert len(receiver.received) == 1


def test_endpoint_input_is_checked_and_changes_are_audited(store_client, admin, receiver):
    bad = store_client.post(
        "/v1/admin/webhook-endpoints",
        json={"url": "ftp://studio.example/x", "events": ["order.shipped"]},
        headers=admin,
    )
    assert bad.status_code == 422
    endpoint = add_endpoint(store_client, admin, receiver.url)
    path = f"/v1/admin/webhook-endpoints/{endpoint['id']}"
    paused = store_client.patch(
        path, json={"active": False, "events": ["stock.low"]}, headers=admin
    )
    assert paused.get_json()["active"] is False and paused.get_json()["events"] == ["stock.low"]
    assert store_client.delete(path, headers=admin).status_code == 204
    assert store_client.get(path, headers=admin).get_json()["code"] == "webhook_endpoint_not_found"


def test_a_failed_attempt_schedules_its_retry_with_rq_at_the_backoff(
    store_platform, admin, receiver
):
    listen(store_platform, receiver.url)
    delivery_id = emit_one(store_platform)
    receiver.answer((500, 0))
    drain(store_platform, "studio_webhooks")  # the job's attempt fails
    with store_platform.db.unit_of_work() as session:
        delivery = session.get(StudioDelivery, delivery_id)
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        retry_id = studiohooks.job_id(delivery.id, delivery.next_attempt_at)
    scheduled = store_platform.jobs.queue("studio_webhooks").scheduled_job_registry
    assert scheduled.get_job_ids() == [retry_id]
    assert len(receiver.received) == 1
