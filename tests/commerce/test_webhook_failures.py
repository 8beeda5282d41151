"""A correctly signed event that cannot be applied is tried PP_WEBHOOK_MAX_ATTEMPTS times, then
marked failed: kept, no longer re-driven, counted in /metrics, listed for admins, replayable."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from player_platform.audit.models import AuditLog
from player_platform.db import utcnow
from player_platform.webhooks import service as webhooks
from player_platform.webhooks.models import WebhookEvent
from tests.fakes.stripe import sign
from tests.support import bearer, register
from workers import commerce as jobs
from workers import webhooks as inbox


def _deliver_malformed(client, event_id: str) -> uuid.UUID:
    # Signed by Stripe, but `data.object` is an id, not an object: applying it raises.
    body = json.dumps(
        {"id": event_id, "type": "payment_intent.succeeded", "data": {"object": "pi_1"}}
    )
    reply = client.post("/v1/webhooks/stripe", data=body, headers=sign(body))
    assert reply.status_code == 200, reply.get_json()
    with client.application.extensions["player_platform"].db.unit_of_work() as session:
        return session.scalar(select(WebhookEvent.id).where(WebhookEvent.event_id == event_id))


def test_an_event_that_keeps_failing_is_marked_failed_then_replayed_by_an_admin(
    client, platform, admin, stripe
):
    platform.settings = dataclasses.replace(platform.settings, webhook_max_attempts=3)
    row_id = _deliver_malformed(client, "evt_bad_1")
    platform.jobs.queue("webhook_processing").empty()  # the attempts below are its job's runs
    for _ in range(2):
        with pytest.raises(AttributeError):
            jobs.process_stripe_event(str(row_id))
    assert jobs.process_stripe_event(str(row_id)) == "failed"  # the third attempt gives up
    with platform.db.unit_of_work() as session:
        event = session.get(WebhookEvent, row_id)
        assert (event.status, event.attempts) == ("failed", 3)
        assert "AttributeError" in event.last_error and event.failed_at is not None
        session.execute(
            update(WebhookEvent).values(received_at=utcnow() - timedelta(hours=1))
        )  # long past the re-drive delay: still not re-driven
        assert webhooks.redrive(session, jobs=platform.jobs, now=utcnow()) == 0

    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'pp_webhook_events_failed{provider="stripe"} 1.0' in metrics

    listed = client.get("/v1/admin/webhooks?provider=stripe&status=failed", headers=admin)
    assert listed.status_code == 200
    assert [(e["id"], e["attempts"]) for e in listed.get_json()["items"]] == [(str(row_id), 3)]

    replayed = client.post(f"/v1/admin/webhooks/{row_id}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.get_json()
    assert (replayed.get_json()["status"], replayed.get_json()["attempts"]) == ("pending", 0)
    assert platform.jobs.queue("webhook_processing").count == 1
    again = client.post(f"/v1/admin/webhooks/{row_id}/replay", headers=admin)
    assert again.status_code == 409 and again.get_json()["code"] == "webhook_event_not_failed"
    with platform.db.unit_of_work() as session:
        audit = session.scalar(select(AuditLog).where(AuditLog.action == "webhook.replay"))
        assert audit.old_values["status"] == "failed" and audit.resource_id == str(row_id)


def test_the_admin_list_pages_with_a_cursor_and_is_for_admins_only(client, platform, admin):
    ids = [_deliver_malformed(client, f"evt_page_{i}") for i in range(3)]
    seen, cursor = [], None
    while True:
        query = "/v1/admin/webhooks?provider=stripe&limit=2" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = client.get(query, headers=admin).get_json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(str(i) for i in ids)
    player = bearer(register(client)["access_token"])
    assert client.get("/v1/admin/webhooks", headers=player).status_code == 403
    assert client.post(f"/v1/admin/webhooks/{ids[0]}/replay", headers=player).status_code == 403
    assert client.get("/v1/admin/webhooks?status=lost", headers=admin).status_code == 422


def test_a_failing_event_is_redriven_until_its_last_attempt(client, platform, stripe):
    row_id = _deliver_malformed(client, "evt_bad_2")
    with pytest.raises(AttributeError):
        inbox.process_event(
            str(row_id), lambda session, payload: payload["data"]["object"].get("id")
        )
    with platform.db.unit_of_work() as session:
        session.execute(update(WebhookEvent).values(received_at=utcnow() - timedelta(hours=1)))
        assert webhooks.redrive(session, jobs=platform.jobs, now=utcnow()) == 1
        assert session.get(WebhookEvent, row_id).attempts == 1
