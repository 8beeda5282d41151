"""UGC on this machine: scan throughput (MB/s) and listing reads/s over 100,000 items.

    .venv/bin/python bench/ugc.py scan --clamav tcp://127.0.0.1:3310 --mb 32 --runs 3
    .venv/bin/python bench/ugc.py listing --seconds 10 --redis redis://127.0.0.1:6379/15

scan: builds three payloads of about --mb megabytes each (a PNG of random pixels, a zip of
random members, a zip of text members), stores each on local-disk storage and runs
``scanning.examine`` on it: re-read with SHA-256, content checks (Pillow decode, zip walk) and
the INSTREAM to clamd. Prints MB/s per payload (best of --runs) and the load average. Needs
clamd (scripts/start-clamd.sh); no database (examine runs outside any transaction).

listing: creates a scratch PostgreSQL database (pp_bench_ugc), bulk-inserts 100,000 published
items (six types, random tags, downloads and ratings) with SQL, serves `wsgi:app` with granian
on loopback and drives GET /v1/ugc with bench/leaderboards.py's keep-alive HTTP/1.1 client:
first pages (served through the Redis hot lists, rows read back from PostgreSQL), a second page
(keyset query), a tag filter and a text search. One table is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import random
import shlex
import sys
import tempfile
import time
import urllib.request
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import redis
import sqlalchemy as sa
from PIL import Image
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from leaderboards import drive, fresh_database, get, running_server  # noqa: E402

from player_platform.config import Settings  # noqa: E402
from player_platform.db import Database, utcnow  # noqa: E402
from player_platform.identity.models import User  # noqa: E402
from player_platform.ugc import scanning  # noqa: E402
from player_platform.ugc.clamav import Clamd  # noqa: E402
from player_platform.ugc.items import rating_score  # noqa: E402
from player_platform.ugc.models import TYPES, UgcItem  # noqa: E402
from player_platform.ugc.policy import MiB, UgcPolicy  # noqa: E402
from storage.local import LocalStorage  # noqa: E402

DATABASE = "pp_bench_ugc"
ITEMS = 100_000
CREATORS = 2_000
TAGS = [f"tag{n}" for n in range(50)]


def payloads(mb: int) -> dict[str, tuple[str, str, bytes]]:
    rng = random.Random(7)
    side = int((mb * MiB / 3) ** 0.5)
    image = io.BytesIO()
    Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3)).save(image, "PNG")
    binary, text = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(binary, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(mb):
            archive.writestr(f"assets/blob{n}.bin", rng.randbytes(MiB))
    words = [rng.randbytes(6).hex() for _ in range(5000)]
    with zipfile.ZipFile(text, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(mb):
            body = " ".join(rng.choice(words) for _ in range(MiB // 13)).encode()
            archive.writestr(f"scripts/part{n}.lua", body)
    return {
        "png (random pixels)": ("image", "image/png", image.getvalue()),
        "zip of binary members": ("mod", "application/zip", binary.getvalue()),
        "zip of text members": ("mod", "application/zip", text.getvalue()),
    }


def scan(args: argparse.Namespace) -> None:
    print("$", shlex.join([sys.executable, *sys.argv]))
    policy = UgcPolicy.from_settings(Settings())
    clamd = Clamd(args.clamav)
    with tempfile.TemporaryDirectory() as root:
        storage = LocalStorage(root, secret="bench", public_base_url="http://bench")
        print(f"{'payload':<24} {'MB':>7} {'best s':>7} {'MB/s':>7}  virus_status")
        for name, (item_type, content_type, data) in payloads(args.mb).items():
            ugc_id = uuid.uuid4()
            key = f"ugc/{item_type}/{ugc_id}/file"
            storage.put(key, data, content_type=content_type)
            ticket = scanning.Ticket(ugc_id, item_type, content_type, key,
                                     hashlib.sha256(data).hexdigest(), blocked=False)  # fmt: skip
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                report = scanning.examine(
                    ticket, storage=storage, clamd=clamd, policy=policy, now=utcnow()
                )
                times.append(time.perf_counter() - started)
            mb = len(data) / 1e6
            best = min(times)
            print(f"{name:<24} {mb:>7.1f} {best:>7.2f} {mb / best:>7.1f}  {report.virus_status}")
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


def seed(url: str) -> None:
    db = Database.from_url(url)
    now = utcnow()
    creators = [{"id": uuid.uuid4(), "display_name": f"creator{i}"} for i in range(CREATORS)]
    rows = []
    for i in range(ITEMS):
        count = random.randrange(50)
        total = sum(random.randint(1, 5) for _ in range(count))
        item_id = uuid.uuid4()
        at = now - timedelta(seconds=i * 7)
        rows.append({
            "id": item_id, "creator_id": random.choice(creators)["id"], "type": TYPES[i % 6],
            "name": f"Item {i} {random.choice(['castle', 'forest', 'arena', 'tower'])}",
            "description": "A thing players made", "tags": random.sample(TAGS, 3),
            "visibility": "public", "status": "published", "virus_status": "clean",
            "findings": [], "filename": "file.zip", "content_type": "application/zip",
            "size": 1000, "sha256": "0" * 64, "object_key": f"ugc/map/{item_id}/file.zip",
            "published_at": at, "created_at": at, "updated_at": at,
            "download_count": random.randrange(10_000), "rating_sum": total,
            "rating_count": count, "rating_score": rating_score(total, count) if count else 0,
            "report_count": 0,
        })  # fmt: skip
    with db.unit_of_work() as session:
        session.execute(insert(User), creators)
        for start in range(0, ITEMS, 10_000):
            session.execute(insert(UgcItem), rows[start : start + 10_000])
    with db.bind.begin() as conn:
        conn.execute(sa.text("ANALYZE ugc"))
    db.dispose()


def listing(args: argparse.Namespace) -> None:
    url = fresh_database(DATABASE)
    started = time.perf_counter()
    seed(url)
    print(f"seeded {ITEMS:,} published items in {time.perf_counter() - started:.1f} s")
    redis.Redis.from_url(args.redis).flushdb()

    with running_server(args, "granian", database_url=url, redis_url=args.redis):
        second = urllib.request.urlopen(f"http://127.0.0.1:{args.port}/v1/ugc?limit=20").read()
        cursor = json.loads(second)["next_cursor"]
        scenarios = {
            "recent, page 1 (hot list)": lambda: get("/v1/ugc?limit=20"),
            "top, page 1 (hot list)": lambda: get("/v1/ugc?sort=top&limit=20"),
            "downloads, type (hot list)": lambda: get(
                f"/v1/ugc?sort=downloads&type={random.choice(TYPES)}&limit=20"
            ),
            "recent, page 2 (keyset)": lambda: get(f"/v1/ugc?limit=20&cursor={cursor}"),
            "tag filter": lambda: get(f"/v1/ugc?tag={random.choice(TAGS)}&limit=20"),
            "text search q=": lambda: get("/v1/ugc?q=tower&limit=20"),
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
        f"connections, {args.seconds:g} s per scenario, {ITEMS:,} published items, 20 per page"
    )
    print(f"| {'scenario':<28} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | errors |")
    print(f"|{'-' * 30}|{'-' * 10}|{'-' * 9}|{'-' * 9}|--------|")
    for name, rate, p50, p99, errors in rows:
        print(f"| {name:<28} | {rate:8.0f} | {p50:7.2f} | {p99:7.2f} | {errors:6d} |")
    print("\ncommand: " + shlex.join([Path(sys.executable).name, *sys.argv]))


def main() -> None:
    parser = argparse.ArgumentParser()
    modes = parser.add_subparsers(dest="mode", required=True)
    scan_args = modes.add_parser("scan", help="scan throughput through clamd")
    scan_args.add_argument("--clamav", default="tcp://127.0.0.1:3310")
    scan_args.add_argument("--mb", type=int, default=32)
    scan_args.add_argument("--runs", type=int, default=3)
    listing_args = modes.add_parser("listing", help="GET /v1/ugc reads/s over 100,000 items")
    listing_args.add_argument("--workers", type=int, default=2)
    listing_args.add_argument("--threads", type=int, default=4)
    listing_args.add_argument("--seconds", type=float, default=10)
    listing_args.add_argument("--connections", type=int, default=32)
    listing_args.add_argument("--port", type=int, default=8766)
    listing_args.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    listing_args.add_argument("--server-log", default="/tmp/pp_bench_ugc_server.log")
    args = parser.parse_args()
    {"scan": scan, "listing": listing}[args.mode](args)


if __name__ == "__main__":
    main()
