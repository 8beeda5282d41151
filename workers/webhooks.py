"""The inbound-event inbox's jobs, for every provider: apply one stored event (counting failed
attempts up to PP_WEBHOOK_MAX_ATTEMPTS), and re-drive the events left pending."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from player_platform import platform
from player_platform.db import utcnow
from player_platform.webhooks import service as webhooks

log = logging.getLogger(__name__)
Apply = Callable[[Session, dict[str, Any]], str]


def process_event(row_id: str, apply: Apply) -> str:
    """Apply the stored event ``row_id`` once with ``apply(session, payload)``. A failure is
    counted and re-raised (RQ retries, the re-drive comes back) until the last attempt marks
    the event failed; then the job ends quietly and an admin decides."""
    p = platform.current()
    try:
        with p.db.unit_of_work() as session:
            event = webhooks.claim(session, uuid.UUID(row_id))
            if event is None:
                return "done already"
            outcome = apply(session, event.payload)
            webhooks.mark_processed(event, now=utcnow())
    except Exception as error:
        with p.db.unit_of_work() as session:
            status = webhooks.record_failure(
                session,
                row_id=uuid.UUID(row_id),
                error=repr(error),
                max_attempts=p.settings.webhook_max_attempts,
                now=utcnow(),
            )
        if status == "failed":
            log.error("webhook event failed for good", extra={"event": row_id})
            return "failed"
        raise
    log.info("webhook event applied", extra={"event": row_id, "outcome": outcome})
    return outcome


def redrive_webhooks() -> int:
    p = platform.current()
    with p.db.unit_of_work() as session:
        count = webhooks.redrive(session, jobs=p.jobs, now=utcnow())
    log.info("webhook events re-driven", extra={"count": count})
    return count
