"""UGC fixtures: the app on real SeaweedFS and real clamd (scripts/start-clamd.sh), with the
scan queue drained by a real RQ worker; payloads a hostile player would upload."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import zipfile

import pytest
from PIL import Image
from rq import SimpleWorker

from player_platform.app import create_app
from player_platform.platform import Platform, bind_current
from player_platform.ugc.clamav import ClamavError, Clamd
from storage.s3 import S3Storage
from tests.conftest import unavailable
from tests.storage.conftest import s3_bucket, s3_client, s3_endpoint  # noqa: F401 (fixtures)
from tests.support import bearer, register

CLAMAV_URL = os.environ.get("PP_TEST_CLAMAV_URL", "tcp://127.0.0.1:3310")
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture(scope="session")
def clamav_url() -> str:
    try:
        Clamd(CLAMAV_URL, timeout=5).ping()
    except ClamavError as error:
        unavailable("clamd", error)
    return CLAMAV_URL


@pytest.fixture
def ugc_platform(settings, db, s3_endpoint, s3_bucket, clamav_url) -> Platform:  # noqa: F811
    settings = dataclasses.replace(settings, clamav_url=clamav_url)
    p = Platform.from_settings(settings, db=db)
    p = dataclasses.replace(p, storage=S3Storage(s3_client(s3_endpoint), s3_bucket))
    bind_current(p)
    return p


@pytest.fixture
def ugc_client(ugc_platform):
    return create_app(platform=ugc_platform).test_client()


@pytest.fixture
def player(ugc_client) -> dict:
    tokens = register(ugc_client)
    return {"headers": bearer(tokens["access_token"]), "id": tokens["user"]["id"]}


def drain(platform: Platform, queue: str = "scan_content") -> None:
    SimpleWorker([platform.jobs.queue(queue)], connection=platform.jobs.redis).work(burst=True)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png(width: int = 8, height: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def zipped(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 100


def pixel_bomb() -> bytes:
    """A small PNG that declares 30000 x 30000 pixels (900 M): one colour, compresses to KBs."""
    out = io.BytesIO()
    Image.new("1", (30000, 30000)).save(out, format="PNG", optimize=True)
    return out.getvalue()
