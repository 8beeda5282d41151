"""Drops jobs: apply a stored Twitch EventSub message, report granted drops FULFILLED, and
reconcile with Twitch's list of entitlements. Each re-checks state: a duplicate run is a no-op."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from player_platform import platform
from player_platform.db import utcnow
from player_platform.drops import campaigns, fulfilment, service
from workers.webhooks import process_event

log = logging.getLogger(__name__)


def process_twitch_event(row_id: str) -> str:
    return process_event(row_id, _apply_twitch)


def _apply_twitch(session: Session, message: dict[str, Any]) -> str:
    body, kind = message["body"], message["message_type"]
    subscription = body.get("subscription") or {}
    if kind == "revocation":
        campaigns.revoke(
            session,
            subscription_id=str(subscription.get("id") or ""),
            reason=str(subscription.get("status") or "revoked"),
            now=utcnow(),
        )
        return "revoked"
    if subscription.get("type") != "drop.entitlement.grant":
        return "ignored"
    now = utcnow()
    outcome = service.receive(
        session,
        entitlements=service.from_notification(body, now=now),
        jobs=platform.current().jobs,
        now=now,
    )
    return ", ".join(f"{k}={v}" for k, v in sorted(outcome.items()))


def fulfil_drops() -> dict[str, int]:
    p = platform.current()
    counts = fulfilment.fulfil(p.db, helix=p.helix, clock=utcnow)
    log.info("drops reported to twitch", extra=counts)
    return counts


def reconcile_drops() -> dict[str, int]:
    p = platform.current()
    if not (p.settings.twitch_client_id and p.settings.twitch_client_secret):
        return {}
    counts = fulfilment.reconcile(p.db, helix=p.helix, jobs=p.jobs, clock=utcnow)
    counts.update(fulfil_drops())
    log.info("drops reconciled with twitch", extra=counts)
    return counts
