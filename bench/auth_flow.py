"""Sessions against the production server setup: /v1/me, refresh-token exchange and Steam ticket
sign-in, each next to /healthz measured in the same run.

    .venv/bin/python bench/auth_flow.py --seconds 8
    .venv/bin/python bench/auth_flow.py --seconds 8 --profile /tmp/auth-profile

Creates a scratch PostgreSQL database (pp_bench_auth) and uses Redis database 14, seeds 2,000
signed-in players (each with a Steam identity and a refresh token), starts the loopback Steam
stand-in (``python -m tests.fakes.steam``) and serves ``wsgi:app`` as ``make run`` does (granian,
2 workers x 4 threads), then drives it with wrk (2 threads, 32 connections, Lua scripts that
pick a random player per request; the refresh script spends each answered successor). Every
row prints req/s, p50, p99, errors and its share of /healthz. The load generator shares the 2
cores with the server, as in the Nakama figures of issue 14.

Each row is a function of a ``Target`` (port, server pid, seconds, connections) returning a
``Row``, so bench/nakama.py can build the whole table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.leaderboards import (  # noqa: E402
    SECRET,
    bench_signer,
    fresh_database,
    profile,
    running_server,
)
from player_platform.config import Settings  # noqa: E402
from player_platform.db import Database, utcnow  # noqa: E402
from player_platform.identity.models import Identity, RefreshToken, User  # noqa: E402
from player_platform.identity.session_cache import SessionCache  # noqa: E402
from player_platform.identity.sessions import authenticate_view  # noqa: E402
from player_platform.platform import Platform  # noqa: E402
from player_platform.security.tokens import hash_token, new_opaque_token  # noqa: E402
from tests.fakes.steam import APP_ID, PUBLISHER_KEY, bench_steam_id, bench_ticket  # noqa: E402

DATABASE = "pp_bench_auth"
REDIS_URL = "redis://127.0.0.1:6379/14"
PLAYERS = 2_000


@dataclass(frozen=True)
class Player:
    user_id: str
    access_token: str
    refresh_token: str


@dataclass(frozen=True)
class Row:
    name: str
    rate: float  # requests/s
    p50: float  # ms
    p99: float  # ms
    errors: int  # non-2xx answers and socket errors
    cpu_ms: float = 0.0  # the server's CPU per request (granian and its workers), if measured


def seed(url: str, players: int = PLAYERS) -> list[Player]:
    """``players`` users, each with a Steam identity (ticket ``bench_ticket(i)``) and one open
    session: an access token and an unspent refresh token."""
    db = Database.from_url(url)
    now = utcnow()
    signer = bench_signer()
    users = [{"id": uuid.uuid4(), "display_name": f"player{i}"} for i in range(players)]
    refresh = [new_opaque_token() for _ in users]
    families = [uuid.uuid4() for _ in users]
    with db.unit_of_work() as session:
        session.execute(insert(User), users)
        session.execute(
            insert(Identity),
            [
                {"user_id": u["id"], "provider": "steam", "provider_id": bench_steam_id(i)}
                for i, u in enumerate(users)
            ],
        )
        session.execute(
            insert(RefreshToken),
            [
                {
                    "user_id": u["id"],
                    "family_id": family,
                    "token_hash": hash_token(token),
                    "expires_at": now + signer.refresh_lifetime,
                }
                for u, family, token in zip(users, families, refresh, strict=True)
            ],
        )
    db.dispose()
    return [
        Player(
            user_id=str(u["id"]),
            access_token=signer.issue(
                user_id=u["id"], session_id=family, roles=["player"], mfa=False, now=now
            ),
            refresh_token=token,
        )
        for u, family, token in zip(users, families, refresh, strict=True)
    ]


# --- wrk ------------------------------------------------------------------------------------

_PICK = """
local tokens = {%s}
request = function()
  return wrk.format(%s)
end
"""

# Each wrk thread keeps a queue of unspent refresh tokens (its half of the players): a request
# takes the oldest, its answer puts the successor at the back.
_REFRESH = """
local tokens = {TOKENS}
local n = 0
function setup(thread) thread:set("id", n); n = n + 1 end
local queue, head, tail = {}, 1, 0
function init(args)
  for i = id + 1, #tokens, 2 do tail = tail + 1; queue[tail] = tokens[i] end
end
request = function()
  local token = queue[head]; queue[head] = nil; head = head + 1
  return wrk.format("POST", "/v1/auth/refresh", {["Content-Type"] = "application/json"},
    '{"refresh_token": "' .. token .. '"}')
end
response = function(status, headers, body)
  local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if token then tail = tail + 1; queue[tail] = token end
end
"""


def _lua_strings(values: list[str]) -> str:
    return ",".join(json.dumps(value) for value in values)


def wrk(
    port: int,
    script: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
    server_pid: int | None = None,
) -> Row:
    """Run wrk with the Lua ``script`` against 127.0.0.1:``port``; its figures (name empty),
    with the CPU the server (``server_pid`` and its children) spent per request if given."""
    cpu_before = tree_cpu_seconds(server_pid) if server_pid else 0.0
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(script)
        file.flush()
        output = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--latency",
                "--timeout",
                "10s",
                "-s",
                file.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    cpu = tree_cpu_seconds(server_pid) - cpu_before if server_pid else 0.0
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    served = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(n) for n in sockets.groups()) if sockets else 0
    p50, p99 = _percentile(output, "50%"), _percentile(output, "99%")
    return Row("", rate, p50, p99, errors, cpu_ms=cpu * 1000 / max(served, 1))


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children (granian's workers), from /proc:
    unlike req/s on a shared machine, the CPU a request costs does not move with the load."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(stat[1]) == pid:
            total += int(stat[11]) + int(stat[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _percentile(output: str, label: str) -> float:
    value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


# --- rows: each warms up 1 s, then measures ---------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The server the rows drive: its port, its pid (for its CPU per request, optional), and
    how long and with how many connections wrk drives it."""

    port: int
    server_pid: int | None = None
    seconds: float = 8
    connections: int = 32

    def wrk(self, script: str, *, seconds: float | None = None) -> Row:
        return wrk(
            self.port,
            script,
            seconds=self.seconds if seconds is None else seconds,
            connections=self.connections,
            server_pid=self.server_pid,
        )


def _measure(name: str, target: Target, script: str) -> Row:
    target.wrk(script, seconds=1)  # warm-up
    return dataclasses.replace(target.wrk(script), name=name)


def health_row(target: Target) -> Row:
    script = _PICK % ('""', '"GET", "/healthz"')
    return _measure("GET /healthz", target, script)


def me_row(target: Target, players: list[Player]) -> Row:
    """/v1/me of a random signed-in player per request."""
    script = _PICK % (
        _lua_strings([p.access_token for p in players]),
        '"GET", "/v1/me", {Authorization = "Bearer " .. tokens[math.random(#tokens)]}',
    )
    return _measure("GET /v1/me", target, script)


def refresh_row(target: Target, players: list[Player]) -> Row:
    """Refresh-token exchange: each request spends a live token, each answer's successor is
    spent later. ``players``' refresh tokens are spent by it."""
    script = _REFRESH.replace("TOKENS", _lua_strings([p.refresh_token for p in players]))
    # No separate warm-up: the tokens it spent would be gone.
    return dataclasses.replace(target.wrk(script), name="POST /v1/auth/refresh")


def steam_row(target: Target, players: int = PLAYERS) -> Row:
    """Steam ticket sign-in of a random returning player, against the loopback Steam
    stand-in (``steam_stand_in``, its settings from ``steam_settings``)."""
    tickets = [bench_ticket(i) for i in range(players)]
    script = _PICK % (
        _lua_strings(tickets),
        '"POST", "/v1/auth/steam", {["Content-Type"] = "application/json"}, '
        "'{\"ticket\": \"' .. tokens[math.random(#tokens)] .. '\"}'",
    )
    return _measure("POST /v1/auth/steam", target, script)


@contextmanager
def steam_stand_in(players: int = PLAYERS) -> Iterator[str]:
    """The loopback Steam (tests/fakes/steam.py) in a process of its own, on a free port; its
    base URL."""
    port = _free_port()
    command = [sys.executable, "-m", "tests.fakes.steam", "--port", str(port)]
    command += ["--bench-players", str(players)]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/ISteamUser/GetPlayerSummaries/v2/?key=x", timeout=1)
            except urllib.error.HTTPError:
                break  # it answers (403: wrong key)
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def steam_settings(base: str) -> dict[str, str]:
    """The environment that points the service at the Steam stand-in."""
    return {
        "PP_STEAM_API_URL": base,
        "PP_STEAM_API_KEY": PUBLISHER_KEY,
        "PP_STEAM_APP_ID": str(APP_ID),
    }


def print_rows(rows: list[Row], health: Row) -> None:
    """The rows with their share of /healthz (same run): by req/s, and by the server's CPU per
    request (what the req/s share would be with the server alone on the machine)."""
    print(f"| {'scenario':<22} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | errors |", end="")
    print(" of /healthz | CPU ms/req | of /healthz by CPU |")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 9}|{'-' * 9}|--------|-------------|", end="")
    print("------------|--------------------|")
    for row in [health, *rows]:
        line = f"| {row.name:<22} | {row.rate:8.0f} | {row.p50:7.2f} | {row.p99:7.2f} |"
        line += f" {row.errors:6d} | {row.rate / health.rate:10.2f}x |"
        by_cpu = health.cpu_ms / row.cpu_ms if row.cpu_ms else 0.0
        print(f"{line} {row.cpu_ms:10.2f} | {by_cpu:17.2f}x |")


def check_costs(url: str, redis_url: str, players: list[Player], calls: int = 4000) -> dict:
    """µs of CPU and of wall time per ``authenticate_view`` in this process, answered from the
    session cache (warm) and from PostgreSQL (the cache left out), each in its own unit of work
    as a request runs it: the per-request check of score submissions and wallet reads."""
    platform = Platform.from_settings(
        Settings(database_url=url, redis_url=redis_url, secret_key=SECRET)
    )
    claims = [platform.tokens.verify(p.access_token, now=utcnow()) for p in players]
    costs = {}
    for name, cached in (("PostgreSQL", False), ("session cache", True)):
        cache = SessionCache(platform.redis, ttl_seconds=600) if cached else None
        platform.db.sessions.configure(info={"session_cache": cache})
        for claim in claims[:calls]:  # warm-up: fills the cache, warms the pool
            with platform.db.unit_of_work() as session:
                authenticate_view(session, claim, now=utcnow())
        cpu, wall = time.process_time(), time.perf_counter()
        for index in range(calls):
            with platform.db.unit_of_work() as session:
                authenticate_view(session, claims[index % len(claims)], now=utcnow())
        costs[name] = (
            (time.process_time() - cpu) / calls * 1e6,
            (time.perf_counter() - wall) / calls * 1e6,
        )
    platform.db.dispose()
    return costs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=18776)
    parser.add_argument("--server-log", default="/tmp/pp_bench_auth_server.log")
    parser.add_argument("--redis", default=REDIS_URL)
    parser.add_argument("--profile", metavar="DIR", help="py-spy each row (all workers) into DIR")
    parser.add_argument(
        "--check-only", action="store_true", help="only time the per-request check in-process"
    )
    args = parser.parse_args()

    url = fresh_database(DATABASE)
    players = seed(url)
    redis.Redis.from_url(args.redis).flushdb()
    if args.check_only:
        for name, (cpu, wall) in check_costs(url, args.redis, players).items():
            print(f"authenticate_view from {name:<14} {cpu:6.0f} µs CPU {wall:6.0f} µs wall")
        return
    with (
        steam_stand_in() as steam,
        running_server(
            args,
            "granian",
            database_url=url,
            redis_url=args.redis,
            PP_RATE_LIMIT_AUTH_IP="100000000",
            PP_RATE_LIMIT_WRITE_USER="100000000",
            **steam_settings(steam),
        ) as server,
    ):
        target = Target(args.port, server.pid, args.seconds, args.connections)
        rows = {}
        for name, measure in [
            ("healthz", lambda: health_row(target)),
            ("me", lambda: me_row(target, players)),
            ("refresh", lambda: refresh_row(target, players)),
            ("steam", lambda: steam_row(target)),
        ]:
            spy = profile(args.profile, name, server.pid, args.seconds + 1)
            rows[name] = measure()
            if spy is not None:
                spy.wait()
    redis.Redis.from_url(args.redis).flushdb()
    print(
        f"\ngranian, {args.workers} workers x {args.threads} threads, wrk 2 threads x "
        f"{args.connections} connections, {args.seconds:g} s per row, {PLAYERS:,} players"
    )
    print_rows([rows["me"], rows["refresh"], rows["steam"]], rows["healthz"])
    print("\ncommand: " + shlex.join([Path(sys.executable).name, *sys.argv]))


if __name__ == "__main__":
    main()
