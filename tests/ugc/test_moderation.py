"""Moderators: the queue, claims, decisions with their effects, reports, appeals, two-person
removal; players' reports and appeals."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import pytest
from rq import Queue
from sqlalchemy import select

from player_platform.app import create_app
from player_platform.audit.models import AuditLog
from player_platform.db import utcnow
from player_platform.platform import Platform, bind_current
from player_platform.ugc.models import BlockedHash, UgcItem, UgcReport
from tests.support import bearer, register, staff_tokens
from tests.ugc.factories import make_item, make_user


def player(client) -> dict:
    tokens = register(client)
    return {"headers": bearer(tokens["access_token"]), "id": uuid.UUID(tokens["user"]["id"])}


def moderator(client, platform) -> dict:
    tokens = staff_tokens(platform, role="moderator")
    return {"headers": bearer(tokens["access_token"]), "id": uuid.UUID(tokens["user"]["id"])}


@pytest.fixture
def mod(client, platform) -> dict:
    return moderator(client, platform)


def decide(client, who, item, action, **extra):
    return client.post(
        f"/v1/moderation/ugc/{item}/decision", json={"action": action, **extra},
        headers=who["headers"],
    )  # fmt: skip


def notices(platform) -> list[tuple]:
    jobs = Queue("notification_send", connection=platform.redis).get_jobs()
    # (user id, kind, data, key) of each inbox notice
    return [(job.args[1].removeprefix("ugc."), job.args[2]["reason"]) for job in jobs]


def status_of(platform, item) -> str:
    with platform.db.unit_of_work() as session:
        return session.get(UgcItem, item).status


def test_players_and_moderators_without_mfa_are_refused(client, platform):
    someone = player(client)
    refused = client.get("/v1/moderation/queue", headers=someone["headers"])
    assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden")
    assert client.get("/v1/moderation/queue").status_code == 401


def test_the_queue_lists_waiting_items_reports_and_appeals_oldest_first(client, platform, mod):
    owner, reporter = player(client), player(client)
    with platform.db.unit_of_work() as session:
        pending = make_item(session, owner_id=owner["id"], status="pending_review",
                            age_minutes=30, type="map")  # fmt: skip
        flagged = make_item(session, owner_id=owner["id"], status="flagged", age_minutes=20)
        make_item(session, owner_id=owner["id"], status="published", age_minutes=40)
        reported = make_item(session, owner_id=owner["id"], name="reported")
        removed = make_item(session, owner_id=owner["id"], status="removed")
    report = client.post(f"/v1/ugc/{reported}/reports", json={"reason": "spam"},
                         headers=reporter["headers"])  # fmt: skip
    assert report.status_code == 201, report.get_json()
    appeal = client.post(f"/v1/ugc/{removed}/appeals", json={"message": "It is mine"},
                         headers=owner["headers"])  # fmt: skip
    assert appeal.status_code == 201, appeal.get_json()
    body = client.get("/v1/moderation/queue", headers=mod["headers"]).get_json()
    assert [(e["kind"], e["id"]) for e in body["items"]] == [
        ("ugc", str(pending)),
        ("ugc", str(flagged)),
        ("report", report.get_json()["id"]),
        ("appeal", appeal.get_json()["id"]),
    ]
    assert body["items"][2]["ugc"]["report_count"] == 1
    assert body["items"][3]["text"] == "It is mine"
    only = lambda query: [  # noqa: E731
        e["id"]
        for e in client.get(f"/v1/moderation/queue?{query}", headers=mod["headers"]).get_json()[
            "items"
        ]
    ]
    assert only("type=map") == [str(pending)]
    assert only("reason=spam") == [report.get_json()["id"]]
    assert only("kind=appeal") == [appeal.get_json()["id"]]
    first = client.get("/v1/moderation/queue?limit=3", headers=mod["headers"]).get_json()
    rest = client.get(
        f"/v1/moderation/queue?limit=3&cursor={first['next_cursor']}", headers=mod["headers"]
    ).get_json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in body["items"]]
    assert rest["next_cursor"] is None


def test_a_claim_holds_the_item_against_other_moderators_until_it_expires(client, platform, mod):
    other = moderator(client, platform)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=make_user(session), status="pending_review")
    claimed = client.post(f"/v1/moderation/ugc/{item}/claim", headers=mod["headers"])
    assert claimed.status_code == 200
    assert claimed.get_json()["claimed_by"] == str(mod["id"])
    for attempt in (
        client.post(f"/v1/moderation/ugc/{item}/claim", headers=other["headers"]),
        decide(client, other, item, "approve"),
    ):
        assert attempt.status_code == 409
        problem = attempt.get_json()
        assert problem["code"] == "claimed_by_other"
        assert problem["claimed_by"] == str(mod["id"])
        assert problem["claimed_until"] == claimed.get_json()["claimed_until"]
    with platform.db.unit_of_work() as session:  # the claim runs out
        session.get(UgcItem, item).claimed_until = utcnow() - timedelta(seconds=1)
    assert decide(client, other, item, "approve").status_code == 200
    assert status_of(platform, item) == "published"


def test_a_released_claim_frees_the_item(client, platform, mod):
    other = moderator(client, platform)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=make_user(session), status="pending_review")
    client.post(f"/v1/moderation/ugc/{item}/claim", headers=mod["headers"])
    assert (
        client.delete(f"/v1/moderation/ugc/{item}/claim", headers=other["headers"]).status_code
        == 409
    )
    client.post(f"/v1/moderation/ugc/{item}/claim", headers=mod["headers"])  # a renewal
    released = client.delete(f"/v1/moderation/ugc/{item}/claim", headers=mod["headers"])
    assert released.get_json()["claimed_by"] is None
    assert decide(client, other, item, "reject").status_code == 200
    with platform.db.unit_of_work() as session:
        trail = session.execute(
            select(AuditLog.action, AuditLog.actor_id, AuditLog.ip)
            .where(AuditLog.resource_id == str(item), AuditLog.action.like("ugc.%"))
            .order_by(AuditLog.created_at, AuditLog.id)
        ).all()
    assert [(action, actor) for action, actor, _ in trail][:2] == [
        ("ugc.claim", mod["id"]),
        ("ugc.release", mod["id"]),
    ]
    assert all(ip for _, _, ip in trail[:2])


def test_decisions_move_the_item_tell_the_owner_and_keep_history(client, platform, mod):
    owner = player(client)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=owner["id"], status="pending_review")
    approved = decide(client, mod, item, "approve", notes="fine", reason="looks good")
    assert approved.status_code == 200
    assert approved.get_json()["status"] == "published"
    assert client.get("/v1/ugc").get_json()["items"][0]["id"] == str(item)
    again = decide(client, mod, item, "approve")
    assert (again.status_code, again.get_json()["code"]) == (409, "invalid_transition")
    assert decide(client, mod, item, "remove", reason="rules").get_json()["status"] == "removed"
    assert client.get("/v1/ugc").get_json()["items"] == []
    with platform.db.unit_of_work() as session:
        blocked = session.get(BlockedHash, session.get(UgcItem, item).sha256)
        assert blocked is not None and blocked.ugc_id == item
    assert decide(client, mod, item, "restore").get_json()["status"] == "published"
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(BlockedHash).where(BlockedHash.ugc_id == item)) is None
    assert notices(platform) == [
        ("approved", "looks good"), ("removed", "rules"), ("restored", "")
    ]  # fmt: skip
    bad = decide(client, mod, item, "delete")
    assert (bad.status_code, bad.get_json()["code"]) == (422, "validation_error")


def test_reports_are_one_per_player_and_the_threshold_flags_the_item(client, platform):
    owner = player(client)
    reporters = [player(client) for _ in range(3)]
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=owner["id"])
    report = lambda who: client.post(  # noqa: E731
        f"/v1/ugc/{item}/reports", json={"reason": "offensive", "description": "rude"},
        headers=who["headers"],
    )  # fmt: skip
    assert report(reporters[0]).status_code == 201
    twice = report(reporters[0])
    assert (twice.status_code, twice.get_json()["code"]) == (409, "already_reported")
    own = report(owner)
    assert (own.status_code, own.get_json()["code"]) == (403, "own_item")
    assert report(reporters[1]).status_code == 201
    assert status_of(platform, item) == "published"
    assert report(reporters[2]).status_code == 201
    assert status_of(platform, item) == "flagged"
    assert client.get("/v1/ugc").get_json()["items"] == []
    assert client.get(f"/v1/ugc/{item}").status_code == 404
    assert client.get(f"/v1/ugc/{item}", headers=owner["headers"]).get_json()["status"] == "flagged"
    assert notices(platform) == [("flagged", "reported by players")]
    bad = client.post(f"/v1/ugc/{item}/reports", json={"reason": "meh"},
                      headers=reporters[0]["headers"])  # fmt: skip
    assert bad.status_code == 422


def test_approving_a_flagged_item_dismisses_its_reports(client, platform, mod):
    owner, reporter = player(client), player(client)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=owner["id"], status="flagged")
        session.add(UgcReport(ugc_id=item, reporter_id=reporter["id"], reason="spam"))
        session.get(UgcItem, item).report_count = 1
    assert decide(client, mod, item, "approve").status_code == 200
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(UgcReport.status)) == "dismissed"
        assert session.get(UgcItem, item).report_count == 0
    again = client.post(f"/v1/ugc/{item}/reports", json={"reason": "spam"},
                        headers=reporter["headers"])  # fmt: skip
    assert again.status_code == 201  # the earlier report is closed: a new one may be filed


def test_resolving_reports_dismissed_keeps_and_upheld_removes(client, platform, mod):
    owner, ada, bob = player(client), player(client), player(client)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=owner["id"])
    ids = [
        client.post(f"/v1/ugc/{item}/reports", json={"reason": "spam"},
                    headers=who["headers"]).get_json()["id"]
        for who in (ada, bob)
    ]  # fmt: skip
    resolve = lambda report_id, outcome: client.post(  # noqa: E731
        f"/v1/moderation/reports/{report_id}/resolve", json={"outcome": outcome},
        headers=mod["headers"],
    )  # fmt: skip
    dismissed = resolve(ids[0], "dismissed")
    assert dismissed.get_json()["status"] == "dismissed"
    assert status_of(platform, item) == "published"
    assert resolve(ids[0], "upheld").get_json()["code"] == "report_resolved"
    assert resolve(uuid.uuid4(), "upheld").status_code == 404
    assert resolve(ids[1], "upheld").get_json()["status"] == "upheld"
    assert status_of(platform, item) == "removed"


def test_an_owner_appeals_a_removal_once_and_a_moderator_restores_it(client, platform, mod):
    owner, other = player(client), player(client)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=owner["id"], status="removed")
        infected = make_item(session, owner_id=owner["id"], status="removed",
                             virus_status="infected")  # fmt: skip
        live = make_item(session, owner_id=owner["id"])
    appeal = lambda who, target: client.post(  # noqa: E731
        f"/v1/ugc/{target}/appeals", json={"message": "Please"}, headers=who["headers"]
    )
    assert appeal(other, item).status_code == 404
    assert appeal(owner, live).get_json()["code"] == "not_removed"
    assert appeal(owner, infected).get_json()["code"] == "not_appealable"
    first = appeal(owner, item)
    assert first.status_code == 201
    assert appeal(owner, item).get_json()["code"] == "already_appealed"
    resolved = client.post(
        f"/v1/moderation/appeals/{first.get_json()['id']}/resolve",
        json={"outcome": "restored", "notes": "our mistake"}, headers=mod["headers"],
    )  # fmt: skip
    assert resolved.status_code == 200
    assert resolved.get_json()["status"] == "restored"
    assert status_of(platform, item) == "published"
    twice = client.post(
        f"/v1/moderation/appeals/{first.get_json()['id']}/resolve", json={"outcome": "upheld"},
        headers=mod["headers"],
    )  # fmt: skip
    assert (twice.status_code, twice.get_json()["code"]) == (409, "appeal_resolved")


@pytest.fixture
def two_person_client(platform, db):
    settings = dataclasses.replace(platform.settings, ugc_two_person_removal=True)
    strict = Platform.from_settings(settings, db=db)
    bind_current(strict)
    return create_app(platform=strict).test_client()


def test_two_person_rule_a_removal_needs_a_second_moderator(two_person_client, platform):
    client = two_person_client
    first, second = moderator(client, platform), moderator(client, platform)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=make_user(session))
    proposed = decide(client, first, item, "remove", notes="hate speech")
    assert proposed.status_code == 200
    body = proposed.get_json()
    assert (body["status"], body["removal_proposed_by"]) == ("flagged", str(first["id"]))
    assert client.get("/v1/ugc").get_json()["items"] == []  # hidden meanwhile
    alone = decide(client, first, item, "remove")
    assert (alone.status_code, alone.get_json()["code"]) == (409, "second_moderator_required")
    confirmed = decide(client, second, item, "remove")
    assert confirmed.get_json()["status"] == "removed"
    assert confirmed.get_json()["removal_proposed_by"] is None


def test_every_report_and_appeal_resolution_is_audited(client, platform, mod):
    owner, reporter = player(client), player(client)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=owner["id"])
        removed = make_item(session, owner_id=owner["id"], status="removed")
    report = client.post(
        f"/v1/ugc/{item}/reports", json={"reason": "spam"}, headers=reporter["headers"]
    ).get_json()["id"]
    appeal = client.post(
        f"/v1/ugc/{removed}/appeals", json={"message": "Please"}, headers=owner["headers"]
    ).get_json()["id"]
    for path, outcome in ((f"reports/{report}", "dismissed"), (f"appeals/{appeal}", "upheld")):
        answer = client.post(
            f"/v1/moderation/{path}/resolve",
            json={"outcome": outcome, "notes": "checked"},
            headers=mod["headers"],
        )
        assert answer.status_code == 200, answer.get_json()
    with platform.db.unit_of_work() as session:
        entries = session.scalars(
            select(AuditLog).where(AuditLog.resource_id.in_([report, appeal]))
        ).all()
        assert sorted((e.action, e.new_values["status"], e.actor_id) for e in entries) == [
            ("ugc_appeal.resolve", "upheld", mod["id"]),
            ("ugc_report.resolve", "dismissed", mod["id"]),
        ]
