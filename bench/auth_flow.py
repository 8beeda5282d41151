"""Throughput and latency of the session endpoints against a running server.

    python bench/auth_flow.py --url http://127.0.0.1:8000 --seconds 10 --concurrency 16

Registers a few players, then for each scenario runs ``concurrency`` client threads for
``seconds`` and prints requests/s, p50 and p99. Start the server first (see docs/PERFORMANCE.md
for the command used for the recorded figures). The client shares the machine with the server,
so figures are a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable

import requests

PASSWORD = "benchmark password 1"


def register(base: str) -> dict:
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    response = requests.post(
        f"{base}/v1/auth/register",
        timeout=10,
        json={"email": email, "password": PASSWORD, "display_name": "B"},
    )
    response.raise_for_status()
    return {**response.json(), "email": email}


def run(
    name: str,
    seconds: float,
    concurrency: int,
    make_call: Callable[[requests.Session, int], Callable[[], int]],
) -> None:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(index: int) -> None:
        nonlocal errors
        session = requests.Session()
        call = make_call(session, index)
        local, failed = [], 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status = call()
            local.append(time.perf_counter() - started)
            failed += status >= 400
        with lock:
            latencies.extend(local)
            errors += failed

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{name:<22} {len(latencies) / elapsed:8.1f} req/s   p50 {cuts[49] * 1000:7.2f} ms"
        f"   p99 {cuts[98] * 1000:7.2f} ms   errors {errors}   n={len(latencies)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]))
    base = args.url.rstrip("/")
    players = [register(base) for _ in range(args.concurrency)]

    def me(session: requests.Session, i: int) -> Callable[[], int]:
        headers = {"Authorization": f"Bearer {players[i]['access_token']}"}
        return lambda: session.get(f"{base}/v1/me", headers=headers, timeout=10).status_code

    def login(session: requests.Session, i: int) -> Callable[[], int]:
        body = {"email": players[i]["email"], "password": PASSWORD}
        return lambda: session.post(f"{base}/v1/auth/login", json=body, timeout=10).status_code

    def refresh(session: requests.Session, i: int) -> Callable[[], int]:
        state = {"token": players[i]["refresh_token"]}

        def call() -> int:
            response = session.post(
                f"{base}/v1/auth/refresh", timeout=10, json={"refresh_token": state["token"]}
            )
            if response.ok:
                state["token"] = response.json()["refresh_token"]
            return response.status_code

        return call

    def health(session: requests.Session, i: int) -> Callable[[], int]:
        return lambda: session.get(f"{base}/healthz", timeout=10).status_code

    for name, scenario in [
        ("GET /healthz", health),
        ("GET /v1/me", me),
        ("POST /v1/auth/refresh", refresh),
        ("POST /v1/auth/login", login),
    ]:
        run(name, args.seconds, args.concurrency, scenario)


if __name__ == "__main__":
    main()
