"""Studio webhook jobs: one delivery attempt (claimed, so a duplicate run sends nothing), its
retry scheduled after the backoff, and the periodic re-drive of deliveries whose job was lost."""

from __future__ import annotations

import logging
import uuid

from player_platform import platform
from player_platform.db import utcnow
from player_platform.studiohooks import service as studiohooks

log = logging.getLogger(__name__)


def deliver(delivery_id: str) -> str:
    p = platform.current()
    delivery = studiohooks.attempt(
        p.db,
        http=p.studio_http,
        vault=p.vault,
        policy=p.studio_webhook_policy,
        delivery_id=uuid.UUID(delivery_id),
        now=utcnow(),
    )
    if delivery is None:
        return "nothing to do"
    extra = {"delivery": delivery_id, "attempt": delivery.attempts, "status": delivery.status}
    if delivery.status == "pending":
        p.jobs.enqueue_at(
            studiohooks.QUEUE,
            studiohooks.DELIVER_JOB,
            delivery_id,
            at=delivery.next_attempt_at,
            job_id=studiohooks.job_id(delivery.id, delivery.next_attempt_at),
        )
        log.warning("studio webhook failed; retry scheduled", extra=extra)
    elif delivery.status == "dead":
        log.error("studio webhook dead-lettered", extra=extra)
    return delivery.status


def redrive_studio_webhooks() -> int:
    p = platform.current()
    with p.db.unit_of_work() as session:
        count = studiohooks.redrive(session, jobs=p.jobs, now=utcnow())
    log.info("studio webhooks re-driven", extra={"count": count})
    return count
