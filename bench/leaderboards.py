"""Leaderboard throughput and latency against the production server setup, beside redis-benchmark.

    .venv/bin/python bench/leaderboards.py --server gunicorn --seconds 10

Creates a scratch PostgreSQL database (pp_bench_lb) and uses Redis database 15, seeds 100,000
players with scores into one season (bulk SQL, then the index rebuild the service itself uses),
serves `wsgi:app` with the chosen WSGI server on loopback, and drives it with an asyncio HTTP/1.1
client at --connections keep-alive connections: score submissions (random players, `best`
operator), top-10 reads and around-me reads (radius 5). redis-benchmark then runs ZADD and
ZREVRANK on the same machine. Everything is printed as one table. The load generator shares
the 2 cores with the server, as in the Nakama figures the issue compares against.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shlex
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import redis
import sqlalchemy as sa
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from player_platform.__main__ import migrate  # noqa: E402
from player_platform.config import Settings  # noqa: E402
from player_platform.db import Database, utcnow  # noqa: E402
from player_platform.identity.models import RefreshToken, User  # noqa: E402
from player_platform.jobs import Jobs  # noqa: E402
from player_platform.leaderboards import lifecycle  # noqa: E402
from player_platform.leaderboards.index import LeaderboardIndex  # noqa: E402
from player_platform.leaderboards.models import LeaderboardEntry, Season  # noqa: E402
from player_platform.security.tokens import TokenSigner  # noqa: E402

DATABASE = "pp_bench_lb"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/15"
SECRET = "benchmark-secret-key-that-is-long-enough-for-production"
SEASON = "bench-season"
PLAYERS = 100_000
TOKENS = 2_000  # players that submit (each with a signed-in session)
SERVERS = {
    "gunicorn": "{venv}/gunicorn --bind 127.0.0.1:{port} --workers {workers} --threads {threads} "
    "--worker-class gthread --keep-alive 30 --log-level warning wsgi:app",
    "granian": "{venv}/granian --interface wsgi --host 127.0.0.1 --port {port} "
    "--workers {workers} --blocking-threads {threads} --log-level warning wsgi:app",
}


def bench_signer() -> TokenSigner:
    """The token signer of a server started with ``running_server`` (PP_SECRET_KEY=SECRET)."""
    return TokenSigner(
        secret=SECRET,
        issuer="player-platform",
        audience="player-platform",
        lifetime_seconds=3600,
        refresh_days=1,
    )


def seed(
    url: str, *, players: int = PLAYERS, redis_url: str = REDIS_URL
) -> tuple[list[str], list[str]]:
    """``players`` players with scores, and access tokens for the first TOKENS of them."""
    db = Database.from_url(url)
    now = utcnow()
    users = [{"id": uuid.uuid4(), "display_name": f"player{i}"} for i in range(players)]
    season_id = uuid.uuid4()
    signer = bench_signer()
    tokens = []
    with db.unit_of_work() as session:
        session.execute(insert(User), users)
        session.add(
            Season(
                id=season_id,
                season_id=SEASON,
                name="Bench",
                type="global",
                sort="desc",
                operator="best",
                start_date=now - timedelta(days=1),
                end_date=now + timedelta(days=7),
                reset_rule="archive",
            )
        )
        session.flush()
        session.execute(
            insert(LeaderboardEntry),
            [
                {
                    "season_id": season_id,
                    "user_id": u["id"],
                    "score": random.randrange(10**6),
                    "reached_at": now - timedelta(microseconds=i),
                    "region": "",
                }
                for i, u in enumerate(users)
            ],
        )
        families = []
        for user in users[:TOKENS]:
            family = uuid.uuid4()
            families.append(
                {
                    "user_id": user["id"],
                    "family_id": family,
                    "token_hash": uuid.uuid4().hex,
                    "expires_at": now + timedelta(days=1),
                }
            )
            tokens.append(
                signer.issue(
                    user_id=user["id"], session_id=family, roles=["player"], mfa=False, now=now
                )
            )
        session.execute(insert(RefreshToken), families)
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    with db.unit_of_work() as session:
        lifecycle.rebuild_index(
            session, LeaderboardIndex(client, Jobs(client, inline=True), db), season_id=season_id
        )
    db.dispose()
    return tokens, [str(u["id"]) for u in users]


class Conversation(Protocol):
    """An operation of several requests on one connection (sign-in chains, purchases)."""

    def request(self) -> bytes: ...

    def answer(self, ok: bool, body: bytes) -> bool:
        """Take the answer to the last request; True when the operation is complete (an
        operation that failed is complete too, and counted as an error)."""


async def drive(port, make, seconds, connections, *, conversation=None, samples=None):
    """Requests from ``make()`` on ``connections`` keep-alive connections for ``seconds``:
    (operations/s, p50 ms, p99 ms, errors). With ``conversation`` (a factory of one
    Conversation per connection) an operation is every request until it says complete.
    ``samples``: a list that receives every operation's latency (s), to pool several runs."""
    latencies, errors = [], 0
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal errors
        talk = conversation() if conversation is not None else None
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started, failed = None, False
        while time.perf_counter() < deadline or started is not None:
            request = talk.request() if talk is not None else make()
            started = time.perf_counter() if started is None else started
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            body = await reader.readexactly(length)
            ok = head.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2"))
            failed |= not ok
            if talk is None or talk.answer(ok, body):
                latencies.append(time.perf_counter() - started)
                errors += failed
                started, failed = None, False
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    if samples is not None:
        samples.extend(latencies)
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, errors


def get(path: str, token: str | None = None) -> bytes:
    auth = "" if token is None else f"Authorization: Bearer {token}\r\n"
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}\r\n".encode()


def post(path: str, body: str, token: str | None) -> bytes:
    auth = "" if token is None else f"Authorization: Bearer {token}\r\n"
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\n{auth}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()


def redis_benchmark(command: str, requests: int, connections: int) -> float:
    output = subprocess.run(
        [
            "redis-benchmark",
            "-n",
            str(requests),
            "-c",
            str(connections),
            "-r",
            str(PLAYERS),
            "--dbnum",
            "15",
            "-q",
            *shlex.split(command),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.findall(r"([\d.]+) requests per second", output)[-1])


def profile(directory: str | None, name: str, pid: int, seconds: float):
    """py-spy sampling the server (every worker) while a scenario runs."""
    if directory is None:
        return None
    Path(directory).mkdir(parents=True, exist_ok=True)
    out = Path(directory) / (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".txt")
    command = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--format",
        "raw",
        "--gil",  # samples of the thread holding the GIL: where the CPU goes
        "--rate",
        "200",
        "--duration",
        str(max(1, int(seconds) - 1)),
        "--output",
        str(out),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fresh_database(name: str) -> str:
    """Create database ``name`` anew (dropping what a previous run left), migrated; its URL."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    migrate(Settings(database_url=url))
    return url


@contextmanager
def running_server(
    args: argparse.Namespace,
    server: str,
    *,
    database_url: str,
    redis_url: str,
    port: int | None = None,
    root: Path = ROOT,
    **env: str,
) -> Iterator[subprocess.Popen]:
    """``server`` (a key of SERVERS) serving ``root``'s wsgi:app on ``port`` (default
    ``args.port``) with ``args.workers`` x ``args.threads``, answering /healthz; its output goes
    to ``args.server_log``; stopped on leaving."""
    port = args.port if port is None else port
    env = {
        **os.environ,
        "PP_ENV": "development",
        "PP_DATABASE_URL": database_url,
        "PP_REDIS_URL": redis_url,
        "PP_SECRET_KEY": SECRET,
        "PP_JOBS_INLINE": "false",
        "PP_RATE_LIMIT_READ_IP": "100000000",
        **env,
    }
    command = SERVERS[server].format(
        venv=Path(sys.executable).parent, port=port, workers=args.workers, threads=args.threads
    )
    with open(args.server_log, "ab") as log:  # the access log, out of the way
        process = subprocess.Popen(shlex.split(command), cwd=root, env=env, stderr=log, stdout=log)
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # granian sometimes hangs in its shutdown
                process.kill()
                process.wait()


def print_ratio_table(
    rows: list[tuple[str, float, float, float, int]], reference: dict[str, str] | None = None
) -> None:
    """One row a scenario with its share of the first row (/healthz, measured in the same run),
    then the command that produced the figures. ``reference``: an extra column by scenario
    name (a peer's figures)."""
    health = rows[0][1]
    width = max(22, *(len(row[0]) for row in rows))
    head = f"| {'scenario':<{width}} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | errors |"
    extra = " reference |" if reference is not None else ""
    print(head + " of /healthz |" + extra)
    rule = f"|{'-' * (width + 2)}|{'-' * 10}|{'-' * 9}|{'-' * 9}|--------|-------------|"
    print(rule + ("-----------|" if reference is not None else ""))
    for name, rate, p50, p99, errors in rows:
        line = f"| {name:<{width}} | {rate:8.0f} | {p50:7.2f} | {p99:7.2f} | {errors:6d} |"
        line = f"{line} {rate / health:10.2f}x |"
        if reference is not None:
            line += f" {reference.get(name, '-')} |"
        print(line)
    print("\ncommand: " + shlex.join([Path(sys.executable).name, *sys.argv]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", choices=sorted(SERVERS), default="gunicorn")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--server-log", default="/tmp/pp_bench_lb_server.log")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="record each scenario with py-spy (collapsed stacks, all workers) into DIR",
    )
    args = parser.parse_args()

    url = fresh_database(DATABASE)
    started = time.perf_counter()
    tokens, user_ids = seed(url)
    print(f"seeded {PLAYERS:,} players in {time.perf_counter() - started:.1f} s")

    with running_server(
        args,
        args.server,
        database_url=url,
        redis_url=REDIS_URL,
        PP_RATE_LIMIT_WRITE_USER="10000000",
    ) as server:
        scenarios = {
            "submit score": lambda: post(
                f"/v1/leaderboards/{SEASON}/scores",
                f'{{"score": {random.randrange(2 * 10**6)}}}',
                random.choice(tokens),
            ),
            "top 10": lambda: get(f"/v1/leaderboards/{SEASON}?limit=10"),
            "around me (r=5)": lambda: get(
                f"/v1/leaderboards/{SEASON}/around/{random.choice(user_ids)}?radius=5"
            ),
        }
        rows = []
        for name, make in scenarios.items():
            asyncio.run(drive(args.port, make, 1, args.connections))  # warm up
            spy = profile(args.profile, name, server.pid, args.seconds)
            rows.append(
                (name, *asyncio.run(drive(args.port, make, args.seconds, args.connections)))
            )
            if spy is not None:
                spy.wait()
    zadd = redis_benchmark("zadd bench:z __rand_int__ m:__rand_int__", 200_000, args.connections)
    zrank = redis_benchmark("zrevrank bench:z m:__rand_int__", 200_000, args.connections)
    redis.Redis.from_url(REDIS_URL).flushdb()

    print(
        f"\n{args.server}, {args.workers} workers x {args.threads} threads, "
        f"{args.connections} connections, "
        f"{args.seconds:g} s per scenario, {PLAYERS:,} players"
    )
    print(f"| {'scenario':<26} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | errors |")
    print(f"|{'-' * 28}|{'-' * 10}|{'-' * 9}|{'-' * 9}|--------|")
    for name, rate, p50, p99, errors in rows:
        print(f"| {name:<26} | {rate:8.0f} | {p50:7.2f} | {p99:7.2f} | {errors:6d} |")
    print(f"| {'redis-benchmark ZADD':<26} | {zadd:8.0f} | {'':>7} | {'':>7} |        |")
    print(f"| {'redis-benchmark ZREVRANK':<26} | {zrank:8.0f} | {'':>7} | {'':>7} |        |")
    print("\ncommand: " + shlex.join([Path(sys.executable).name, *sys.argv]))


if __name__ == "__main__":
    main()
