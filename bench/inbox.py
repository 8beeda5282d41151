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
import json
import random
import sys
import time
from pathlib import Path

import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from leaderboards import (  # noqa: E402
    SECRET,
    drive,
    get,
    print_ratio_table,
    running_server,
)

from player_platform.__main__ import migrate  # noqa: E402
from player_platform.config import Settings  # noqa: E402
from player_platform.db import Database, utcnow  # noqa: E402
from player_platform.security.tokens import TokenSigner  # noqa: E402

DATABASE = "pp_bench_inbox"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PLAYERS = 5_000
READERS = 200
OWN, BROADCASTS = 40, 10


# Set-based: the players, their messages and state rows are made by PostgreSQL from
# generate_series in a few statements (row by row from Python this took minutes).
SEED_SQL = [
    """INSERT INTO users (id, display_name, roles, status, failed_logins, created_at, updated_at)
       SELECT gen_random_uuid(), 'p' || n, '["player"]', 'active', 0,
              now() - interval '9 days', now()
       FROM generate_series(0, :players - 1) AS n""",
    # One row per (player, i): the player's ordinal n spreads their message times.
    """CREATE TEMP TABLE own AS
       SELECT u.id AS user_id, gen_random_uuid() AS message_id, i,
              now() - make_interval(mins => n % 500 + i * 13) AS at
       FROM (SELECT id, substr(display_name, 2)::int AS n FROM users) AS u,
            generate_series(0, :own - 1) AS i""",
    """INSERT INTO messages (id, kind, subject, body, data, attachments, audience,
                             include_new_players, created_at, delivered_at)
       SELECT message_id, 'admin', 'News', repeat('Hello ', 20), '{}'::jsonb,
              CASE WHEN i % 10 = 0 THEN CAST(:gift AS jsonb) ELSE '[]' END, 'players', true,
              at, at
       FROM own
       UNION ALL
       SELECT gen_random_uuid(), 'admin', 'News', repeat('Hello ', 20), '{}', '[]', 'everyone',
              true, now() - make_interval(hours => b), now() - make_interval(hours => b)
       FROM generate_series(0, :broadcasts - 1) AS b""",
    """INSERT INTO message_recipients (user_id, message_id, read_at, created_at)
       SELECT user_id, message_id, CASE WHEN i % 2 = 1 THEN at END, at FROM own""",
    # Every player read the three newest broadcasts: those have a state row.
    """INSERT INTO message_recipients (user_id, message_id, read_at, created_at)
       SELECT u.id, b.id, now(), now()
       FROM users AS u,
            (SELECT id FROM messages WHERE audience = 'everyone'
             ORDER BY created_at DESC LIMIT 3) AS b""",
    """INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, mfa, created_at,
                                   expires_at)
       SELECT gen_random_uuid(), id, gen_random_uuid(), md5(id::text), false, now(),
              now() + interval '1 day'
       FROM users WHERE substr(display_name, 2)::int < :readers
       RETURNING user_id, family_id""",
]


def seed(url: str) -> list[str]:
    """Players, messages and state rows; access tokens of the readers."""
    db = Database.from_url(url)
    signer = TokenSigner(secret=SECRET, issuer="player-platform", audience="player-platform",
                         lifetime_seconds=3600, refresh_days=1)  # fmt: skip
    gift = json.dumps([{"type": "currency", "sku_id": "gems", "quantity": 10}])
    params = {"players": PLAYERS, "own": OWN, "broadcasts": BROADCASTS, "readers": READERS,
              "gift": gift}  # fmt: skip
    with db.bind.begin() as conn:
        for statement in SEED_SQL[:-1]:
            conn.execute(sa.text(statement), params)
        families = conn.execute(sa.text(SEED_SQL[-1]), params).all()
    with db.bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    db.dispose()
    now = utcnow()
    return [signer.issue(user_id=user_id, session_id=family, roles=["player"], mfa=False,
                         now=now) for user_id, family in families]  # fmt: skip


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
    with running_server(args, "granian", database_url=url, redis_url=args.redis):
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
    redis.Redis.from_url(args.redis).flushdb()

    print(
        f"\ngranian, {args.workers} workers x {args.threads} threads, {args.connections} "
        f"connections, {args.seconds:g} s per scenario, {READERS} readers with "
        f"{OWN + BROADCASTS} messages each"
    )
    print_ratio_table(rows)


if __name__ == "__main__":
    main()
