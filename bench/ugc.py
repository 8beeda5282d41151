"""UGC scan throughput (MB/s) through the real scan step with clamd on this machine.

    .venv/bin/python bench/ugc.py --clamav tcp://127.0.0.1:3310 --mb 32 --runs 3

Builds three payloads of about --mb megabytes each (a PNG of random pixels, a zip of random
members, a zip of text members), stores each on local-disk storage and runs
``scanning.examine`` on it: re-read with SHA-256, content checks (Pillow decode, zip walk) and
the INSTREAM to clamd. Prints MB/s per payload (best of --runs) and the load average. Needs
clamd (scripts/start-clamd.sh); no database (examine runs outside any transaction).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import shlex
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from player_platform.config import Settings
from player_platform.db import utcnow
from player_platform.ugc import scanning
from player_platform.ugc.clamav import Clamd
from player_platform.ugc.policy import MiB, UgcPolicy
from storage.local import LocalStorage


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clamav", default="tcp://127.0.0.1:3310")
    parser.add_argument("--mb", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
