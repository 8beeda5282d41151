"""Reporting granted drops to Twitch as FULFILLED, and reconciling with Twitch's own list.

Each run claims up to 100 pending drops (moving ``fulfil_after`` ahead, SKIP LOCKED, commit),
calls Update Drops Entitlements outside any transaction, then records Twitch's answer per id:
SUCCESS -> fulfilled; INVALID_ID, NOT_FOUND, UNAUTHORIZED -> rejected (final, logged);
UPDATE_FAILED or an id missing from the answer -> tried again after a backoff. A run that dies
after its claim leaves the drops to the next run once the claim lapses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from player_platform.db import Database
from player_platform.drops import service
from player_platform.drops.helix import FINAL_REJECTIONS, PATCH_LIMIT, Helix
from player_platform.drops.models import Drop
from player_platform.jobs import Jobs
from player_platform.outbound import ProviderUnavailable

log = logging.getLogger(__name__)
CLAIM_FOR = timedelta(seconds=45)  # longer than one Helix call with its retries
RETRY_AFTER = timedelta(seconds=30)  # times the attempts so far, up to MAX_BACKOFF
MAX_BACKOFF = timedelta(hours=1)


def claim(session: Session, *, now: datetime, limit: int = PATCH_LIMIT) -> list[str]:
    """Up to ``limit`` entitlement ids due for a report, claimed for this run."""
    ids = list(
        session.scalars(
            select(Drop.id)
            .where(Drop.fulfilment == "pending", Drop.fulfil_after <= now)
            .order_by(Drop.fulfil_after)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return []
    return list(
        session.scalars(
            update(Drop)
            .where(Drop.id.in_(ids))
            .values(fulfil_after=now + CLAIM_FOR, fulfil_attempts=Drop.fulfil_attempts + 1)
            .returning(Drop.entitlement_id)
        )
    )


def record(
    session: Session, *, claimed: list[str], outcome: dict[str, list[str]], now: datetime
) -> dict[str, int]:
    """Apply Twitch's per-id answer to the claimed drops; counts by what became of them."""
    status_of = {i: status for status, ids in outcome.items() for i in ids}
    drops = session.scalars(
        select(Drop).where(Drop.entitlement_id.in_(claimed), Drop.fulfilment == "pending")
    )
    counts = {"fulfilled": 0, "rejected": 0, "retry": 0}
    for drop in drops:
        status = status_of.get(drop.entitlement_id, "MISSING")
        if status == "SUCCESS":
            drop.fulfilment, drop.fulfilled_at, drop.fulfil_error = "fulfilled", now, None
            counts["fulfilled"] += 1
        elif status in FINAL_REJECTIONS:
            drop.fulfilment, drop.fulfil_error = "rejected", status
            log.error(
                "twitch rejected a drop's fulfilment",
                extra={"entitlement": drop.entitlement_id, "status": status},
            )
            counts["rejected"] += 1
        else:  # UPDATE_FAILED, or not answered: later, backing off
            drop.fulfil_error = status[:32]
            drop.fulfil_after = now + min(RETRY_AFTER * drop.fulfil_attempts, MAX_BACKOFF)
            counts["retry"] += 1
    return counts


def fulfil(db: Database, *, helix: Helix, clock: Callable[[], datetime]) -> dict[str, int]:
    """Report every due drop, 100 at a time, until none is left or Twitch is unavailable."""
    totals = {"fulfilled": 0, "rejected": 0, "retry": 0}
    while claimed := db.transaction(lambda session: claim(session, now=clock())):
        try:
            outcome = helix.fulfil(claimed)
        except ProviderUnavailable as error:
            log.warning("drops not reported", extra={"count": len(claimed), "error": str(error)})
            outcome = {}
        counts = db.transaction(
            lambda session, o=outcome, c=claimed: record(session, claimed=c, outcome=o, now=clock())
        )
        for key, value in counts.items():
            totals[key] += value
        if not outcome:
            break
    return totals


def reconcile(
    db: Database, *, helix: Helix, jobs: Jobs, clock: Callable[[], datetime]
) -> dict[str, int]:
    """Page through the entitlements Twitch still lists as CLAIMED: receive those a lost
    webhook missed, and report again those we granted but Twitch did not record. First,
    the drops left waiting for a Twitch user who is linked by now are granted."""
    totals = {
        "granted_linked": db.transaction(
            lambda session: service.grant_linked(session, jobs=jobs, now=clock())
        )
    }
    after = None
    while True:
        rows, after = helix.entitlements(after=after, fulfillment_status="CLAIMED")

        def apply(session: Session, rows=rows) -> dict[str, int]:
            entitlements = service.from_helix(rows, now=clock())
            outcome = service.receive(session, entitlements=entitlements, jobs=jobs, now=clock())
            outcome["reported_again"] = _report_again(
                session, [e.entitlement_id for e in entitlements], now=clock()
            )
            return outcome

        for key, value in db.transaction(apply).items():
            totals[key] = totals.get(key, 0) + value
        if not after or not rows:
            return totals


def _report_again(session: Session, entitlement_ids: list[str], *, now: datetime) -> int:
    result = session.execute(
        update(Drop)
        .where(Drop.entitlement_id.in_(entitlement_ids), Drop.fulfilment == "fulfilled")
        .values(fulfilment="pending", fulfil_after=now)
    )
    return result.rowcount
