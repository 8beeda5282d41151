"""The periodic scheduler: enqueues each periodic job once per interval, whatever the number of
schedulers running, by giving every run a job id derived from its time slot."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from player_platform.jobs import Jobs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str
    queue: str
    every_seconds: int


PERIODIC = (
    Periodic("purge_expired", "workers.maintenance.purge_expired", "maintenance", 3600),
    Periodic("close_seasons", "workers.leaderboards.close_ended_seasons", "maintenance", 60),
    Periodic("repair_indexes", "workers.leaderboards.repair_stale_indexes", "maintenance", 60),
    Periodic("poll_steam", "workers.commerce.poll_steam", "maintenance", 300),
    Periodic("finish_refunds", "workers.commerce.finish_refunds", "maintenance", 300),
    Periodic(
        "fail_abandoned_checkouts", "workers.commerce.fail_abandoned_checkouts", "maintenance", 900
    ),
    Periodic("sync_supplier_offers", "workers.suppliers.sync_offers", "maintenance", 900),
    Periodic("redrive_webhooks", "workers.webhooks.redrive_webhooks", "maintenance", 300),
    Periodic(
        "redrive_studio_webhooks", "workers.studiohooks.redrive_studio_webhooks", "maintenance", 60
    ),
    Periodic("retry_key_backorders", "workers.keys.retry_backorders", "fulfilment", 60),
    Periodic("fulfil_drops", "workers.drops.fulfil_drops", "fulfilment", 60),
    Periodic("reconcile_drops", "workers.drops.reconcile_drops", "maintenance", 900),
    Periodic("reconcile_wallets", "workers.commerce.reconcile_wallets", "maintenance", 86400),
    Periodic("expire_ugc_drafts", "workers.ugc.expire_drafts", "maintenance", 3600),
    Periodic("redrive_ugc_scans", "workers.ugc.redrive_scans", "maintenance", 300),
    Periodic("redrive_mail", "workers.mail.redrive_mail", "maintenance", 300),
    Periodic("redrive_invoices", "workers.storefront.redrive_invoices", "maintenance", 300),
    Periodic("redeliver_messages", "workers.messaging.redeliver_messages", "maintenance", 60),
)


def enqueue_due(jobs: Jobs, *, now: float, periodic: tuple[Periodic, ...] = PERIODIC) -> list[str]:
    """Enqueue the jobs whose current slot has not been enqueued yet; returns their job ids."""
    enqueued = []
    for task in periodic:
        # RQ job ids allow letters, digits, "_" and "-" only.
        job_id = f"periodic-{task.name}-{int(now // task.every_seconds)}"
        if not jobs.redis.set(f"pp:{job_id}", 1, nx=True, ex=task.every_seconds * 2):
            continue  # this slot was enqueued already, here or by another scheduler
        jobs.enqueue(task.queue, task.func, job_id=job_id)
        enqueued.append(job_id)
    return enqueued


def run_forever(jobs: Jobs, stop: threading.Event, *, tick_seconds: float = 5.0) -> None:
    while not stop.is_set():
        try:
            enqueue_due(jobs, now=time.time())
        except Exception:  # keep scheduling through a passing Redis failure
            log.exception("periodic scheduling failed")
        stop.wait(tick_seconds)
