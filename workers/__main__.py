"""`python -m workers [queue ...]`: one RQ worker on the given queues (default: all) and the
periodic scheduler beside it (`--no-scheduler` to leave that to another process)."""

from __future__ import annotations

import argparse
import threading

from rq import Worker

from player_platform.config import Settings
from player_platform.jobs import QUEUES, Jobs
from player_platform.logs import configure_logging
from player_platform.platform import Platform, bind_current, connect_queue_redis
from workers import schedule


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m workers")
    parser.add_argument("queues", nargs="*", default=list(QUEUES))
    parser.add_argument("--no-scheduler", action="store_true")
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    args = parser.parse_args()

    configure_logging()
    platform = Platform.from_settings(Settings.from_env())
    bind_current(platform)
    stop = threading.Event()
    if not args.no_scheduler:
        threading.Thread(
            target=schedule.run_forever, args=(platform.jobs, stop), name="scheduler", daemon=True
        ).start()
    # BLPOP waits up to the worker's TTL (minutes): no read timeout on the worker's connection.
    connection = connect_queue_redis(platform.settings, read_timeout=None)
    queues = Jobs(connection, inline=False)
    worker = Worker(
        [queues.queue(name) for name in args.queues],
        connection=connection,
        job_monitoring_interval=platform.jobs.heartbeat_seconds,
    )
    try:
        worker.work(burst=args.burst, with_scheduler=True)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
