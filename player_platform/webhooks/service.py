"""Inbound provider events (invariant 5): verified, stored in webhook_events and committed
before the 2xx; a job applies each one once; a periodic re-drive picks up what was left pending.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from player_platform.db import insert_for
from player_platform.jobs import Jobs
from player_platform.webhooks.models import WebhookEvent

REDRIVE_AFTER = timedelta(minutes=5)
PROCESSORS = {"stripe": "workers.commerce.process_stripe_event"}


def store_event(
    session: Session, *, jobs: Jobs, provider: str, event: dict[str, Any], now: datetime
) -> bool:
    """Keep a verified event and schedule its processing; False for a duplicate id."""
    event_id = str(event.get("id") or "")[:255]
    row_id = session.execute(
        insert_for(session, WebhookEvent.__table__)
        .values(
            id=uuid.uuid4(),
            provider=provider,
            event_id=event_id,
            event_type=str(event.get("type") or "")[:128],
            payload=event,
            status="pending",
            attempts=0,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(WebhookEvent.__table__.c.id)
    ).scalar()
    if row_id is None:
        return False
    _enqueue(session, jobs, provider, row_id)
    return True


def _enqueue(session: Session, jobs: Jobs, provider: str, row_id: uuid.UUID) -> None:
    jobs.enqueue_after_commit(
        session, "webhook_processing", PROCESSORS[provider], str(row_id), job_id=f"webhook-{row_id}"
    )


def claim(session: Session, row_id: uuid.UUID) -> WebhookEvent | None:
    """The locked event if it still waits to be applied."""
    event = session.scalars(
        select(WebhookEvent).where(WebhookEvent.id == row_id).with_for_update()
    ).one_or_none()
    return event if event is not None and event.status == "pending" else None


def mark_processed(event: WebhookEvent, *, now: datetime) -> None:
    event.status, event.processed_at, event.attempts = "processed", now, event.attempts + 1


def record_failure(session: Session, *, row_id: uuid.UUID, error: str) -> None:
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == row_id)
        .values(attempts=WebhookEvent.attempts + 1, last_error=error[:2000])
    )


def redrive(session: Session, *, jobs: Jobs, now: datetime) -> int:
    """Enqueue again every event left pending for a while (its job was lost or failed)."""
    stale = session.execute(
        select(WebhookEvent.id, WebhookEvent.provider).where(
            WebhookEvent.status == "pending",
            WebhookEvent.received_at < now - REDRIVE_AFTER,
            WebhookEvent.provider.in_(PROCESSORS),
        )
    ).all()
    for row_id, provider in stale:
        _enqueue(session, jobs, provider, row_id)
    return len(stale)
