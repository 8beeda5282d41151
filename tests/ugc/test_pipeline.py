"""create -> PUT (presigned, as a client would, with requests) -> complete -> scanned, against
real SeaweedFS and real clamd; hostile files end removed with their finding."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from player_platform.db import utcnow
from player_platform.platform import bind_current
from player_platform.ugc.clamav import Clamd
from player_platform.ugc.listing import HotLists
from player_platform.ugc.models import UgcItem
from tests.support import bearer, signed_up, staff_tokens
from tests.ugc.conftest import EICAR, drain, elf, pixel_bomb, png, sha256, zipped

TYPES = {"image": "image/png", "mod": "application/zip", "map": "application/zip"}


def declare(client, player, data: bytes, *, type="image", content_type=None, filename=None):
    body = {
        "type": type,
        "name": f"My {type}",
        "description": "made by me",
        "tags": ["fun"],
        "filename": filename or f"upload.{'png' if type == 'image' else 'zip'}",
        "content_type": content_type or TYPES.get(type, "text/plain"),
        "size": len(data),
        "sha256": sha256(data),
    }
    return client.post("/v1/ugc", json=body, headers=player["headers"])


def upload(client, player, data: bytes, **declared) -> str:
    response = declare(client, player, data, **declared)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["ugc"]["status"] == "draft"
    put = created["upload"]
    sent = requests.put(put["url"], data=data, headers=put["headers"], timeout=10)
    assert sent.status_code == 200, sent.text
    done = client.post(f"/v1/ugc/{created['ugc']['id']}/complete", headers=player["headers"])
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "scanning"
    return created["ugc"]["id"]


def stored(platform, ugc_id: str) -> UgcItem:
    with platform.db.unit_of_work() as session:
        item = session.get(UgcItem, uuid.UUID(ugc_id), populate_existing=True)
        session.expunge(item)
        return item


def test_a_clean_image_is_scanned_and_published(ugc_client, ugc_platform, player):
    ugc_id = upload(ugc_client, player, png())
    drain(ugc_platform)
    item = stored(ugc_platform, ugc_id)
    assert (item.status, item.virus_status, item.findings) == ("published", "clean", [])
    assert item.object_key == f"ugc/image/{ugc_id}/upload.png"
    assert ugc_platform.storage.head(item.object_key).size == item.size
    reports = ugc_platform.storage.client.list_objects_v2(
        Bucket=ugc_platform.storage.bucket, Prefix=f"scans/{ugc_id}/clamav/"
    )
    assert reports["KeyCount"] == 1


def test_an_item_the_scanner_publishes_is_listed_at_once(ugc_client, ugc_platform, player, redis):
    """The hot lists live 60 s: the scan's commit drops them rather than wait for that."""
    assert ugc_client.get("/v1/ugc").get_json()["items"] == []  # builds the (empty) hot lists
    assert ugc_client.get("/v1/ugc?type=image").get_json()["items"] == []
    assert redis.exists(HotLists.key(None, "recent"), HotLists.key("image", "recent")) == 2
    ugc_id = upload(ugc_client, player, png())
    drain(ugc_platform)
    assert stored(ugc_platform, ugc_id).status == "published"
    for path in ("/v1/ugc", "/v1/ugc?type=image"):
        assert [i["id"] for i in ugc_client.get(path).get_json()["items"]] == [ugc_id]


def test_a_clean_mod_waits_for_review(ugc_client, ugc_platform, player):
    data = zipped({"mod.json": b'{"name": "x"}', "textures/a.png": png(), "readme.txt": b"hi"})
    ugc_id = upload(ugc_client, player, data, type="mod")
    drain(ugc_platform)
    item = stored(ugc_platform, ugc_id)
    assert (item.status, item.virus_status) == ("pending_review", "clean")


HOSTILE = {
    "eicar_plain": (EICAR, "text", "text/plain", "clamav", "infected"),
    "eicar_in_zip": (zipped({"docs/readme.txt": EICAR}), "mod", None, "clamav", "infected"),
    "eicar_zip_in_zip": (
        zipped({"inner.zip": zipped({"deep/e.txt": EICAR})}),
        "map",
        None,
        "clamav",
        "infected",
    ),
    "png_that_is_elf": (elf(), "image", None, "type", "type_mismatch"),
    "zip_bomb": (
        zipped({"zeros.bin": b"\0" * (64 * 1024 * 1024)}),
        "mod",
        None,
        "archive",
        "compression_ratio",
    ),
    "path_traversal": (
        zipped({"../../etc/cron.d/x": b"* * * * * id"}),
        "mod",
        None,
        "archive",
        "path_traversal",
    ),
    "pixel_bomb": (pixel_bomb(), "image", None, "image", "too_many_pixels"),
    "elf_inside_mod": (zipped({"bin/tool": elf()}), "mod", None, "archive", "executable_member"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_file_is_removed_with_its_finding(ugc_client, ugc_platform, player, case):
    data, type, content_type, scanner, code = HOSTILE[case]
    ugc_id = upload(ugc_client, player, data, type=type, content_type=content_type)
    drain(ugc_platform)
    item = stored(ugc_platform, ugc_id)
    assert (item.status, item.virus_status) == (
        "removed",
        "refused" if scanner != "clamav" else "infected",
    )
    assert {(f["scanner"], f["code"]) for f in item.findings} >= {(scanner, code)}
    assert item.status_reason.startswith(f"{scanner}: {code}")
    assert ugc_platform.storage.head(item.object_key) is None  # never served
    notices = ugc_platform.jobs.queue("notification_send").jobs
    assert [(j.args[0], j.args[1], j.args[2]["ugc_id"], j.args[2]["reason"]) for j in notices] == [
        (player["id"], "ugc.removed", ugc_id, item.status_reason)
    ]
    # The same file again is refused at declaration.
    again = declare(ugc_client, player, data, type=type, content_type=content_type)
    assert (again.status_code, again.get_json()["code"]) == (403, "blocked_file")


def test_a_body_other_than_declared_is_refused_by_the_store_and_at_complete(
    ugc_client, ugc_platform, player
):
    data = png()
    created = declare(ugc_client, player, data).get_json()
    put = created["upload"]
    longer = requests.put(put["url"], data=data + b"x", headers=put["headers"], timeout=10)
    assert longer.status_code == 403  # Content-Length is signed
    other = requests.put(put["url"], data=b"x" * len(data), headers=put["headers"], timeout=10)
    assert other.status_code == 400  # x-amz-checksum-sha256 is signed and checked
    missing = ugc_client.post(f"/v1/ugc/{created['ugc']['id']}/complete", headers=player["headers"])
    assert (missing.status_code, missing.get_json()["code"]) == (409, "upload_missing")
    # A store that let another length through (or a racing writer) is caught by the HEAD.
    item = stored(ugc_platform, created["ugc"]["id"])
    ugc_platform.storage.put(item.object_key, data[:-1], content_type="image/png")
    short = ugc_client.post(f"/v1/ugc/{created['ugc']['id']}/complete", headers=player["headers"])
    assert (short.status_code, short.get_json()["code"]) == (409, "size_mismatch")
    assert stored(ugc_platform, created["ugc"]["id"]).status == "draft"


def test_declarations_over_the_type_limit_or_the_quota_are_refused(
    ugc_client, ugc_platform, player
):
    limit = ugc_platform.ugc_policy.max_bytes["image"]
    big = declare(ugc_client, player, b"", type="image").get_json()  # size 0 is invalid
    assert big["code"] == "validation_error"
    body = {"type": "image", "name": "x", "filename": "x.png", "content_type": "image/png",
            "size": limit + 1, "sha256": "a" * 64}  # fmt: skip
    over = ugc_client.post("/v1/ugc", json=body, headers=player["headers"])
    assert (over.status_code, over.get_json()["code"]) == (422, "file_too_large")
    wrong = ugc_client.post("/v1/ugc", json={**body, "size": 10, "content_type": "text/html"},
                            headers=player["headers"])  # fmt: skip
    assert (wrong.status_code, wrong.get_json()["code"]) == (422, "unsupported_content_type")
    quota = ugc_platform.ugc_policy.quota_bytes
    for _ in range(quota // limit):
        ok = ugc_client.post("/v1/ugc", json={**body, "size": limit}, headers=player["headers"])
        assert ok.status_code == 201
    full = ugc_client.post("/v1/ugc", json={**body, "size": limit}, headers=player["headers"])
    assert (full.status_code, full.get_json()["code"]) == (403, "quota_exceeded")


def test_a_scan_lost_with_redis_is_redriven(ugc_client, ugc_platform, player, redis):
    ugc_id = upload(ugc_client, player, png())
    redis.flushdb()  # the queued scan is gone, as if Redis restarted empty
    with ugc_platform.db.unit_of_work() as session:
        session.execute(
            update(UgcItem)
            .where(UgcItem.id == uuid.UUID(ugc_id))
            .values(updated_at=utcnow() - timedelta(minutes=20))
        )
    ugc_platform.jobs.enqueue("maintenance", "workers.ugc.redrive_scans", job_id="redrive")
    drain(ugc_platform, "maintenance")
    assert ugc_platform.jobs.queue("maintenance").fetch_job("redrive").return_value() == 1
    drain(ugc_platform)
    assert stored(ugc_platform, ugc_id).status == "published"


def test_a_scanner_that_is_down_leaves_the_item_scanning(ugc_client, ugc_platform, player):
    ugc_id = upload(ugc_client, player, png())
    down = dataclasses.replace(ugc_platform)  # the same platform, its scanner unreachable
    down.__dict__["clamd"] = Clamd("tcp://127.0.0.1:9", timeout=2)  # nothing listens there
    bind_current(down)
    drain(ugc_platform)
    item = stored(ugc_platform, ugc_id)
    assert (item.status, item.virus_status) == ("scanning", "pending")
    job = ugc_platform.jobs.queue("scan_content").fetch_job(f"scan-{ugc_id}")
    assert job.get_status() == "scheduled"  # retried with backoff


CLEAN = {
    "image": png,
    "mod": lambda: zipped({"mod.json": b'{"name": "x"}', "textures/a.png": png()}),
}


@pytest.mark.parametrize("type", sorted(CLEAN))
def test_a_clean_file_goes_the_whole_way_to_a_download(ugc_client, ugc_platform, player, type):
    """create -> PUT -> complete -> scanned -> approved (when the type waits for review) ->
    listed -> downloaded, the bytes a second player gets being the bytes the first uploaded."""
    data = CLEAN[type]()
    ugc_id = upload(ugc_client, player, data, type=type)
    drain(ugc_platform)
    if stored(ugc_platform, ugc_id).status == "pending_review":
        moderator = bearer(staff_tokens(ugc_platform, role="moderator")["access_token"])
        decided = ugc_client.post(
            f"/v1/moderation/ugc/{ugc_id}/decision",
            json={"action": "approve", "notes": "looks fine"},
            headers=moderator,
        )
        assert decided.status_code == 200, decided.get_json()
    assert stored(ugc_platform, ugc_id).status == "published"

    listed = ugc_client.get(f"/v1/ugc?type={type}").get_json()["items"]
    assert [item["id"] for item in listed] == [ugc_id]
    other = bearer(signed_up(ugc_platform)["access_token"])
    answer = ugc_client.get(f"/v1/ugc/{ugc_id}/download", headers=other)
    assert answer.status_code == 200, answer.get_json()
    fetched = requests.get(answer.get_json()["url"], timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert ugc_client.get(f"/v1/ugc/{ugc_id}").get_json()["download_count"] == 1
