"""The real server, as `make run` starts it: granian with 2 worker processes, PostgreSQL and
Redis, and no PP_SECRET_KEY. Every worker and every restart must accept the same tokens."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.support import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
GRANIAN = str(Path(sys.executable).with_name("granian"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def granian(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """`make run`'s granian command, run from ``workdir`` (where var/ lives)."""
    port = _free_port()
    command = [
        GRANIAN,
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
        "--blocking-threads",
        "4",
        "wsgi:app",
    ]
    log = workdir / f"granian-{port}.log"
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=workdir, env=env, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        # Both workers up (granian logs each one), or half the requests would test nothing;
        # granian also ignores SIGTERM while a worker is still starting.
        for _ in range(600):
            if log.read_text().count("Started worker") == 2:
                break
            assert server.poll() is None, log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            raise AssertionError("granian did not stop on SIGTERM:\n" + log.read_text()) from None


def test_tokens_are_accepted_by_every_worker_and_after_a_restart(
    committing_db, database_url, redis_url, redis, tmp_path
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PP_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PP_DATABASE_URL=database_url,
        PP_REDIS_URL=redis_url,
        PP_STORAGE_URL=f"file://{tmp_path}/storage",
    )
    with granian(env, tmp_path) as url:
        registered = requests.post(
            f"{url}/v1/auth/register",
            json={"email": "ada@example.com", "password": PASSWORD, "display_name": "Ada"},
            timeout=10,
        )
        assert registered.status_code == 201, registered.text
        tokens = registered.json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        # A new connection each time, so both worker processes answer some of them.
        statuses = [
            requests.get(f"{url}/v1/me", headers=headers, timeout=10).status_code for _ in range(50)
        ]
        assert statuses == [200] * 50

    secret_file = tmp_path / "var" / "secret_key"
    assert secret_file.stat().st_mode & 0o777 == 0o600

    with granian(env, tmp_path) as url:
        me = requests.get(f"{url}/v1/me", headers=headers, timeout=10)
        assert me.status_code == 200, me.text
        assert me.json()["display_name"] == "Ada"
        refreshed = requests.post(
            f"{url}/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, timeout=10
        )
        assert refreshed.status_code == 200, refreshed.text
