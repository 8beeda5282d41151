"""Commerce throughput and latency against the fake Steam over real HTTP.

    .venv/bin/python bench/commerce.py --seconds 10 --threads 8          # service layer
    .venv/bin/python bench/commerce.py --seconds 10 --threads 8 --http   # the API, end to end

Without --http what is measured is the service layer (no Flask, no HTTP in front of it): each
operation is the unit of work a request runs. With --http the same operations are requests to
`wsgi:app` served by granian (2 workers x 4 threads, the production setting) on loopback, with
players signed in (Bearer tokens). Either way on PostgreSQL (scratch database
pp_bench_commerce) with Redis database 14, from --threads threads of one process:
- purchase: `init_steam` (pending order + InitTxn to the fake Steam), the player approves in the
  fake overlay, then `finalize_steam` (QueryTxn, FinalizeTxn, grant, receipt written to disk),
  two transactions and three HTTP calls to the fake, which runs in this process too;
- spend, one hot wallet: every thread spends 1 gem from the same wallet (row lock contention);
- spend, many wallets: every spend picks one of 999 other wallets at random.
Afterwards every wallet is reconciled (balance = sum of ledger entries) and the hot wallet's
balance is checked against the number of spends.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.leaderboards import SERVERS  # noqa: E402
from player_platform.__main__ import migrate  # noqa: E402
from player_platform.commerce import flows  # noqa: E402
from player_platform.commerce.models import Sku  # noqa: E402
from player_platform.config import Settings  # noqa: E402
from player_platform.db import utcnow  # noqa: E402
from player_platform.identity.models import Identity, RefreshToken, User  # noqa: E402
from player_platform.platform import Platform  # noqa: E402
from player_platform.wallet import service as wallet  # noqa: E402
from tests.fakes import serve  # noqa: E402
from tests.fakes import steam as fake_steam  # noqa: E402

DATABASE = "pp_bench_commerce"
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
BUYERS = 200
WALLETS = 1_000
FUNDS = 10**9
SECRET = "benchmark-secret-key-that-is-long-enough-for-production"
PORT = 8766


def scratch_database(name: str = DATABASE) -> str:
    """A new, migrated database ``name`` (dropped first if a previous run left it)."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    migrate(Settings(env="test", database_url=url))
    return url


def seed(platform: Platform) -> tuple[list[uuid.UUID], uuid.UUID, list[uuid.UUID]]:
    """Buyers with Steam accounts, one hot wallet, and 999 other funded wallets."""
    now = utcnow()
    buyers = [uuid.uuid4() for _ in range(BUYERS)]
    holders = [uuid.uuid4() for _ in range(WALLETS)]
    with platform.db.unit_of_work() as session:
        session.add_all(
            [
                Sku(
                    sku_id="sword",
                    type="durable",
                    name="Sword",
                    prices={"USD": 499},
                    steam_item_id=1001,
                ),
                Sku(
                    sku_id="gems",
                    type="consumable",
                    name="Gems",
                    prices={"USD": 10},
                    steam_item_id=1002,
                ),
            ]
        )
        session.execute(sa.insert(User), [{"id": u, "display_name": "p"} for u in buyers + holders])
        session.execute(
            sa.insert(Identity),
            [
                {"user_id": u, "provider": "steam", "provider_id": str(76561198000000000 + i)}
                for i, u in enumerate(buyers)
            ],
        )
        for user_id in holders:
            wallet.credit(session, user_id=user_id, sku_id="gems", quantity=FUNDS, now=now)
    return buyers, holders[0], holders[1:]


def sign_in(platform: Platform, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """An open session and an access token for each user, as a sign-in would leave them."""
    now, families, tokens = utcnow(), [], {}
    for user_id in user_ids:
        family = uuid.uuid4()
        families.append(
            {
                "user_id": user_id,
                "family_id": family,
                "token_hash": uuid.uuid4().hex,
                "expires_at": now + timedelta(days=1),
            }
        )
        tokens[user_id] = platform.tokens.issue(
            user_id=user_id, session_id=family, roles=["player"], mfa=False, now=now
        )
    with platform.db.unit_of_work() as session:
        session.execute(sa.insert(RefreshToken), families)
    return tokens


def serve_api(settings: Settings, steam_url: str, log_path: str) -> subprocess.Popen:
    """wsgi:app under granian, 2 workers x 4 threads, configured like the bench's Platform."""
    env = {
        **os.environ,
        "PP_ENV": "development",
        "PP_DATABASE_URL": settings.database_url,
        "PP_REDIS_URL": settings.redis_url,
        "PP_STORAGE_URL": settings.storage_url,
        "PP_SECRET_KEY": SECRET,
        "PP_JOBS_INLINE": "false",
        "PP_STEAM_API_URL": steam_url,
        "PP_STEAM_API_KEY": fake_steam.PUBLISHER_KEY,
        "PP_STEAM_APP_ID": str(fake_steam.APP_ID),
        "PP_RATE_LIMIT_WRITE_USER": "10000000",
        "PP_RATE_LIMIT_READ_IP": "100000000",
    }
    command = SERVERS["granian"].format(
        venv=Path(sys.executable).parent, port=PORT, workers=2, threads=4
    )
    log = open(log_path, "wb")  # noqa: SIM115  (kept open by the server process)
    server = subprocess.Popen(shlex.split(command), cwd=ROOT, env=env, stdout=log, stderr=log)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the API did not start: see {log_path}")


def bench_settings(database_url: str, redis_url: str, storage_url: str, steam_url: str):
    """The benchmark's Platform settings: the fake Steam at ``steam_url``, jobs queued."""
    return Settings(
        env="test",
        database_url=database_url,
        redis_url=redis_url,
        storage_url=storage_url,
        secret_key=SECRET,
        jobs_inline=False,
        steam_api_url=steam_url,
        steam_api_key=fake_steam.PUBLISHER_KEY,
        steam_app_id=fake_steam.APP_ID,
    )


def run(threads: int, seconds: float, operation: Callable[[random.Random], None]) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop(seed_value: int) -> None:
        rng = random.Random(seed_value)
        mine = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                operation(rng)
            except Exception:  # counted and reported; the run goes on
                with lock:
                    errors[0] += 1
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "ops": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50": cuts[49] * 1000,
        "p99": cuts[98] * 1000,
        "errors": errors[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--http", action="store_true", help="through the API under granian")
    parser.add_argument("--server-log", default="/tmp/pp_bench_commerce_server.log")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's request log

    steam = fake_steam.FakeSteam()
    with serve(fake_steam.steam_app(steam)) as steam_url, tempfile.TemporaryDirectory() as tmp:
        settings = bench_settings(scratch_database(), REDIS_URL, f"file://{tmp}", steam_url)
        platform = Platform.from_settings(settings)
        platform.redis.flushdb()
        buyers, hot, holders = seed(platform)
        server = serve_api(settings, steam_url, args.server_log) if args.http else None
        operations = (
            over_http(platform, steam, buyers, hot, holders)
            if args.http
            else in_process(platform, steam, buyers, hot, holders)
        )
        try:
            results = {
                name: run(args.threads, args.seconds, operation)
                for name, operation in operations.items()
            }
        finally:
            if server is not None:
                server.terminate()
                server.wait()
        with platform.db.unit_of_work() as session:
            mismatches = wallet.reconcile(session)
            hot_balance = wallet.locked_wallet(
                session, user_id=hot, sku_id="gems", now=utcnow()
            ).balance
        platform.redis.flushdb()

    print("command: " + shlex.join([".venv/bin/python", "bench/commerce.py", *sys.argv[1:]]))
    print(f"{'operation':<28} {'ops':>7} {'ops/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for name, r in results.items():
        print(
            f"{name:<28} {r['ops']:>7} {r['per_s']:>8.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
            f"{r['errors']:>6}"
        )
    hot_spends = results["spend, one hot wallet"]["ops"]
    print(
        f"reconciliation mismatches: {len(mismatches)}; hot wallet spent "
        f"{FUNDS - hot_balance} of {hot_spends} acknowledged spends"
    )


def in_process(platform, steam, buyers, hot, holders) -> dict[str, Callable]:
    """The operations as the calls their requests make (purchases: the commerce flows)."""

    def purchase(rng: random.Random) -> None:
        user_id = rng.choice(buyers)
        started = flows.init_steam(
            platform.db,
            steam=platform.steam_microtxn,
            user_id=user_id,
            sku_id=rng.choice(["sword", "gems"]),
            quantity=1,
            currency="USD",
            language="en",
        )
        steam.approve(started.payment["orderid"])
        done = flows.finalize_steam(
            platform.db,
            steam=platform.steam_microtxn,
            storage=platform.storage,
            jobs=platform.jobs,
            user_id=user_id,
            order_id=started.order.id,
        )
        assert done.order.status == "fulfilled"

    def spend_from(pick: Callable[[random.Random], uuid.UUID]) -> Callable:
        def spend(rng: random.Random) -> None:
            with platform.db.unit_of_work() as session:
                wallet.spend(session, user_id=pick(rng), sku_id="gems", quantity=1, now=utcnow())

        return spend

    return {
        "verified purchase (Steam)": purchase,
        "spend, one hot wallet": spend_from(lambda r: hot),
        f"spend, {WALLETS - 1:,} wallets": spend_from(lambda r: r.choice(holders)),
    }


def over_http(platform, steam, buyers, hot, holders) -> dict[str, Callable]:
    """The same operations as API requests from signed-in players (a session per thread)."""
    tokens = sign_in(platform, [*buyers, hot, *holders])
    local = threading.local()
    base = f"http://127.0.0.1:{PORT}"

    def call(path: str, user_id: uuid.UUID, body: dict) -> dict:
        if not hasattr(local, "http"):
            local.http = requests.Session()
        headers = {"Authorization": f"Bearer {tokens[user_id]}"}
        response = local.http.post(base + path, json=body, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def purchase(rng: random.Random) -> None:
        user_id = rng.choice(buyers)
        started = call(
            "/v1/commerce/steam/init",
            user_id,
            {"sku_id": rng.choice(["sword", "gems"]), "quantity": 1},
        )
        steam.approve(started["payment"]["orderid"])
        done = call("/v1/commerce/steam/finalize", user_id, {"order_id": started["order"]["id"]})
        assert done["order"]["status"] == "fulfilled"

    def spend_from(pick: Callable[[random.Random], uuid.UUID]) -> Callable:
        return lambda rng: call("/v1/me/wallet/spend", pick(rng), {"sku_id": "gems", "quantity": 1})

    return {
        "verified purchase (Steam)": purchase,
        "spend, one hot wallet": spend_from(lambda r: hot),
        f"spend, {WALLETS - 1:,} wallets": spend_from(lambda r: r.choice(holders)),
    }


if __name__ == "__main__":
    main()
