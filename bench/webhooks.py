"""Twitch EventSub notifications acknowledged per second through the API under granian, beside
/healthz on the same server in the same run.

    .venv/bin/python bench/webhooks.py --seconds 10 --redis redis://127.0.0.1:6379/15

Creates a scratch PostgreSQL database (pp_bench_webhooks, migrated) and serves `wsgi:app` with
granian on loopback (bench/leaderboards.py's `running_server`, 2 workers x 4 threads). Each
request is a `drop.entitlement.grant` notification of --batch entitlements, signed as Twitch
signs it (HMAC-SHA256 of message id + timestamp + body, tests/fakes/twitch.py's
EventSubSender) with a new message id: the API checks the signature and the timestamp, stores
the message once in the webhook inbox and enqueues its job (no worker runs: this is the
acknowledgement Twitch waits for, not the grant). A second scenario replays messages already
acknowledged (the same ids): the duplicate answer. One table is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import urllib.request
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from leaderboards import (  # noqa: E402
    drive,
    fresh_database,
    get,
    print_ratio_table,
    running_server,
)

from tests.fakes import twitch as fake_twitch  # noqa: E402
from tests.fakes.twitch import EventSubSender  # noqa: E402

DATABASE = "pp_bench_webhooks"
PATH = "/v1/webhooks/twitch"
SIGNER = EventSubSender(PATH)


def notification(batch: int) -> bytes:
    events = [
        {
            "organization_id": fake_twitch.ORGANIZATION_ID,
            "category_id": "9002",
            "category_name": "Bench",
            "campaign_id": "bench-campaign",
            "user_id": str(random.randrange(10**6)),
            "user_name": "viewer",
            "user_login": "viewer",
            "entitlement_id": str(uuid.uuid4()),
            "benefit_id": "benefit-a",
            "created_at": "2026-01-01T00:00:00Z",
        }
        for _ in range(batch)
    ]
    return json.dumps(fake_twitch.drop_notification(events)).encode()


def signed_post(body: bytes, message_id: str) -> bytes:
    headers = SIGNER.signed(body, message_type="notification", message_id=message_id)
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = f"POST {PATH} HTTP/1.1\r\nHost: bench\r\n{lines}Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--batch", type=int, default=10, help="entitlements per notification")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--server-log", default="/tmp/pp_bench_webhooks_server.log")
    args = parser.parse_args()

    url = fresh_database(DATABASE)
    redis.Redis.from_url(args.redis).flushdb()
    replays = [(notification(args.batch), str(uuid.uuid4())) for _ in range(200)]
    with running_server(
        args,
        "granian",
        database_url=url,
        redis_url=args.redis,
        PP_TWITCH_EVENTSUB_SECRET=fake_twitch.EVENTSUB_SECRET,
        PP_RATE_LIMIT_WRITE_USER="100000000",
    ):
        for body, message_id in replays:  # acknowledged once, replayed below
            headers = SIGNER.signed(body, message_type="notification", message_id=message_id)
            request = urllib.request.Request(
                f"http://127.0.0.1:{args.port}{PATH}", data=body, headers=headers
            )
            urllib.request.urlopen(request, timeout=10).read()
        scenarios = {
            "/healthz": lambda: get("/healthz"),
            "notification (new id)": lambda: signed_post(
                notification(args.batch), str(uuid.uuid4())
            ),
            "replay (known id)": lambda: signed_post(*random.choice(replays)),
        }
        rows = []
        for name, make in scenarios.items():
            asyncio.run(drive(args.port, make, 1, args.connections))  # warm up
            rows.append(
                (name, *asyncio.run(drive(args.port, make, args.seconds, args.connections)))
            )
    redis.Redis.from_url(args.redis).flushdb()

    print(
        f"\ngranian, {args.workers} workers x {args.threads} threads, {args.connections} "
        f"connections, {args.seconds:g} s per scenario, {args.batch} entitlements a notification"
    )
    print_ratio_table(rows)


if __name__ == "__main__":
    main()
