"""Multipart uploads, the embedded default without ClamAV, and draft expiry."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import requests
from sqlalchemy import select

from player_platform.app import create_app
from player_platform.db import utcnow
from player_platform.platform import Platform, bind_current
from player_platform.ugc import uploads
from player_platform.ugc.models import UgcItem
from player_platform.ugc.policy import MiB
from tests.support import bearer, register
from tests.ugc.conftest import drain, png, zipped
from tests.ugc.test_pipeline import declare, stored, upload


def test_a_large_file_uploads_in_presigned_parts(ugc_platform, player):
    big = dataclasses.replace(ugc_platform.settings, ugc_multipart_threshold=MiB)
    p = dataclasses.replace(ugc_platform, settings=big)
    bind_current(p)
    client = create_app(platform=p).test_client()
    data = zipped({"level.dat": bytes(range(256)) * (17 * 4096)}, compression=0)  # ~17 MiB
    created = declare(client, player, data, type="map").get_json()
    parts = created["upload"]["parts"]
    assert created["upload"]["url"] is None and len(parts) == 2
    offset = 0
    for part in parts:
        length = int(part["headers"]["Content-Length"])
        sent = requests.put(part["url"], data=data[offset : offset + length], timeout=30)
        assert sent.status_code == 200, sent.text
        offset += length
    done = client.post(f"/v1/ugc/{created['ugc']['id']}/complete", headers=player["headers"])
    assert done.get_json()["status"] == "scanning"
    drain(p)
    assert stored(p, created["ugc"]["id"]).status == "pending_review"


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
