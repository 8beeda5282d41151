"""UGC under GDPR and account merge: export, erasure, merge."""

from __future__ import annotations

import uuid

from rq import SimpleWorker
from sqlalchemy import select

from player_platform.audit.models import AuditLog
from player_platform.ugc.models import BlockedHash, UgcItem, UgcReport
from tests.support import bearer, register
from tests.ugc.factories import make_item


def player(client) -> dict:
    tokens = register(client)
    return {
        "headers": bearer(tokens["access_token"]),
        "id": uuid.UUID(tokens["user"]["id"]),
        "refresh_token": tokens["refresh_token"],
    }


def test_the_export_holds_the_players_items_reports_and_ratings(client, platform):
    ada, bob = player(client), player(client)
    with platform.db.unit_of_work() as session:
        mine = make_item(session, owner_id=ada["id"], name="Ada's map")
        theirs = make_item(session, owner_id=bob["id"])
    client.post(f"/v1/ugc/{theirs}/reports", json={"reason": "spam", "description": "ads"},
                headers=ada["headers"])  # fmt: skip
    client.post(f"/v1/ugc/{theirs}/ratings", json={"value": 4}, headers=ada["headers"])
    export = client.get("/v1/me/export", headers=ada["headers"])
    assert export.status_code == 200
    ugc = export.get_json()["ugc"]
    assert [(i["id"], i["name"]) for i in ugc["items"]] == [(str(mine), "Ada's map")]
    assert [(r["ugc_id"], r["description"]) for r in ugc["reports"]] == [(str(theirs), "ads")]
    assert [(r["ugc_id"], r["value"]) for r in ugc["ratings"]] == [(str(theirs), 4)]


def test_erasure_deletes_items_and_files_and_keeps_moderation_records(client, platform):
    ada, bob = player(client), player(client)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=ada["id"], storage=platform.storage)
        key, sha = session.get(UgcItem, item).object_key, session.get(UgcItem, item).sha256
        session.add(BlockedHash(sha256=sha, reason="removed", ugc_id=item))
        theirs = make_item(session, owner_id=bob["id"])
    client.post(f"/v1/ugc/{theirs}/reports", json={"reason": "spam", "description": "my words"},
                headers=ada["headers"])  # fmt: skip
    assert client.delete("/v1/me", headers=ada["headers"]).status_code == 202
    SimpleWorker([platform.jobs.queue("maintenance")], connection=platform.redis).work(burst=True)
    assert platform.storage.head(key) is None
    with platform.db.unit_of_work() as session:
        assert session.get(UgcItem, item) is None
        assert session.get(BlockedHash, sha) is not None  # the file stays refused
        report = session.scalar(select(UgcReport))
        assert (report.ugc_id, report.reason, report.description) == (theirs, "spam", "")
        assert session.scalar(select(AuditLog).where(AuditLog.action == "user.erase"))


def test_a_merge_moves_items_to_the_surviving_account(client, platform, steam):
    survivor = player(client)
    steam_id = "76561198000000777"
    signed_in = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(steam_id)})
    retired_id = uuid.UUID(signed_in.get_json()["user"]["id"])
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=retired_id, status="pending_review")
    proof = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(steam_id)}).get_json()
    merged = client.post(
        "/v1/me/merge", json={"proof": {"refresh_token": proof["refresh_token"]}},
        headers=survivor["headers"],
    )  # fmt: skip
    assert merged.status_code == 200, merged.get_json()
    mine = client.get(f"/v1/ugc/{item}", headers=survivor["headers"])
    assert (mine.status_code, mine.get_json()["creator_id"]) == (200, str(survivor["id"]))
