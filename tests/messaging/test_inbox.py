"""The inbox: admin messages delivered by a job, broadcasts stored once, claims granted once
(also under concurrent claims), expiry, read counts, deletion, and notices from other domains."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from rq import SimpleWorker
from sqlalchemy import func, select, text, update

from player_platform.app import create_app
from player_platform.audit.models import AuditLog
from player_platform.commerce import orders
from player_platform.db import utcnow
from player_platform.identity.models import User
from player_platform.messaging.models import Message, MessageRecipient
from player_platform.wallet.models import Entitlement, LedgerEntry
from tests import factories
from tests.support import bearer, signed_up

GEMS = {"type": "currency", "sku_id": "gems", "quantity": 25}
CROWN = {"type": "sku", "sku_id": "crown", "quantity": 1}


@pytest.fixture
def skus(platform):
    with platform.db.unit_of_work() as session:
        factories.sku(session, sku_id="gems", type="consumable", name="Gems", prices={"USD": 1})
        factories.sku(session, sku_id="crown", type="durable", name="Crown", prices={"USD": 99})


def player(platform) -> dict:
    tokens = signed_up(platform)
    return {"id": tokens["user"]["id"], "headers": bearer(tokens["access_token"])}


def drain(platform) -> None:
    queue = platform.jobs.queue("notification_send")
    SimpleWorker([queue], connection=platform.redis).work(burst=True)


def send(client, admin, platform, **body):
    response = client.post(
        "/v1/admin/messages", json={"subject": "Hello", "body": "Welcome!", **body}, headers=admin
    )
    assert response.status_code == 201, response.get_json()
    drain(platform)
    return response.get_json()


def inbox(client, someone, **query) -> dict:
    response = client.get("/v1/me/inbox", query_string=query, headers=someone["headers"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def rows(platform) -> tuple[int, int]:
    with platform.db.unit_of_work() as session:
        return (
            session.scalar(select(func.count()).select_from(Message)),
            session.scalar(select(func.count()).select_from(MessageRecipient)),
        )


def test_a_message_to_players_arrives_by_its_job_and_is_read_once(client, admin, platform):
    ada, bob, cy = player(platform), player(platform), player(platform)
    response = client.post(
        "/v1/admin/messages",
        json={"subject": "Patch", "body": "Notes", "user_ids": [ada["id"], bob["id"]]},
        headers=admin,
    )
    assert response.status_code == 201
    assert response.get_json()["delivered_at"] is None
    assert inbox(client, ada)["items"] == []  # not delivered until the job runs
    drain(platform)

    page = inbox(client, ada)
    assert page["unread_count"] == 1 and [m["subject"] for m in page["items"]] == ["Patch"]
    assert inbox(client, cy) == {"items": [], "next_cursor": None, "unread_count": 0}
    message_id = page["items"][0]["id"]
    read = client.post(f"/v1/me/inbox/{message_id}/read", headers=ada["headers"]).get_json()
    assert read["read_at"] is not None
    assert inbox(client, ada)["unread_count"] == 0
    assert inbox(client, ada, unread="true")["items"] == []
    assert inbox(client, bob)["unread_count"] == 1  # Bob's state is his own
    elsewhere = client.post(f"/v1/me/inbox/{message_id}/read", headers=cy["headers"])
    assert (elsewhere.status_code, elsewhere.get_json()["code"]) == (404, "message_not_found")
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(AuditLog.action).where(AuditLog.action == "message.send"))


def test_sending_needs_an_admin_with_mfa_and_checks_what_it_sends(client, admin, platform, skus):
    someone = player(platform)
    body = {"subject": "x", "body": "y", "everyone": True}
    assert (
        client.post("/v1/admin/messages", json=body, headers=someone["headers"]).status_code == 403
    )
    cases = [
        ({"everyone": True, "user_ids": [someone["id"]]}, "validation_error"),
        ({"everyone": False}, "validation_error"),
        ({"attachments": [{**CROWN, "type": "currency"}]}, "not_a_currency"),
        ({"attachments": [{**GEMS, "quantity": 1.5}]}, "validation_error"),
        ({"attachments": [{**GEMS, "extra": 1}]}, "validation_error"),
        ({"user_ids": ["00000000-0000-4000-8000-000000000000"], "everyone": False},
         "unknown_recipients"),
        ({"expires_at": (utcnow() - timedelta(minutes=1)).isoformat()}, "validation_error"),
    ]  # fmt: skip
    for extra, code in cases:
        response = client.post("/v1/admin/messages", json={**body, **extra}, headers=admin)
        assert (response.status_code, response.get_json()["code"]) == (422, code), extra
    missing = client.post(
        "/v1/admin/messages", json={**body, "attachments": [{**GEMS, "sku_id": "nope"}]},
        headers=admin,
    )  # fmt: skip
    assert (missing.status_code, missing.get_json()["code"]) == (404, "sku_not_found")


def test_a_broadcast_to_100000_players_costs_one_row_at_send_time(client, admin, platform):
    with platform.db.unit_of_work() as session:
        session.execute(
            text(
                "INSERT INTO users (id, display_name, roles, status, failed_logins, created_at,"
                " updated_at) SELECT gen_random_uuid(), 'p' || n, '[\"player\"]', 'active', 0,"
                " now() - interval '1 day', now() FROM generate_series(1, 100000) AS n"
            )
        )
    ada = player(platform)
    before = rows(platform)
    send(client, admin, platform, everyone=True)
    assert rows(platform) == (before[0] + 1, before[1])  # one message, no per-player rows

    page = inbox(client, ada)
    assert page["unread_count"] == 1
    client.post(f"/v1/me/inbox/{page['items'][0]['id']}/read", headers=ada["headers"])
    assert rows(platform) == (before[0] + 1, before[1] + 1)  # Ada's state, made on her read
    assert inbox(client, ada)["unread_count"] == 0


@pytest.mark.parametrize("include_new_players", [True, False])
def test_a_player_who_signs_up_after_a_broadcast_sees_it_only_if_it_says_so(
    client, admin, platform, include_new_players
):
    old = player(platform)
    with platform.db.unit_of_work() as session:  # signed up before the broadcast
        session.execute(
            update(User).where(User.id == old["id"]).values(created_at=utcnow() - timedelta(days=1))
        )
    send(client, admin, platform, everyone=True, include_new_players=include_new_players)
    new = player(platform)
    assert inbox(client, old)["unread_count"] == 1
    assert inbox(client, new)["unread_count"] == (1 if include_new_players else 0)


def test_an_attachment_is_claimed_once_and_an_expired_one_not_at_all(client, admin, platform, skus):
    ada = player(platform)
    send(client, admin, platform, everyone=True, attachments=[GEMS, CROWN])
    message_id = inbox(client, ada)["items"][0]["id"]
    claimed = client.post(f"/v1/me/inbox/{message_id}/claim", headers=ada["headers"])
    assert claimed.status_code == 200, claimed.get_json()
    assert claimed.get_json()["balances"] == {"gems": 25}
    assert [e["sku_id"] for e in claimed.get_json()["entitlements"]] == ["crown"]
    again = client.post(f"/v1/me/inbox/{message_id}/claim", headers=ada["headers"])
    assert (again.status_code, again.get_json()["code"]) == (409, "already_claimed")
    assert client.get("/v1/me/wallet", headers=ada["headers"]).get_json()["balances"] == {
        "gems": 25
    }

    expiring = send(
        client, admin, platform, everyone=True, attachments=[GEMS],
        expires_at=(utcnow() + timedelta(hours=1)).isoformat(),
    )  # fmt: skip
    with platform.db.unit_of_work() as session:
        session.execute(
            update(Message)
            .where(Message.id == expiring["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    late = client.post(f"/v1/me/inbox/{expiring['id']}/claim", headers=ada["headers"])
    assert (late.status_code, late.get_json()["code"]) == (410, "expired")
    assert [m["id"] for m in inbox(client, ada)["items"]] == [message_id]  # expired: gone


def test_deleting_an_unclaimed_attachment_needs_force(client, admin, platform, skus):
    ada = player(platform)
    plain = send(client, admin, platform, everyone=True)
    gift = send(client, admin, platform, everyone=True, attachments=[GEMS])
    assert client.delete(f"/v1/me/inbox/{plain['id']}", headers=ada["headers"]).status_code == 204
    refused = client.delete(f"/v1/me/inbox/{gift['id']}", headers=ada["headers"])
    assert (refused.status_code, refused.get_json()["code"]) == (409, "unclaimed_attachments")
    assert inbox(client, ada)["unread_count"] == 1
    forced = client.delete(f"/v1/me/inbox/{gift['id']}?force=true", headers=ada["headers"])
    assert forced.status_code == 204
    assert inbox(client, ada)["items"] == []
    claim = client.post(f"/v1/me/inbox/{gift['id']}/claim", headers=ada["headers"])
    assert (claim.status_code, claim.get_json()["code"]) == (404, "message_not_found")


def test_the_inbox_pages_with_cursors(client, admin, platform):
    ada = player(platform)
    for n in range(5):
        send(client, admin, platform, subject=f"m{n}", user_ids=[ada["id"]])
    send(client, admin, platform, subject="all", everyone=True, include_new_players=True)
    seen, cursor = [], None
    while True:
        page = inbox(client, ada, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [m["subject"] for m in page["items"]]
        assert page["unread_count"] == 6
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["all", "m4", "m3", "m2", "m1", "m0"]


def test_pages_merge_own_messages_and_broadcasts_in_order_for_each_filter(client, admin, platform):
    """Broadcasts and the player's own messages interleave; each filter pages in time order
    across both sets and the count stays whole (the two sets are read apart and merged)."""
    ada = player(platform)
    subjects = ["own0", "all1", "own2", "all3", "own4", "all5", "own6"]
    ids = {}
    for subject in subjects:
        to = {"everyone": True} if subject.startswith("all") else {"user_ids": [ada["id"]]}
        ids[subject] = send(client, admin, platform, subject=subject, **to)["id"]
    for subject in ("all3", "own4", "own0"):
        read = client.post(f"/v1/me/inbox/{ids[subject]}/read", headers=ada["headers"])
        assert read.status_code == 200

    def walk(**query) -> list[str]:
        seen, cursor = [], None
        while True:
            page = inbox(client, ada, limit=2, **query, **({"cursor": cursor} if cursor else {}))
            assert page["unread_count"] == 4
            seen += [m["subject"] for m in page["items"]]
            if (cursor := page["next_cursor"]) is None:
                return seen

    newest_first = subjects[::-1]
    assert walk() == newest_first
    assert walk(unread="true") == [s for s in newest_first if s not in ("all3", "own4", "own0")]
    assert walk(unread="false") == ["own4", "all3", "own0"]


def test_a_refund_notice_arrives_once_in_the_inbox(client, platform):
    ada = player(platform)
    with platform.db.unit_of_work() as session:
        order_id = uuid.uuid4()
        orders.notify(session, jobs=platform.jobs, user_id=ada["id"], kind="order.refunded",
                      order_id=order_id)  # fmt: skip
    job = platform.jobs.queue("notification_send").jobs[0]
    drain(platform)
    platform.jobs.queue("notification_send").enqueue_job(job)  # delivered twice
    drain(platform)
    page = inbox(client, ada)
    assert [(m["kind"], m["data"]) for m in page["items"]] == [
        ("order.refunded", {"order_id": str(order_id)})
    ]


@pytest.fixture
def live_client(live_platform):
    return create_app(platform=live_platform).test_client()


def test_each_player_claims_a_broadcast_once_under_concurrent_claims(
    live_server, live_platform, live_client
):
    with live_platform.db.unit_of_work() as session:
        factories.sku(session, sku_id="gems", type="consumable", name="Gems", prices={"USD": 1})
        factories.sku(session, sku_id="crown", type="durable", name="Crown", prices={"USD": 9})
        admin = bearer(factories.staff(session, live_platform, role="admin").access_token)
    players = [player(live_platform) for _ in range(3)]
    message = send(live_client, admin, live_platform, everyone=True, attachments=[GEMS, CROWN])
    attempts = [p for p in players for _ in range(6)]
    start = threading.Barrier(len(attempts))

    def claim(someone) -> int:
        start.wait()
        url = f"{live_server}/v1/me/inbox/{message['id']}/claim"
        return requests.post(url, headers=someone["headers"], timeout=30).status_code

    with ThreadPoolExecutor(len(attempts)) as pool:
        statuses = list(pool.map(claim, attempts))
    assert sorted(statuses) == [200] * 3 + [409] * 15
    with live_platform.db.unit_of_work() as session:
        for someone in players:
            grants = session.scalars(
                select(LedgerEntry.quantity).where(
                    LedgerEntry.reference.like(f"inbox:{message['id']}:{someone['id']}:%")
                )
            ).all()
            crowns = session.scalar(
                select(func.count()).where(
                    Entitlement.user_id == someone["id"], Entitlement.sku_id == "crown"
                )
            )
            assert (grants, crowns) == ([25], 1)
