"""Feedback: players report with attachments uploaded to the real SeaweedFS through presigned
URLs; moderators triage (filters, cursors, audit) and download attachments by short-lived URL."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
import requests
from sqlalchemy import select

from player_platform.app import create_app
from player_platform.audit.models import AuditLog
from player_platform.platform import Platform, bind_current
from storage.s3 import S3Storage
from tests.storage.conftest import s3_bucket, s3_client, s3_endpoint  # noqa: F401 (fixtures)
from tests.support import bearer, signed_up, staff_tokens
from tests.ugc.conftest import png

LOG = b"12:00:01 scene=forest error=NullReference at Player.Update\n"


@pytest.fixture
def s3_platform(settings, db, s3_endpoint, s3_bucket) -> Platform:  # noqa: F811
    p = Platform.from_settings(settings, db=db)
    p = dataclasses.replace(p, storage=S3Storage(s3_client(s3_endpoint), s3_bucket))
    bind_current(p)
    return p


@pytest.fixture
def client(s3_platform):
    return create_app(platform=s3_platform).test_client()


@pytest.fixture
def moderator(s3_platform) -> dict:
    tokens = staff_tokens(s3_platform)
    return {"headers": bearer(tokens["access_token"]), "id": tokens["user"]["id"]}


def declared(data: bytes, *, filename="shot.png", content_type="image/png") -> dict:
    return {
        "filename": filename,
        "content_type": content_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def report(client, headers, *, category="bug", attachments=(), **extra):
    body = {"category": category, "message": "The door does not open.", **extra}
    return client.post(
        "/v1/feedback", json={**body, "attachments": list(attachments)}, headers=headers
    )


def test_a_screenshot_uploaded_through_its_url_reaches_the_moderator(
    s3_platform, client, moderator
):
    player = bearer(signed_up(s3_platform)["access_token"])
    shot = png()
    created = report(
        client,
        player,
        attachments=[
            declared(shot),
            declared(LOG, filename="../game.log", content_type="text/plain"),
        ],
        context={"version": "1.4.2", "scene": "forest"},
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["feedback"]["status"] == "new"
    uploads = {upload["attachment"]["filename"]: upload for upload in body["uploads"]}
    assert set(uploads) == {"shot.png", "game.log"}  # "../game.log" made safe
    shot_upload = uploads["shot.png"]
    tampered = requests.put(
        shot_upload["upload"]["url"], data=shot[:-1] + b"\0",
        headers=shot_upload["upload"]["headers"], timeout=10,
    )  # fmt: skip
    assert tampered.status_code >= 400  # the store checks the signed digest
    sent = requests.put(
        shot_upload["upload"]["url"], data=shot, headers=shot_upload["upload"]["headers"],
        timeout=10,
    )  # fmt: skip
    assert sent.status_code == 200, sent.text

    listed = client.get("/v1/admin/feedback?status=new", headers=moderator["headers"]).get_json()
    assert [item["id"] for item in listed["items"]] == [body["feedback"]["id"]]
    assert listed["items"][0]["context"] == {"version": "1.4.2", "scene": "forest"}
    detail = client.get(
        f"/v1/admin/feedback/{body['feedback']['id']}", headers=moderator["headers"]
    ).get_json()
    by_name = {attachment["filename"]: attachment for attachment in detail["attachments"]}
    uploaded, missing = by_name["shot.png"], by_name["game.log"]
    assert (uploaded["uploaded"], missing["uploaded"], missing["download_url"]) == (
        True,
        False,
        None,
    )
    download = requests.get(uploaded["download_url"], timeout=10)
    assert download.status_code == 200 and download.content == shot
    assert "X-Amz-Expires=300" in uploaded["download_url"]


@pytest.mark.parametrize(
    ("attachment", "code"),
    [
        (declared(b"GIF89a", filename="a.gif", content_type="image/gif"), "validation_error"),
        ({**declared(b"x"), "size": 10 * 1024**2 + 1}, "file_too_large"),
    ],
)
def test_attachments_of_another_type_or_too_large_are_refused(
    s3_platform, client, attachment, code
):
    player = bearer(signed_up(s3_platform)["access_token"])
    refused = report(client, player, attachments=[attachment])
    assert (refused.status_code, refused.get_json()["code"]) == (422, code)


def test_more_attachments_than_allowed_are_refused(s3_platform, client):
    player = bearer(signed_up(s3_platform)["access_token"])
    refused = report(client, player, attachments=[declared(png())] * 4)
    assert (refused.status_code, refused.get_json()["code"]) == (422, "too_many_attachments")


def test_a_player_reports_a_limited_number_of_times_an_hour(s3_platform, client):
    limited = dataclasses.replace(
        s3_platform, settings=dataclasses.replace(s3_platform.settings, rate_limit_feedback_user=2)
    )
    bind_current(limited)
    app = create_app(platform=limited).test_client()
    player = bearer(signed_up(limited)["access_token"])
    assert [report(app, player).status_code for _ in range(3)] == [201, 201, 429]
    assert report(app, bearer(signed_up(limited)["access_token"])).status_code == 201


def test_players_and_staff_without_a_totp_sign_in_cannot_triage(s3_platform, client):
    player = bearer(signed_up(s3_platform)["access_token"])
    answer = client.get("/v1/admin/feedback", headers=player)
    assert (answer.status_code, answer.get_json()["code"]) == (403, "forbidden")


def test_moderators_triage_with_filters_cursors_and_an_audit_trail(s3_platform, client, moderator):
    player = bearer(signed_up(s3_platform)["access_token"])
    ids = [
        report(client, player, category=category).get_json()["feedback"]["id"]
        for category in ("bug", "abuse", "suggestion")
    ]
    changed = client.patch(
        f"/v1/admin/feedback/{ids[1]}",
        json={"status": "triaged", "assignee_id": moderator["id"], "notes": "Looking into it"},
        headers=moderator["headers"],
    )
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["status"], changed.get_json()["assignee_id"]) == (
        "triaged",
        moderator["id"],
    )

    def listed(query: str) -> list[str]:
        answer = client.get(f"/v1/admin/feedback?{query}", headers=moderator["headers"])
        assert answer.status_code == 200, answer.get_json()
        return [item["id"] for item in answer.get_json()["items"]]

    assert listed("status=triaged") == [ids[1]]
    assert listed(f"assignee_id={moderator['id']}") == [ids[1]]
    assert listed("category=suggestion") == [ids[2]]
    assert listed("status=new") == [ids[2], ids[0]]
    walked, cursor = [], ""
    while True:
        page = client.get(
            f"/v1/admin/feedback?limit=1{cursor}", headers=moderator["headers"]
        ).get_json()
        walked += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert walked == ids[::-1]
    with s3_platform.db.unit_of_work() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "feedback.triage")).one()
        assert entry.old_values == {"status": "new", "assignee_id": None, "notes": None}
        assert entry.new_values["assignee_id"] == moderator["id"]
        assert str(entry.actor_id) == moderator["id"]


def test_only_staff_can_be_assigned_and_unknown_reports_are_not_found(
    s3_platform, client, moderator
):
    player = signed_up(s3_platform)
    feedback_id = report(client, bearer(player["access_token"])).get_json()["feedback"]["id"]
    refused = client.patch(
        f"/v1/admin/feedback/{feedback_id}",
        json={"assignee_id": player["user"]["id"]},
        headers=moderator["headers"],
    )
    assert (refused.status_code, refused.get_json()["code"]) == (422, "invalid_assignee")
    missing = client.get(
        "/v1/admin/feedback/00000000-0000-4000-8000-000000000000", headers=moderator["headers"]
    )
    assert (missing.status_code, missing.get_json()["code"]) == (404, "feedback_not_found")
