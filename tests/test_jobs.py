"""Jobs are sent only after the commit, and a real RQ worker runs them."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from rq import SimpleWorker
from rq.utils import import_attribute
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


def test_queues_are_the_ones_in_the_design_and_studio_webhooks():
    assert set(QUEUES) == {
        "grant_entitlement",
        "revoke_entitlement",
        "scan_content",
        "moderation_review",
        "webhook_processing",
        "studio_webhooks",  # outgoing, apart from the incoming ones (DECISIONS.md, Storefront)
        "leaderboard_update",
        "notification_send",
        "fulfilment",
        "maintenance",
    }


def test_the_worker_process_waits_for_jobs_without_dropping_its_connection(
    live_platform, database_url, redis_url
):
    """`python -m workers` blocks on Redis for longer than a request's read timeout (5 s)
    and still takes a job that arrives after that."""
    env = {
        **os.environ,
        "PP_ENV": "test",
        "PP_DATABASE_URL": database_url,
        "PP_REDIS_URL": redis_url,
        "PP_SECRET_KEY": live_platform.settings.secret_key,
        "PP_JOBS_INLINE": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "workers"],  # every queue and the scheduler, as `make run`
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(12)  # start-up, then more than one 5 s read timeout of waiting
        live_platform.jobs.enqueue("maintenance", PURGE, job_id="purge-late")
        job = live_platform.jobs.queue("maintenance").fetch_job("purge-late")
        for _ in range(100):
            if job.get_status(refresh=True) == "finished":
                break
            time.sleep(0.1)
        assert job.get_status() == "finished"
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=20)
    assert "could not connect to Redis" not in errors


def _job_names_in_source() -> dict[str, str]:
    """Every dotted job name the code can enqueue or schedule: each string literal naming
    something under ``workers.`` in the application's packages, with where it is written."""
    root = Path(__file__).resolve().parent.parent
    found = {}
    for package in ("player_platform", "blueprints", "workers"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and re.fullmatch(r"workers(\.\w+)+", node.value)
                ):
                    found[node.value] = f"{path.relative_to(root)}:{node.lineno}"
    return found


def test_every_job_name_in_the_code_resolves_to_a_function():
    names = _job_names_in_source()
    # The scan sees the names jobs are sent by: the periodic ones and those services enqueue.
    assert {task.func for task in schedule.PERIODIC} <= names.keys()
    assert "workers.leaderboards.rebuild_index" in names
    unresolved = {}
    for name, where in names.items():
        try:
            if not callable(import_attribute(name)):
                unresolved[name] = f"{where}: not callable"
        except (ImportError, AttributeError, ValueError) as error:
            unresolved[name] = f"{where}: {error}"
    assert unresolved == {}
