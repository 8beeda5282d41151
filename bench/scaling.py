"""What one player costs in Redis and PostgreSQL: the figures behind docs/SCALING.md.

    .venv/bin/python bench/scaling.py redis --url redis://127.0.0.1:6399 --members 1000000
    .venv/bin/python bench/scaling.py postgres --rows 100000

``redis`` needs a Redis of its own (INFO memory counts the whole server; it refuses a non-empty
one): it fills one board with the service's own writes (LeaderboardIndex.apply_all: the sorted
set and the user -> version|member hash) and then the names cache (remember_names), and prints
used_memory per entry after each. ``postgres`` creates a scratch database (pp_bench_scaling),
migrates it, inserts ``--rows`` players, each with an email identity, one leaderboard entry, one
wallet, one ledger entry and one refresh token (the service's own tables, Core inserts with the
models' defaults), runs VACUUM ANALYZE and prints the total size (heap, indexes, TOAST) per row
of each table.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from player_platform.__main__ import migrate  # noqa: E402
from player_platform.config import Settings  # noqa: E402
from player_platform.identity.models import Identity, RefreshToken, User  # noqa: E402
from player_platform.jobs import Jobs  # noqa: E402
from player_platform.leaderboards.index import Board, Change, LeaderboardIndex, encode_info  # noqa: E402
from player_platform.leaderboards.models import LeaderboardEntry, Season  # noqa: E402
from player_platform.wallet.models import LedgerEntry, Wallet  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BATCH = 10_000
MIB = 1024 * 1024


def measure_redis(url: str, members: int) -> None:
    client = redis.Redis.from_url(url)
    if client.dbsize():
        raise SystemExit(f"{url} is not empty: INFO memory would count what else it holds")
    index = LeaderboardIndex(client, Jobs(client, inline=True), db=None)  # type: ignore[arg-type]
    board = Board(uuid.uuid4(), "", descending=True)
    client.set(board.ready, 1)
    base = client.info("memory")["used_memory"]
    start, now = time.perf_counter(), datetime.now(UTC)
    users = [uuid.uuid4() for _ in range(members)]
    for first in range(0, members, BATCH):
        index.apply_all(
            [
                (board, Change(user, 1, random.randrange(10**9), now - timedelta(seconds=i)))
                for i, user in enumerate(users[first : first + BATCH])
            ]
        )
    ranked = client.info("memory")["used_memory"]
    for first in range(0, members, BATCH):
        index.remember_names(
            board,
            {u: encode_info(f"Player {u.hex[:8]}", None) for u in users[first : first + BATCH]},
        )
    named = client.info("memory")["used_memory"]
    version = client.info("server")["redis_version"]
    print(f"redis-server {version}, {members:,} entries on one board")
    print(f"  zset {client.zcard(board.zset):,} members, hash {client.hlen(board.hash):,} fields")
    for label, used in (
        ("board (zset + hash)", ranked - base),
        ("names cache", named - ranked),
        ("total", named - base),
    ):
        print(f"  {label:20} {used / MIB:,.1f} MiB, {used / members:,.0f} B/entry")
    print(f"  ({time.perf_counter() - start:.0f} s)")
    client.flushdb()


def measure_postgres(rows: int) -> None:
    name = "pp_bench_scaling"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    migrate(Settings(env="test", database_url=url))
    engine = sa.create_engine(url)
    now = datetime.now(UTC)
    season_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Season),
            [
                dict(
                    id=season_id,
                    season_id="bench",
                    name="Bench",
                    type="global",
                    sort="desc",
                    operator="best",
                    start_date=now,
                    end_date=now + timedelta(days=30),
                    reset_rule="archive",
                )
            ],
        )
        conn.execute(
            sa.text(
                "INSERT INTO skus (id, sku_id, type, name, description, prices,"
                " platforms, tags, epic_catalog_item_ids, active, created_at,"
                " updated_at) VALUES (gen_random_uuid(), 'gems', 'consumable',"
                " 'Gems', '', '{}', '[]', '[]', '[]', true, now(), now())"
            )
        )
    for first in range(0, rows, BATCH):
        users = [uuid.uuid4() for _ in range(min(BATCH, rows - first))]
        wallets = [uuid.uuid4() for _ in users]
        with engine.begin() as conn:
            conn.execute(
                sa.insert(User), [dict(id=u, display_name=f"Player {u.hex[:8]}") for u in users]
            )
            conn.execute(
                sa.insert(Identity),
                [
                    dict(
                        user_id=u,
                        provider="email",
                        provider_id=f"{u.hex}@example.com",
                        provider_email=f"{u.hex}@example.com",
                        secret_hash="$argon2id$v=19$m=65536,t=3,p=4$" + "x" * 22 + "$" + "y" * 43,
                    )
                    for u in users
                ],
            )
            conn.execute(
                sa.insert(LeaderboardEntry),
                [
                    dict(
                        season_id=season_id,
                        user_id=u,
                        score=random.randrange(10**9),
                        reached_at=now,
                    )
                    for u in users
                ],
            )
            conn.execute(
                sa.insert(Wallet),
                [
                    dict(id=w, user_id=u, sku_id="gems", balance=100)
                    for u, w in zip(users, wallets, strict=True)
                ],
            )
            conn.execute(
                sa.insert(LedgerEntry),
                [
                    dict(
                        wallet_id=w,
                        sku_id="gems",
                        change_type="grant",
                        quantity=100,
                        balance_after=100,
                        reference=f"order:{uuid.uuid4()}:grant:gems",
                    )
                    for w in wallets
                ],
            )
            conn.execute(
                sa.insert(RefreshToken),
                [
                    dict(
                        user_id=u,
                        family_id=uuid.uuid4(),
                        token_hash=uuid.uuid4().hex * 2,
                        user_agent="UnityPlayer/2022.3.10f1 (UnityWebRequest/1.0)",
                        ip="203.0.113.7",
                        expires_at=now + timedelta(days=30),
                    )
                    for u in users
                ],
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
        version = conn.execute(sa.text("SHOW server_version")).scalar()
        print(f"PostgreSQL {version}, {rows:,} rows each")
        for table in (
            "users",
            "identities",
            "leaderboard_entries",
            "wallets",
            "ledger_entries",
            "refresh_tokens",
        ):
            heap, total = conn.execute(
                sa.text(f"SELECT pg_relation_size('{table}'), pg_total_relation_size('{table}')")
            ).one()
            print(
                f"  {table:20} {total / MIB:8.1f} MiB  {total / rows:6.0f} B/row"
                f" (heap {heap / rows:4.0f}, indexes+toast {(total - heap) / rows:4.0f})"
            )
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/scaling.py")
    sub = parser.add_subparsers(dest="what", required=True)
    on_redis = sub.add_parser("redis")
    on_redis.add_argument("--url", required=True)
    on_redis.add_argument("--members", type=int, default=1_000_000)
    on_postgres = sub.add_parser("postgres")
    on_postgres.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    if args.what == "redis":
        measure_redis(args.url, args.members)
    else:
        measure_postgres(args.rows)


if __name__ == "__main__":
    main()
