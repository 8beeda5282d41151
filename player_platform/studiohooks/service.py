"""Studio webhooks: endpoints (admin CRUD, audited), ``emit`` (the outbox), delivery attempts
with a claim, exponential backoff, a dead-letter list and its replay.

``emit`` writes the event and one pending delivery per subscribed endpoint in the caller's
transaction, so an event exists exactly when the change that caused it committed; the delivery
job is registered for after that commit. An attempt claims its delivery first (a lease, taken
by one UPDATE), so concurrent runs of the same job send it once; the HTTP call happens outside
any transaction; the outcome is then settled: delivered, retried later with backoff, or dead
after ``max_attempts`` (kept and listed for admins, who replay it).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.db import Database
from player_platform.errors import Invalid, NotFound
from player_platform.jobs import Jobs
from player_platform.outbound import Outbound
from player_platform.pagination import Page, Position
from player_platform.security.vault import Vault
from player_platform.studiohooks import signing
from player_platform.studiohooks.models import (
    EVENT_TYPES,
    StudioDelivery,
    StudioEndpoint,
    StudioEvent,
)

DELIVER_JOB = "workers.studiohooks.deliver"
QUEUE = "studio_webhooks"  # apart from incoming webhooks: a slow studio never delays them
LEASE = timedelta(minutes=2)  # longer than an attempt can take (connect + read timeouts)
MAX_BACKOFF = timedelta(hours=6)
REDRIVE_GRACE = timedelta(minutes=1)  # a due delivery's own job gets this long to run first


@dataclass(frozen=True)
class Policy:
    """How hard we try (PP_STUDIO_WEBHOOK_*)."""

    max_attempts: int = 8
    backoff_seconds: int = 10

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure: base, 2x, 4x ... capped at 6 hours."""
        return min(timedelta(seconds=self.backoff_seconds * 2 ** (attempts - 1)), MAX_BACKOFF)


@dataclass(frozen=True)
class Claimed:
    """One attempt's worth of a delivery: where to send what, with which secret."""

    delivery_id: uuid.UUID
    attempt: int
    url: str
    secret: str
    event_type: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None


# --- endpoints -------------------------------------------------------------------------------


def create_endpoint(
    session: Session,
    *,
    vault: Vault,
    actor_id: uuid.UUID,
    origin: Origin,
    now: datetime,
    url: str,
    events: list[str],
    description: str = "",
) -> tuple[StudioEndpoint, str]:
    """A new endpoint and its signing secret, which is in this answer only (sealed at rest)."""
    _check_events(events)
    endpoint = StudioEndpoint(
        id=uuid.uuid4(), url=url, events=sorted(set(events)), description=description
    )
    secret = signing.new_secret()
    endpoint.secret = vault.seal(secret, context=_secret_context(endpoint.id))
    endpoint.created_at = endpoint.updated_at = now
    session.add(endpoint)
    session.flush()
    _audit(session, "studio_webhook.create", endpoint, actor_id, origin, new=_snapshot(endpoint))
    return endpoint, secret


def list_endpoints(session: Session) -> list[StudioEndpoint]:
    return list(session.scalars(select(StudioEndpoint).order_by(StudioEndpoint.created_at)))


def get_endpoint(session: Session, endpoint_id: uuid.UUID) -> StudioEndpoint:
    endpoint = session.get(StudioEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.", code="webhook_endpoint_not_found")
    return endpoint


def update_endpoint(
    session: Session,
    *,
    endpoint_id: uuid.UUID,
    actor_id: uuid.UUID,
    origin: Origin,
    now: datetime,
    **changes: Any,
) -> StudioEndpoint:
    endpoint = get_endpoint(session, endpoint_id)
    if "events" in changes:
        _check_events(changes["events"])
        changes["events"] = sorted(set(changes["events"]))
    old = _snapshot(endpoint)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.updated_at = now
    new = _snapshot(endpoint)
    changed = [k for k in new if old[k] != new[k]]
    _audit(
        session,
        "studio_webhook.update",
        endpoint,
        actor_id,
        origin,
        old={k: old[k] for k in changed},
        new={k: new[k] for k in changed},
    )
    return endpoint


def delete_endpoint(
    session: Session, *, endpoint_id: uuid.UUID, actor_id: uuid.UUID, origin: Origin
) -> None:
    """Remove an endpoint and its deliveries (pending ones are not sent)."""
    endpoint = get_endpoint(session, endpoint_id)
    _audit(session, "studio_webhook.delete", endpoint, actor_id, origin, old=_snapshot(endpoint))
    session.delete(endpoint)


def _check_events(events: list[str]) -> None:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise Invalid(
            "Subscribe to one or more known events.",
            code="unknown_event_type",
            errors={"events": unknown or ["Required."]},
        )


def _snapshot(endpoint: StudioEndpoint) -> dict[str, Any]:
    return {
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "active": endpoint.active,
    }


def _audit(
    session: Session,
    action: str,
    endpoint: StudioEndpoint,
    actor_id: uuid.UUID,
    origin: Origin,
    **values: Any,
) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        resource_type="studio_webhook_endpoint",
        resource_id=endpoint.id,
        origin=origin,
        **values,
    )


def _secret_context(endpoint_id: uuid.UUID) -> str:
    return f"studio-webhook:{endpoint_id}"


# --- the outbox ------------------------------------------------------------------------------


def emit(
    session: Session, event_type: str, payload: dict[str, Any], *, jobs: Jobs
) -> StudioEvent | None:
    """Record ``event_type`` with ``payload`` in the caller's transaction and deliver it to
    every active endpoint subscribed to it once that commits. ``payload`` must be JSON and hold
    nothing secret (a key is masked). None when no endpoint listens."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown studio event {event_type!r}")
    endpoints = [e for e in _active_endpoints(session) if event_type in e.events]
    if not endpoints:
        return None
    event = StudioEvent(id=uuid.uuid4(), event_type=event_type, payload=payload)
    session.add(event)
    session.flush()
    for endpoint in endpoints:
        delivery = StudioDelivery(
            id=uuid.uuid4(),
            event_id=event.id,
            endpoint_id=endpoint.id,
            status="pending",
            attempts=0,
            next_attempt_at=event.created_at,
        )
        session.add(delivery)
        enqueue(session, jobs, delivery.id, due=delivery.next_attempt_at)
    session.flush()
    return event


def _active_endpoints(session: Session) -> list[StudioEndpoint]:
    """Endpoints are few and read on every emit: one small query, cached per transaction."""
    cache = session.info.get("studio_endpoints")
    if cache is None:
        cache = list(session.scalars(select(StudioEndpoint).where(StudioEndpoint.active)))
        session.info["studio_endpoints"] = cache
    return cache


def job_id(delivery_id: uuid.UUID, due: datetime) -> str:
    """One job per scheduled attempt (named by when it is due), so a retry's job never
    collides with the run that scheduled it, nor a replay with the first attempts."""
    return f"studiohook-{delivery_id}-{int(due.timestamp() * 1000)}"


def enqueue(session: Session, jobs: Jobs, delivery_id: uuid.UUID, *, due: datetime) -> None:
    jobs.enqueue_after_commit(
        session, QUEUE, DELIVER_JOB, str(delivery_id), job_id=job_id(delivery_id, due)
    )


# --- one attempt -----------------------------------------------------------------------------


def claim(
    session: Session, *, vault: Vault, delivery_id: uuid.UUID, now: datetime
) -> Claimed | None:
    """Take a due, pending delivery for one attempt; None when it is delivered, dead, not due
    yet, or another run holds it (its lease has not run out)."""
    taken = session.execute(
        update(StudioDelivery)
        .where(
            StudioDelivery.id == delivery_id,
            StudioDelivery.status == "pending",
            StudioDelivery.next_attempt_at <= now,
            (StudioDelivery.lease_until.is_(None)) | (StudioDelivery.lease_until < now),
        )
        .values(lease_until=now + LEASE, attempts=StudioDelivery.attempts + 1)
        .returning(StudioDelivery.attempts, StudioDelivery.event_id, StudioDelivery.endpoint_id)
    ).first()
    if taken is None:
        return None
    event = session.get(StudioEvent, taken.event_id)
    endpoint = session.get(StudioEndpoint, taken.endpoint_id)
    body = {
        "id": str(event.id),
        "type": event.event_type,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }
    return Claimed(
        delivery_id=delivery_id,
        attempt=taken.attempts,
        url=endpoint.url,
        secret=vault.open(endpoint.secret, context=_secret_context(endpoint.id)),
        event_type=event.event_type,
        body=json.dumps(body, separators=(",", ":"), sort_keys=True).encode(),
    )


def send(http: Outbound, claimed: Claimed, *, timestamp: int | None = None) -> Outcome:
    """POST the signed event once, on the provider client's pooled session and timeouts, but
    without its retries: the backoff is ours. Any 2xx is a success; another status, a timeout
    or a refused connection is a failed attempt (its status or error kept for admins)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        signing.HEADER: signing.signature(claimed.secret, timestamp, claimed.body),
        "PP-Event-Type": claimed.event_type,
        "PP-Delivery-Id": str(claimed.delivery_id),
        "PP-Delivery-Attempt": str(claimed.attempt),
    }
    try:
        response = http.http.post(
            claimed.url, data=claimed.body, headers=headers, timeout=http.timeout,
            allow_redirects=False,
        )  # fmt: skip
    except requests.RequestException as error:
        return Outcome(ok=False, error=error.__class__.__name__)
    if 200 <= response.status_code < 300:
        return Outcome(ok=True, status=response.status_code)
    return Outcome(ok=False, status=response.status_code, error=f"HTTP {response.status_code}")


def settle(
    session: Session, *, delivery_id: uuid.UUID, outcome: Outcome, policy: Policy, now: datetime
) -> StudioDelivery:
    """Record an attempt: delivered; or due again after the backoff; or dead at the limit."""
    delivery = session.get(StudioDelivery, delivery_id, with_for_update=True)
    delivery.lease_until, delivery.last_status = None, outcome.status
    if outcome.ok:
        delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, None
    elif delivery.attempts >= policy.max_attempts:
        delivery.status, delivery.dead_at = "dead", now
        delivery.last_error = (outcome.error or "")[:500]
    else:
        delivery.next_attempt_at = now + policy.backoff(delivery.attempts)
        delivery.last_error = (outcome.error or "")[:500]
    return delivery


def attempt(
    db: Database,
    *,
    http: Outbound,
    vault: Vault,
    policy: Policy,
    delivery_id: uuid.UUID,
    now: datetime,
) -> StudioDelivery | None:
    """One attempt at one delivery, claimed first; None when there was nothing to attempt."""
    claimed = db.transaction(
        lambda session: claim(session, vault=vault, delivery_id=delivery_id, now=now)
    )
    if claimed is None:
        return None
    outcome = send(http, claimed)
    return db.transaction(
        lambda session: settle(
            session, delivery_id=delivery_id, outcome=outcome, policy=policy, now=now
        )
    )


# --- re-drive, dead letters, replay ----------------------------------------------------------


def redrive(session: Session, *, jobs: Jobs, now: datetime, limit: int = 1000) -> int:
    """Enqueue the deliveries due a while ago whose job is gone (Redis lost it, a worker died,
    the retry was scheduled in the embedded mode without a scheduler)."""
    due = session.execute(
        select(StudioDelivery.id, StudioDelivery.next_attempt_at)
        .where(
            StudioDelivery.status == "pending",
            StudioDelivery.next_attempt_at < now - REDRIVE_GRACE,
            (StudioDelivery.lease_until.is_(None)) | (StudioDelivery.lease_until < now),
        )
        .order_by(StudioDelivery.next_attempt_at)
        .limit(limit)
    ).all()
    lost = [row for row in due if not jobs.is_alive(job_id(*row), now=now)]
    for row in lost:
        enqueue(session, jobs, row.id, due=row.next_attempt_at)
    return len(lost)


def list_deliveries(
    session: Session, *, limit: int, status: str | None = None, cursor: str | None = None
) -> Page[StudioDelivery]:
    """Deliveries newest first; ``status=dead`` is the dead-letter list."""
    query = (
        select(StudioDelivery)
        .order_by(StudioDelivery.created_at.desc(), StudioDelivery.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(StudioDelivery.status == status)
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(
            tuple_(StudioDelivery.created_at, StudioDelivery.id) < (after.created_at, after.id)
        )
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, Position(rows[-1].created_at, rows[-1].id).encode() if more else None)


def event_types(session: Session, deliveries: list[StudioDelivery]) -> dict[uuid.UUID, str]:
    """The event type of each delivery's event, in one query (for lists)."""
    ids = {d.event_id for d in deliveries}
    rows = session.execute(
        select(StudioEvent.id, StudioEvent.event_type).where(StudioEvent.id.in_(ids))
    ).all()
    return {event_id: event_type for event_id, event_type in rows}


def replay(
    session: Session,
    *,
    jobs: Jobs,
    delivery_id: uuid.UUID,
    actor_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> StudioDelivery:
    """Give a dead delivery a fresh set of attempts, now (audited). Replaying one that is
    pending or delivered changes nothing: the studio never gets it twice through us."""
    delivery = session.get(StudioDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise NotFound("No such webhook delivery.", code="webhook_delivery_not_found")
    if delivery.status != "dead":
        return delivery
    delivery.status, delivery.attempts, delivery.dead_at = "pending", 0, None
    delivery.next_attempt_at, delivery.lease_until = now, None
    record(
        session,
        actor_id=actor_id,
        action="studio_webhook.replay",
        resource_type="studio_webhook_delivery",
        resource_id=delivery.id,
        origin=origin,
        old={"status": "dead"},
        new={"status": "pending"},
    )
    enqueue(session, jobs, delivery.id, due=now)
    return delivery
