"""Multipart uploads, the embedded default without ClamAV, and draft expiry."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from player_platform.app import create_app
from player_platform.db import utcnow
from player_platform.platform import Platform, bind_current
from player_platform.ugc import uploads
from player_platform.ugc.models import UgcItem
from player_platform.ugc.policy import MiB
from tests.support import bearer, register
from tests.ugc.conftest import drain, png, sha256, zipped
from tests.ugc.test_pipeline import declare, stored, upload


@pytest.fixture
def multipart(ugc_platform):
    """The platform and a client with a 1 MiB multipart threshold (parts stay 16 MiB)."""
    big = dataclasses.replace(ugc_platform.settings, ugc_multipart_threshold=MiB)
    p = dataclasses.replace(ugc_platform, settings=big)
    bind_current(p)
    return p, create_app(platform=p).test_client()


def _big_map() -> bytes:
    return zipped({"level.dat": bytes(range(256)) * (17 * 4096)}, compression=0)  # ~17 MiB


def _put_parts(parts: list[dict], data: bytes, numbers: set[int]) -> None:
    offset = 0
    for number, part in enumerate(parts, start=1):
        length = int(part["headers"]["Content-Length"])
        if number in numbers:
            sent = requests.put(part["url"], data=data[offset : offset + length], timeout=30)
            assert sent.status_code == 200, sent.text
        offset += length


def test_a_large_file_uploads_in_presigned_parts(multipart, player):
    p, client = multipart
    data = _big_map()
    created = declare(client, player, data, type="map").get_json()
    parts = created["upload"]["parts"]
    assert created["upload"]["url"] is None and len(parts) == 2
    _put_parts(parts, data, {1, 2})
    done = client.post(f"/v1/ugc/{created['ugc']['id']}/complete", headers=player["headers"])
    assert done.get_json()["status"] == "scanning"
    scan = p.jobs.queue("scan_content").fetch_job(f"scan-{created['ugc']['id']}")
    assert scan.timeout == 300 + 18  # the floor and 1 s per MiB begun (17.0x MiB)
    drain(p)
    assert stored(p, created["ugc"]["id"]).status == "pending_review"


def test_completing_a_multipart_upload_with_parts_missing_says_which(multipart, player):
    p, client = multipart
    data = _big_map()
    created = declare(client, player, data, type="map").get_json()
    complete = f"/v1/ugc/{created['ugc']['id']}/complete"
    parts = created["upload"]["parts"]

    nothing = client.post(complete, headers=player["headers"])
    assert (nothing.status_code, nothing.get_json()["code"]) == (409, "upload_missing")

    _put_parts(parts, data, {2})
    half = client.post(complete, headers=player["headers"])
    assert half.status_code == 409
    assert half.headers["Content-Type"] == "application/problem+json"
    assert (half.get_json()["code"], half.get_json()["missing_parts"]) == ("upload_incomplete", [1])

    _put_parts(parts, data, {1})  # the upload stayed open: send the part, complete again
    assert client.post(complete, headers=player["headers"]).get_json()["status"] == "scanning"
    drain(p)
    assert stored(p, created["ugc"]["id"]).sha256 == sha256(data)


def test_completing_a_multipart_upload_with_a_part_of_another_length_is_refused(multipart, player):
    """A part sent past the presigned URL (here with the storage's own client) is not joined."""
    p, client = multipart
    data = _big_map()
    created = declare(client, player, data, type="map").get_json()
    item = stored(p, created["ugc"]["id"])
    _put_parts(created["upload"]["parts"], data, {2})
    p.storage.client.upload_part(
        Bucket=p.storage.bucket, Key=item.object_key, UploadId=item.multipart_upload_id,
        PartNumber=1, Body=data[:1000],
    )  # fmt: skip
    refused = client.post(f"/v1/ugc/{item.id}/complete", headers=player["headers"])
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "upload_incomplete"
    assert refused.get_json()["wrong_parts"] == [1]
    assert stored(p, created["ugc"]["id"]).status == "draft"


def test_without_clamav_every_item_waits_for_review_marked_not_scanned(settings, db, tmp_path):
    p = Platform.from_settings(dataclasses.replace(settings, jobs_inline=True), db=db)
    bind_current(p)
    client = create_app(platform=p).test_client()
    player = {"headers": bearer(register(client)["access_token"])}
    data = png()
    created = declare(client, player, data).get_json()
    put = created["upload"]
    assert put["url"].startswith(settings.public_url)  # the app serves local-disk uploads
    path = put["url"].removeprefix(settings.public_url)
    refused = client.put(path, data=data[:-1] + b"x", headers=put["headers"])
    assert refused.get_json()["code"] == "bad_digest"
    assert client.put(path, data=data, headers=put["headers"]).status_code == 204
    done = client.post(f"/v1/ugc/{created['ugc']['id']}/complete", headers=player["headers"])
    assert done.status_code == 200  # the scan ran inline after the commit
    item = stored(p, created["ugc"]["id"])
    assert (item.status, item.virus_status, item.status_reason) == (
        "pending_review",
        "not_scanned",
        "not virus-scanned",
    )


def test_expired_drafts_are_deleted_with_their_objects(ugc_platform, ugc_client, player):
    data = png()
    kept = declare(ugc_client, player, data).get_json()["ugc"]["id"]
    gone = declare(ugc_client, player, data).get_json()
    requests.put(gone["upload"]["url"], data=data, headers=gone["upload"]["headers"], timeout=10)
    key = stored(ugc_platform, gone["ugc"]["id"]).object_key
    later = utcnow() + timedelta(hours=23)
    with ugc_platform.db.unit_of_work() as session:
        session.get(UgcItem, uuid.UUID(gone["ugc"]["id"])).expires_at = utcnow()
        expired = uploads.expire_drafts(session, storage=ugc_platform.storage, now=later)
    assert expired == 1
    assert ugc_platform.storage.head(key) is None
    with ugc_platform.db.unit_of_work() as session:
        assert session.scalars(select(UgcItem.id)).all() == [uuid.UUID(kept)]


def test_only_the_owner_completes_and_only_once(ugc_client, ugc_platform, player):
    ugc_id = upload(ugc_client, player, png())
    stranger = bearer(register(ugc_client)["access_token"])
    again = ugc_client.post(f"/v1/ugc/{ugc_id}/complete", headers=stranger)
    assert (again.status_code, again.get_json()["code"]) == (404, "ugc_not_found")
    twice = ugc_client.post(f"/v1/ugc/{ugc_id}/complete", headers=player["headers"])
    assert (twice.status_code, twice.get_json()["code"]) == (409, "invalid_transition")
    assert stored(ugc_platform, ugc_id).status == "scanning"
