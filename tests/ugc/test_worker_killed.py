"""A worker killed in the middle of a scan loses no item: the periodic re-drive hands the item to
a fresh worker, which takes it to its final status. Real worker processes, real SeaweedFS, real
clamd for the fresh worker; the first worker's clamd is a loopback stand-in that takes the
INSTREAM and never answers, so the kill lands mid-scan."""

from __future__ import annotations

import dataclasses
import socketserver
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from player_platform.app import create_app
from player_platform.db import utcnow
from player_platform.platform import Platform, bind_current
from player_platform.ugc.models import UgcItem
from player_platform.ugc.uploads import scan_job_id
from storage.s3 import S3Storage
from tests.storage.conftest import S3_ACCESS_KEY, S3_SECRET_KEY, s3_client
from tests.support import bearer, kill_worker, register, worker_process
from tests.ugc.conftest import png, sha256

SILENCE_SECONDS = 3  # PP_JOB_HEARTBEAT_SILENCE_SECONDS for both workers


class SilentClamd(socketserver.ThreadingTCPServer):
    """Reads whatever a client streams and never answers, like a clamd that has hung."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Swallow)
        self.streaming = threading.Event()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.server_address[1]}"


class _Swallow(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(300)
        try:
            while chunk := self.request.recv(65536):
                if b"INSTREAM" in chunk:
                    self.server.streaming.set()
        except OSError:
            return


@pytest.fixture
def silent_clamd() -> Iterator[SilentClamd]:
    server = SilentClamd()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def live_ugc(settings, committing_db, s3_endpoint, s3_bucket, clamav_url) -> Platform:
    settings = dataclasses.replace(
        settings,
        jobs_inline=False,
        clamav_url=clamav_url,
        storage_url=f"s3://{s3_bucket}",
        s3_endpoint_url=s3_endpoint,
        job_heartbeat_silence_seconds=SILENCE_SECONDS,
    )
    p = Platform.from_settings(settings, db=committing_db)
    p = dataclasses.replace(p, storage=S3Storage(s3_client(s3_endpoint), s3_bucket))
    bind_current(p)
    return p


def _worker(p: Platform, *args: str, clamav_url: str) -> subprocess.Popen:
    s = p.settings
    return worker_process(
        s,
        *args,
        PP_STORAGE_URL=s.storage_url,
        PP_S3_ENDPOINT_URL=s.s3_endpoint_url,
        AWS_ACCESS_KEY_ID=S3_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=S3_SECRET_KEY,
        PP_CLAMAV_URL=clamav_url,
        PP_JOB_HEARTBEAT_SILENCE_SECONDS=str(SILENCE_SECONDS),
    )


def _upload(p: Platform, data: bytes) -> uuid.UUID:
    client = create_app(platform=p).test_client()
    headers = bearer(register(client)["access_token"])
    body = {"type": "image", "name": "a map preview", "filename": "preview.png",
            "content_type": "image/png", "size": len(data), "sha256": sha256(data)}  # fmt: skip
    created = client.post("/v1/ugc", json=body, headers=headers).get_json()
    put = created["upload"]
    assert requests.put(put["url"], data=data, headers=put["headers"], timeout=10).ok
    ugc_id = created["ugc"]["id"]
    assert client.post(f"/v1/ugc/{ugc_id}/complete", headers=headers).status_code == 200
    return uuid.UUID(ugc_id)


def _item(p: Platform, ugc_id: uuid.UUID) -> UgcItem:
    with p.db.unit_of_work() as session:
        item = session.get(UgcItem, ugc_id, populate_existing=True)
        session.expunge(item)
        return item


def _wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def test_a_worker_killed_mid_scan_loses_no_item(live_ugc, silent_clamd, clamav_url):
    p = live_ugc
    ugc_id = _upload(p, png(64, 64))
    job_id = scan_job_id(ugc_id)

    first = _worker(p, "scan_content", clamav_url=silent_clamd.url)
    try:
        assert silent_clamd.streaming.wait(60), "the first worker never reached clamd"
        assert p.jobs.queue("scan_content").fetch_job(job_id).get_status() == "started"
    finally:
        kill_worker(first)

    assert (_item(p, ugc_id).status, _item(p, ugc_id).virus_status) == ("scanning", "pending")
    # The dead worker's heartbeat falls silent: the job no longer counts as running.
    _wait_for(lambda: not p.jobs.is_alive(job_id, now=utcnow()), seconds=60, what="silence")
    with p.db.unit_of_work() as session:  # the re-drive waits 10 minutes before it looks
        session.execute(
            update(UgcItem)
            .where(UgcItem.id == ugc_id)
            .values(updated_at=utcnow() - timedelta(minutes=11))
        )

    # What the scheduler sends every 5 minutes, taken by a fresh worker with a working clamd.
    p.jobs.enqueue("maintenance", "workers.ugc.redrive_scans", job_id="redrive-after-kill")
    fresh = _worker(p, "maintenance", "scan_content", "--burst", clamav_url=clamav_url)
    try:
        _, errors = fresh.communicate(timeout=120)
    finally:
        kill_worker(fresh)
    assert fresh.returncode == 0, errors

    redrive = p.jobs.queue("maintenance").fetch_job("redrive-after-kill")
    assert redrive.return_value() == 1
    item = _item(p, ugc_id)
    assert (item.status, item.virus_status) == ("published", "clean")
