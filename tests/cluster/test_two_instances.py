"""Two service instances on two ports, sharing PostgreSQL and the Redis Cluster (RQ on its own
Redis), behave as one service: a token from one is accepted by the other and a sign-out on one
stops it on both, scores sent to both rank on one board, a season closed from both closes once
and a periodic job scheduled from two processes is queued once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import timedelta

import requests
from rq import Queue
from sqlalchemy import select, update

from player_platform.db import utcnow
from player_platform.leaderboards.models import Season
from player_platform.platform import Platform, bind_current
from tests import factories
from tests.support import PASSWORD, bearer
from tests.test_server import ROOT, granian
from workers.schedule import PERIODIC


def _environment(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PP_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PP_ENV="test",
        PP_DATABASE_URL=settings.database_url,
        PP_REDIS_URL=settings.redis_url,
        PP_REDIS_CLUSTER="true",
        PP_QUEUE_REDIS_URL=settings.queue_redis_url,
        PP_JOBS_INLINE="false",
        PP_STORAGE_URL=settings.storage_url,
        PP_SECRET_KEY=settings.secret_key,
        PP_PASSWORD_HASH_COST="cheapest",
        PP_RATE_LIMIT_AUTH_IP="10000",
        PP_RATE_LIMIT_WRITE_USER="10000",
        PP_RATE_LIMIT_READ_IP="10000",
    )
    return env


def _in_two_processes(env: dict[str, str], code: str) -> list[list[str]]:
    """Run ``code`` in two Python processes at once; what each printed (a JSON list)."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def _sign_up(url: str, name: str) -> dict:
    response = requests.post(
        f"{url}/v1/auth/register",
        json={"email": f"{name.lower()}@example.com", "password": PASSWORD, "display_name": name},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_two_instances_behave_as_one(cluster_settings, committing_db, redis, tmp_path):
    platform = Platform.from_settings(cluster_settings, db=committing_db)
    bind_current(platform)
    env = _environment(cluster_settings)
    with ExitStack() as stack:
        one = stack.enter_context(granian(env, tmp_path))
        two = stack.enter_context(granian(env, tmp_path))

        # A token from one instance is accepted by the other, a refresh too.
        ada, bo = _sign_up(one, "Ada"), _sign_up(two, "Bo")
        assert (
            requests.get(f"{two}/v1/me", headers=bearer(ada["access_token"]), timeout=10).json()[
                "display_name"
            ]
            == "Ada"
        )
        refreshed = requests.post(
            f"{one}/v1/auth/refresh", json={"refresh_token": bo["refresh_token"]}, timeout=10
        )
        assert refreshed.status_code == 200, refreshed.text
        bo_headers = bearer(refreshed.json()["access_token"])

        # Scores sent to both rank together, read the same from both.
        with platform.db.unit_of_work() as session:
            admin = factories.staff(session, platform, role="admin")
            season = factories.season(session, platform, admin=admin)
        url = f"/v1/leaderboards/{season.season_id}"
        sent = [
            (one, bearer(ada["access_token"]), 10),
            (two, bo_headers, 20),
            (two, bearer(ada["access_token"]), 30),
        ]
        for server, headers, score in sent:
            posted = requests.post(
                f"{server}{url}/scores", json={"score": score}, headers=headers, timeout=10
            )
            assert posted.status_code == 200, posted.text
        boards = [requests.get(f"{s}{url}", timeout=10).json()["items"] for s in (one, two)]
        assert [[(i["rank"], i["display_name"], i["score"]) for i in b] for b in boards] == [
            [(1, "Ada", 30), (2, "Bo", 20)]
        ] * 2

        # A sign-out on one instance stops the token on the other at once.
        assert (
            requests.post(f"{one}/v1/auth/logout", headers=bo_headers, timeout=10).status_code
            == 204
        )
        assert requests.get(f"{two}/v1/me", headers=bo_headers, timeout=10).status_code == 401

        # The close job run from two processes closes the season once.
        with platform.db.unit_of_work() as session:
            session.execute(
                update(Season)
                .where(Season.id == season.id)
                .values(end_date=utcnow() - timedelta(seconds=1))
            )
        closed = _in_two_processes(
            env,
            "import json; from workers.leaderboards import close_ended_seasons;"
            " print(json.dumps(close_ended_seasons()))",
        )
        assert sorted(closed, key=len) == [[], [str(season.id)]]
        with platform.db.unit_of_work() as session:
            assert session.scalar(select(Season.closed_at).where(Season.id == season.id))
        archives = [
            requests.get(f"{s}{url}/archive", timeout=10).json()["items"] for s in (one, two)
        ]
        assert [[(i["rank"], i["display_name"]) for i in a] for a in archives] == [
            [(1, "Ada"), (2, "Bo")]
        ] * 2

    # Two schedulers (one per worker process) at the same moment queue each periodic job once.
    now = time.time()
    enqueued = _in_two_processes(
        env,
        "import json; from player_platform.platform import current;"
        " from workers.schedule import enqueue_due;"
        f" print(json.dumps(enqueue_due(current().jobs, now={now})))",
    )
    assert sorted(enqueued[0] + enqueued[1]) == sorted(
        f"periodic-{task.name}-{int(now // task.every_seconds)}" for task in PERIODIC
    )
    queued = [
        job_id
        for name in {task.queue for task in PERIODIC}
        for job_id in Queue(name, connection=redis).job_ids
    ]
    assert len(queued) == len(set(queued)) == len(PERIODIC)
