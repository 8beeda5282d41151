"""Jobs are sent only after the commit, and a real RQ worker runs them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from player_platform.db import utcnow
from player_platform.errors import Conflict
from player_platform.identity.models import RefreshToken, User
from player_platform.jobs import QUEUES
from workers import schedule

PURGE = "workers.maintenance.purge_expired"


def _expired_token(session) -> None:
    user = User(display_name="old")
    session.add(user)
    session.flush()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=uuid.uuid4(),
            token_hash=uuid.uuid4().hex,
            expires_at=utcnow() - timedelta(days=1),
        )
    )


def test_a_rolled_back_unit_of_work_sends_no_job(live_platform):
    jobs = live_platform.jobs
    with pytest.raises(Conflict), live_platform.db.unit_of_work() as session:
        jobs.enqueue_after_commit(session, "maintenance", PURGE)
        assert jobs.queue("maintenance").count == 0  # not before the commit either
        raise Conflict("changed my mind")
    assert jobs.queue("maintenance").count == 0


def test_a_committed_job_runs_on_a_real_worker(live_platform):
    jobs = live_platform.jobs
    with live_platform.db.unit_of_work() as session:
        _expired_token(session)
        jobs.enqueue_after_commit(session, "maintenance", PURGE, job_id="purge-test")
    queue = jobs.queue("maintenance")
    assert queue.job_ids == ["purge-test"]

    SimpleWorker([queue], connection=jobs.redis).work(burst=True)

    assert queue.fetch_job("purge-test").return_value() == {
        "refresh_tokens": 1,
        "idempotency_records": 0,
        "used_nonces": 0,
    }
    with live_platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(RefreshToken)) == 0


def test_the_scheduler_enqueues_each_period_once_across_schedulers(live_platform):
    jobs = live_platform.jobs
    now = 1_800_000_000.0
    hourly = schedule.PERIODIC[:1]
    first = schedule.enqueue_due(jobs, now=now, periodic=hourly)
    second = schedule.enqueue_due(jobs, now=now + 5, periodic=hourly)  # another scheduler
    assert first == [f"periodic-purge_expired-{int(now // 3600)}"]
    assert second == []
    assert schedule.enqueue_due(jobs, now=now + 3600, periodic=hourly) != []
    assert jobs.queue("maintenance").count == 2


def test_queues_are_the_ones_in_the_design():
    assert set(QUEUES) == {
        "grant_entitlement",
        "revoke_entitlement",
        "scan_content",
        "moderation_review",
        "webhook_processing",
        "leaderboard_update",
        "notification_send",
        "fulfilment",
        "maintenance",
    }
