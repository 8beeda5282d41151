"""The game-key store: bulk import speed and memory, and key purchases end to end.

    .venv/bin/python bench/keys.py import --keys 1000000
    .venv/bin/python bench/keys.py purchase --seconds 20 --threads 8 --keys 2000

On PostgreSQL (scratch database pp_bench_keys) with Redis database 13.
- import: writes a CSV of ``--keys`` generated Steam codes, then imports it through the path
  the CLI takes (`python -m player_platform keys import`: importer.import_codes, codes checked
  and sealed with AES-256-GCM in PP_KEYS_IMPORT_WORKERS processes, batches COPied and moved
  with INSERT ... ON CONFLICT DO NOTHING), and
  prints keys/s, wall time and the peak RSS of this process (flat memory: it does not grow
  with the file). The file is then imported again: every line a duplicate.
- purchase: the app served on loopback (werkzeug, threaded) with the fake Stripe; ``--threads``
  clients each check out one key, pay, verify the receipt; jobs run inline, so the answer
  comes after the key was claimed. Prints purchases/s and p50/p99, then checks that no key
  was sold twice and that every paid order holds a key or is backordered.
"""

from __future__ import annotations

import argparse
import logging
import resource
import secrets
import shlex
import statistics
import string
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.commerce import scratch_database  # noqa: E402
from player_platform.__main__ import sealer_pool  # noqa: E402
from player_platform.audit.service import SYSTEM  # noqa: E402
from player_platform.commerce.models import Order, Sku  # noqa: E402
from player_platform.config import Settings  # noqa: E402
from player_platform.db import utcnow  # noqa: E402
from player_platform.keys import importer  # noqa: E402
from player_platform.keys.models import GameKey  # noqa: E402
from player_platform.platform import Platform, bind_current  # noqa: E402
from tests import factories  # noqa: E402
from tests.conftest import serving  # noqa: E402
from tests.fakes import serve  # noqa: E402
from tests.fakes import stripe as fake_stripe  # noqa: E402

DATABASE = "pp_bench_keys"
REDIS_URL = "redis://127.0.0.1:6379/13"
SECRET = "benchmark-secret-key-that-is-long-enough-for-production"
ALPHABET = string.ascii_uppercase + string.digits


def settings_for(tmp: str, **extra) -> Settings:
    return Settings(
        env="test",
        database_url=scratch_database(DATABASE),
        redis_url=REDIS_URL,
        storage_url=f"file://{tmp}",
        secret_key=SECRET,
        password_hash_cost="cheapest",
        rate_limit_write_user=10**9,
        rate_limit_read_ip=10**9,
        **extra,
    )


def seed_sku(platform: Platform) -> None:
    with platform.db.unit_of_work() as session:
        session.add(
            Sku(sku_id="game", type="game_key", name="Game", prices={"USD": 999},
                platforms=["steam"])
        )  # fmt: skip


def write_codes(path: Path, count: int) -> None:
    """``count`` distinct Steam codes: two random groups, then the line number in base 36."""
    with path.open("w") as out:
        for i in range(count):
            head = "".join(secrets.choice(ALPHABET) for _ in range(10))
            serial = ""
            for _ in range(5):
                i, digit = divmod(i, 36)
                serial = ALPHABET[(digit + 26) % 36] + serial
            out.write(f"{head[:5]}-{head[5:]}-{serial}\n")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_import(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        platform = Platform.from_settings(settings_for(tmp))
        seed_sku(platform)
        path = Path(tmp) / "keys.csv"
        write_codes(path, count)
        before = peak_rss_mb()
        for label in ("import", "again (all duplicates)"):
            started = time.perf_counter()
            with path.open("rb") as lines:
                result = importer.import_codes(
                    platform.db, vault=platform.vault, jobs=platform.jobs,
                    formats=platform.key_formats,
                    target=importer.Target("game", "steam", None, SYSTEM),
                    lines=lines, kind="csv", batch=platform.settings.keys_import_batch,
                    threshold=10, now=utcnow, sealers=sealer_pool(platform.settings),
                )  # fmt: skip
            wall = time.perf_counter() - started
            print(
                f"{label}: {count} lines in {wall:.1f} s = {count / wall:,.0f} keys/s; "
                f"imported {result.imported}, duplicates {result.duplicates}, "
                f"invalid {result.invalid_total}; peak RSS {peak_rss_mb():.0f} MB "
                f"(before the import {before:.0f} MB)"
            )


def bench_purchase(seconds: float, threads: int, keys: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stripe = fake_stripe.FakeStripe()
    with serve(fake_stripe.stripe_app(stripe)) as stripe_url, tempfile.TemporaryDirectory() as t:
        # A few players buying hundreds of times an hour is this load, not fraud: the velocity
        # rules would hold most orders for review (commerce/fraud.py), so they are off here.
        settings = settings_for(
            t, jobs_inline=True, stripe_api_url=stripe_url,
            stripe_secret_key=fake_stripe.SECRET_KEY,
            fraud_orders_per_player=0, fraud_orders_per_fingerprint=0,
        )  # fmt: skip
        platform = Platform.from_settings(settings)
        bind_current(platform)
        seed_sku(platform)
        path = Path(t) / "keys.csv"
        write_codes(path, keys)
        with path.open("rb") as lines:
            importer.import_codes(
                platform.db, vault=platform.vault, jobs=platform.jobs,
                formats=platform.key_formats, target=importer.Target("game", "steam", None, SYSTEM),
                lines=lines, kind="csv", batch=5000, threshold=10, now=utcnow,
            )  # fmt: skip
        with platform.db.unit_of_work() as session:
            tokens = [factories.player(session, platform).access_token for _ in range(threads)]
        with serving(platform) as url:
            latencies = run_purchases(url, stripe, tokens, seconds)
        check(platform, latencies, seconds)


def run_purchases(url: str, stripe, tokens: list[str], seconds: float) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def buyer(token: str) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        local = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            bought = http.post(
                f"{url}/v1/checkout",
                timeout=60,
                json={"items": [{"sku_id": "game", "quantity": 1}], "currency": "USD"},
            ).json()
            intent = bought["payment"]["payment_intent_id"]
            stripe.succeed(intent)
            http.post(
                f"{url}/v1/commerce/verify-receipt",
                timeout=60,
                json={"provider": "stripe", "payment_intent_id": intent},
            ).raise_for_status()
            local.append(time.perf_counter() - started)  # fmt: skip
        with lock:
            latencies.extend(local)

    workers = [threading.Thread(target=buyer, args=(t,)) for t in tokens]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies


def check(platform: Platform, latencies: list[float], seconds: float) -> None:
    with platform.db.unit_of_work() as session:
        per_order = session.execute(
            sa.select(GameKey.order_id, sa.func.count())
            .where(GameKey.order_id.is_not(None))
            .group_by(GameKey.order_id)
        ).all()
        statuses = dict(
            session.execute(sa.select(Order.status, sa.func.count()).group_by(Order.status)).all()
        )
    double = sum(1 for _, n in per_order if n != 1)
    cut = sorted(latencies)
    print(
        f"purchase: {len(latencies)} in {seconds:.0f} s = {len(latencies) / seconds:.1f}/s; "
        f"p50 {statistics.median(cut) * 1000:.0f} ms, p99 {cut[int(len(cut) * 0.99)] * 1000:.0f} ms"
    )
    print(f"orders by status: {statuses}; orders holding other than one key: {double}")
    if double or statuses.get("fulfilled", 0) + statuses.get("backordered", 0) != len(latencies):
        raise SystemExit(
            "FAILED: a key was sold twice, or a paid order has neither key nor backorder"
        )
    print("0 keys double-sold; every paid order holds a key or is backordered")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["import", "purchase"])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    print("$", shlex.join(["python", "bench/keys.py", *sys.argv[1:]]))
    if args.mode == "import":
        bench_import(args.keys)
    else:
        bench_purchase(args.seconds, args.threads, args.keys)


if __name__ == "__main__":
    main()
