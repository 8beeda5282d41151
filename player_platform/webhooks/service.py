"""Inbound provider events (invariant 5): verified, stored in webhook_events and committed
before the 2xx; a job applies each one once; a periodic re-drive picks up what was left pending.

Every failed attempt is counted; after ``max_attempts`` (PP_WEBHOOK_MAX_ATTEMPTS) the event is
``failed``: kept, no longer re-driven, counted in /metrics, listed for admins, who may replay
it (audited) once the cause is fixed. Provider-neutral: every provider's inbox is this one.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.db import insert_for
from player_platform.errors import InvalidState, NotFound
from player_platform.jobs import Jobs
from player_platform.pagination import Page, Position
from player_platform.webhooks.models import WebhookEvent

REDRIVE_AFTER = timedelta(minutes=5)
PROCESSORS = {
    "stripe": "workers.commerce.process_stripe_event",
    "paypal": "workers.commerce.process_paypal_event",
    "steam": "workers.commerce.process_steam_event",
    "twitch": "workers.drops.process_twitch_event",
    "kinguin": "workers.suppliers.process_kinguin_event",
}


def store_event(
    session: Session,
    *,
    jobs: Jobs,
    provider: str,
    event_id: str,
    event_type: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Keep a verified event and schedule its processing; False for a duplicate id (the
    provider's own id of the delivery: Twitch's message id, Stripe's event id)."""
    row_id = session.execute(
        insert_for(session, WebhookEvent.__table__)
        .values(
            id=uuid.uuid4(),
            provider=provider,
            event_id=event_id[:255],
            event_type=event_type[:128],
            payload=payload,
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


def record_failure(
    session: Session, *, row_id: uuid.UUID, error: str, max_attempts: int, now: datetime
) -> str:
    """Count a failed attempt; the event's status after it (``failed`` at the last attempt)."""
    event = session.get(WebhookEvent, row_id, with_for_update=True)
    if event is None or event.status != "pending":
        return event.status if event else "missing"
    event.attempts, event.last_error = event.attempts + 1, error[:2000]
    if event.attempts >= max_attempts:
        event.status, event.failed_at = "failed", now
    return event.status


def list_events(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    provider: str | None = None,
    status: str | None = None,
) -> Page[WebhookEvent]:
    """Stored events, newest first, filtered (the admin list)."""
    query = (
        select(WebhookEvent)
        .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc())
        .limit(limit + 1)
    )
    filters = {WebhookEvent.provider: provider, WebhookEvent.status: status}
    query = query.where(*(c == v for c, v in filters.items() if v is not None))
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(
            tuple_(WebhookEvent.received_at, WebhookEvent.id) < (after.created_at, after.id)
        )
    events = list(session.scalars(query))
    more, events = len(events) > limit, events[:limit]
    last = events[-1] if events else None
    return Page(events, Position(last.received_at, last.id).encode() if more else None)


def replay(
    session: Session,
    *,
    jobs: Jobs,
    row_id: uuid.UUID,
    actor_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> WebhookEvent:
    """Make a failed event pending again with a fresh count of attempts, and process it."""
    event = session.get(WebhookEvent, row_id, with_for_update=True)
    if event is None:
        raise NotFound("No such webhook event.", code="webhook_event_not_found")
    if event.status != "failed":
        raise InvalidState(f"This event is {event.status}.", code="webhook_event_not_failed")
    record(
        session,
        actor_id=actor_id,
        action="webhook.replay",
        resource_type="webhook_event",
        resource_id=event.id,
        origin=origin,
        old={"status": event.status, "attempts": event.attempts, "last_error": event.last_error},
        new={"status": "pending", "attempts": 0},
    )
    event.status, event.attempts, event.failed_at = "pending", 0, None
    _enqueue(session, jobs, event.provider, event.id)
    return event


def count_failed(session: Session) -> dict[str, int]:
    """Failed events per provider (/metrics)."""
    rows = session.execute(
        select(WebhookEvent.provider, func.count())
        .where(WebhookEvent.status == "failed")
        .group_by(WebhookEvent.provider)
    ).all()
    return dict(rows)


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
