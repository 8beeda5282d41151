"""Inbox reads/s through the API under granian, beside /healthz on the same server.

    .venv/bin/python bench/inbox.py --seconds 10 --redis redis://127.0.0.1:6379/15

Creates a scratch PostgreSQL database (pp_bench_inbox) with 5,000 players; each of the 200
signed-in players gets ~50 messages: 40 of their own (half read, a few with attachments) and
10 broadcasts (stored once for everyone; 3 of them already read by each reader, so those have
a state row). Other players' 200,000 state rows sit in the same table. Serves `wsgi:app` with
granian on loopback and drives GET /v1/me/inbox (first page of 20 with the unread count, and
?unread=true) with bench/leaderboards.py's keep-alive HTTP/1.1 client. One table is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import redis
import sqlalchemy as sa
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from leaderboards import SECRET, SERVERS, drive, get  # noqa: E402

from player_platform.__main__ import migrate  # noqa: E402
from player_platform.config import Settings  # noqa: E402
from player_platform.db import Database, utcnow  # noqa: E402
from player_platform.identity.models import RefreshToken, User  # noqa: E402
from player_platform.messaging.models import Message, MessageRecipient  # noqa: E402
from player_platform.security.tokens import TokenSigner  # noqa: E402

DATABASE = "pp_bench_inbox"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PLAYERS = 5_000
READERS = 200
OWN, BROADCASTS = 40, 10


def _message(at, audience="players", attachments=()) -> dict:
    return {
        "id": uuid.uuid4(), "kind": "admin", "subject": "News", "body": "Hello " * 20,
        "data": {}, "attachments": list(attachments), "audience": audience,
        "include_new_players": True, "created_at": at, "delivered_at": at,
    }  # fmt: skip


def seed(url: str) -> list[str]:
    """Players, messages and state rows; access tokens of the readers."""
    db = Database.from_url(url)
    now = utcnow()
    signer = TokenSigner(secret=SECRET, issuer="player-platform", audience="player-platform",
                         lifetime_seconds=3600, refresh_days=1)  # fmt: skip
    users = [{"id": uuid.uuid4(), "display_name": f"p{i}", "created_at": now - timedelta(days=9)}
             for i in range(PLAYERS)]  # fmt: skip
    gift = [{"type": "currency", "sku_id": "gems", "quantity": 10}]
    broadcasts = [_message(now - timedelta(hours=i), "everyone") for i in range(BROADCASTS)]
    messages, states, families, tokens = list(broadcasts), [], [], []
    for n, user in enumerate(users):
        for i in range(OWN):
            at = now - timedelta(minutes=n % 500 + i * 13)
            message = _message(at, attachments=gift if i % 10 == 0 else ())
            messages.append(message)
            states.append({"user_id": user["id"], "message_id": message["id"],
                           "read_at": at if i % 2 else None})  # fmt: skip
        for message in broadcasts[:3]:
            states.append({"user_id": user["id"], "message_id": message["id"], "read_at": now})
        if n < READERS:
            family = uuid.uuid4()
            expires = now + timedelta(days=1)
            families.append({"user_id": user["id"], "family_id": family,
                             "token_hash": uuid.uuid4().hex, "expires_at": expires})  # fmt: skip
            tokens.append(signer.issue(user_id=user["id"], session_id=family, roles=["player"],
                                       mfa=False, now=now))  # fmt: skip
    with db.unit_of_work() as session:
        session.execute(insert(User), users)
        session.execute(insert(RefreshToken), families)
        for start in range(0, len(messages), 20_000):
            session.execute(insert(Message), messages[start : start + 20_000])
        for start in range(0, len(states), 20_000):
            session.execute(insert(MessageRecipient), states[start : start + 20_000])
    with db.bind.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    db.dispose()
    return tokens


def authed(path: str, token: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n".encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--server-log", default="/tmp/pp_bench_inbox_server.log")
    args = parser.parse_args()

    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
    url = sa.make_url(ADMIN_URL).set(database=DATABASE).render_as_string(hide_password=False)
    migrate(Settings(database_url=url))
    started = time.perf_counter()
    tokens = seed(url)
    print(f"seeded {PLAYERS:,} players x {OWN} messages + {BROADCASTS} broadcasts "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    redis.Redis.from_url(args.redis).flushdb()
    env = {
        **os.environ,
        "PP_ENV": "development",
        "PP_DATABASE_URL": url,
        "PP_REDIS_URL": args.redis,
        "PP_SECRET_KEY": SECRET,
        "PP_JOBS_INLINE": "false",
        "PP_RATE_LIMIT_READ_IP": "100000000",
    }
    command = SERVERS["granian"].format(
        venv=Path(sys.executable).parent, port=args.port, workers=args.workers, threads=args.threads
    )
    log = open(args.server_log, "wb")  # noqa: SIM115  (the access log, out of the way)
    server = subprocess.Popen(shlex.split(command), cwd=ROOT, env=env, stderr=log, stdout=log)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        scenarios = {
            "/healthz": lambda: get("/healthz"),
            "inbox, page 1 of 20": lambda: authed("/v1/me/inbox?limit=20", random.choice(tokens)),
            "inbox ?unread=true": lambda: authed(
                "/v1/me/inbox?limit=20&unread=true", random.choice(tokens)
            ),
        }
        rows = []
        for name, make in scenarios.items():
            asyncio.run(drive(args.port, make, 1, args.connections))  # warm up
            rows.append(
                (name, *asyncio.run(drive(args.port, make, args.seconds, args.connections)))
            )
    finally:
        server.terminate()
        server.wait()
        log.close()
    redis.Redis.from_url(args.redis).flushdb()

    print(
        f"\ngranian, {args.workers} workers x {args.threads} threads, {args.connections} "
        f"connections, {args.seconds:g} s per scenario, {READERS} readers with "
        f"{OWN + BROADCASTS} messages each"
    )
    health = rows[0][1]
    head = f"| {'scenario':<22} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | errors |"
    print(head + " of /healthz |")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 9}|{'-' * 9}|--------|-------------|")
    for name, rate, p50, p99, errors in rows:
        line = f"| {name:<22} | {rate:8.0f} | {p50:7.2f} | {p99:7.2f} | {errors:6d} |"
        print(f"{line} {rate / health:10.0%} |")
    print("\ncommand: " + shlex.join([Path(sys.executable).name, *sys.argv]))


if __name__ == "__main__":
    main()
