"""Background jobs: RQ queues on Redis, or inline in-process for the embedded defaults.

Services never enqueue directly: they register a job with ``enqueue_after_commit`` and it is
sent only once their unit of work has committed. The queues live in Redis: when it is
unreachable at that moment the commit stands, the job is not queued (logged with its id and
counted as ``job_enqueue`` in ``pp_redis_degraded_total``), and whatever must happen is driven
again from PostgreSQL (README, "When Redis or PostgreSQL is down"). Jobs are named by dotted
path (they live in workers/, which imports the services, not the other way round).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis, RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.utils import import_attribute
from sqlalchemy.orm import Session

from player_platform.db import after_commit
from player_platform.outage import degraded

QUEUES = (
    "grant_entitlement",
    "revoke_entitlement",
    "scan_content",
    "moderation_review",
    "webhook_processing",
    "studio_webhooks",
    "leaderboard_update",
    "notification_send",
    "fulfilment",
    "maintenance",
)
RETRY_INTERVALS = [10, 60, 300]
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
DEFAULT_TIMEOUT_SECONDS = 300
# Deletes files from object storage once the rows that named them are gone (UGC items, feedback
# attachments, erasure), on the ``maintenance`` queue; idempotent.
DELETE_OBJECTS_JOB = "workers.maintenance.delete_objects"
log = logging.getLogger(__name__)


class Jobs:
    def __init__(self, redis: Redis, *, inline: bool, heartbeat_silence_seconds: int = 300) -> None:
        self.redis = redis
        self.inline = inline
        # A running job's worker heartbeats it every ``heartbeat_seconds``; silence this long
        # means the worker died (PP_JOB_HEARTBEAT_SILENCE_SECONDS).
        self.heartbeat_silence_seconds = heartbeat_silence_seconds

    @property
    def heartbeat_seconds(self) -> int:
        """How often a worker heartbeats its running job: well within the silence allowed."""
        return max(1, min(30, self.heartbeat_silence_seconds // 3))

    def queue(self, name: str) -> Queue:
        if name not in QUEUES:
            raise ValueError(f"unknown queue {name!r}")
        return Queue(name, connection=self.redis)

    def enqueue(
        self,
        queue: str,
        func: str,
        *args: Any,
        job_id: str | None = None,
        timeout: int = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if self.inline:
            self._run_inline(func, args)
            return
        self.queue(queue).enqueue_call(
            func,
            args=args,
            job_id=job_id,
            timeout=timeout,
            result_ttl=3600,
            failure_ttl=7 * 86400,
            retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
        )

    def enqueue_at(self, queue: str, func: str, *args: Any, at: datetime, job_id: str) -> None:
        """Run a job at ``at`` (RQ's scheduler, which every worker runs). Inline, nothing is
        scheduled: the caller's periodic re-drive picks the work up when it is due."""
        if self.inline:
            return
        self.queue(queue).enqueue_at(
            at, func, *args, job_id=job_id, job_timeout=DEFAULT_TIMEOUT_SECONDS,
            result_ttl=3600, failure_ttl=7 * 86400,
        )  # fmt: skip

    def enqueue_after_commit(
        self,
        session: Session,
        queue: str,
        func: str,
        *args: Any,
        job_id: str | None = None,
        timeout: int = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        after_commit(session, lambda: self._enqueue_committed(queue, func, args, job_id, timeout))

    def _enqueue_committed(
        self, queue: str, func: str, args: tuple[Any, ...], job_id: str | None, timeout: int
    ) -> None:
        try:
            self.enqueue(queue, func, *args, job_id=job_id, timeout=timeout)
        except RedisError as error:
            degraded("job_enqueue", error)
            log.warning(
                "job not enqueued: redis unreachable", extra={"job": func, "job_id": job_id}
            )

    def is_alive(self, job_id: str, *, now: datetime) -> bool:
        """Whether the job waits in a queue (or for a retry) or runs on a live worker."""
        if self.inline:
            return False
        try:
            job = Job.fetch(job_id, connection=self.redis)
        except NoSuchJobError:
            return False
        status = job.get_status(refresh=False)
        if status in WAITING:
            return True
        beat = job.last_heartbeat
        if status != JobStatus.STARTED or beat is None:
            return False
        beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
        return now - beat < timedelta(seconds=self.heartbeat_silence_seconds)

    @staticmethod
    def _run_inline(func: str, args: tuple[Any, ...]) -> None:
        try:
            import_attribute(func)(*args)
        except Exception:  # an inline job failing must not fail the request that committed
            log.exception("inline job failed", extra={"job": func})
