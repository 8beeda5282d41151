"""GDPR export and erasure, and account merge, for the inbox, mail, feedback and drops: what the
export holds, what erasure deletes (files by a job after commit) and what accounting keeps."""

from __future__ import annotations

import hashlib
import uuid

from rq import SimpleWorker
from sqlalchemy import func, select

from player_platform.db import utcnow
from player_platform.drops.models import Drop
from player_platform.feedback.models import Feedback, FeedbackAttachment
from player_platform.mail.models import EmailToken, Mail
from player_platform.messaging.models import MessageRecipient
from player_platform.wallet.models import LedgerEntry, Wallet
from tests import factories
from tests.support import bearer, register

GEMS = {"type": "currency", "sku_id": "gems", "quantity": 25}
SHOT = b"\x89PNG not really, but bytes all the same"


def player(client) -> dict:
    tokens = register(client)
    return {"id": uuid.UUID(tokens["user"]["id"]), "headers": bearer(tokens["access_token"])}


def work(platform, queue: str) -> None:
    SimpleWorker([platform.jobs.queue(queue)], connection=platform.redis).work(burst=True)


def message(client, admin, platform, someone, **body) -> str:
    sent = client.post(
        "/v1/admin/messages",
        json={"subject": "Patch", "body": "Notes", "user_ids": [str(someone["id"])], **body},
        headers=admin,
    )
    assert sent.status_code == 201, sent.get_json()
    work(platform, "notification_send")
    return sent.get_json()["id"]


def feedback_with_a_shot(client, platform, someone) -> str:
    declared = {"filename": "shot.png", "content_type": "image/png", "size": len(SHOT),
                "sha256": hashlib.sha256(SHOT).hexdigest()}  # fmt: skip
    filed = client.post(
        "/v1/feedback",
        json={"category": "bug", "message": "The door does not open.", "attachments": [declared]},
        headers=someone["headers"],
    )
    assert filed.status_code == 201, filed.get_json()
    with platform.db.unit_of_work() as session:
        key = session.scalar(select(FeedbackAttachment.object_key))
    platform.storage.put(key, SHOT, content_type="image/png")  # what the presigned PUT uploads
    return key


def granted_drop(platform, someone) -> None:
    with platform.db.unit_of_work() as session:
        session.add(
            Drop(entitlement_id=uuid.uuid4().hex, benefit_id="benefit-crown",
                 twitch_user_id="44322889", user_id=someone["id"], status="granted",
                 earned_at=utcnow(), granted_at=utcnow())
        )  # fmt: skip


def gems(platform) -> None:
    with platform.db.unit_of_work() as session:
        factories.sku(session, sku_id="gems", type="consumable", name="Gems", prices={"USD": 1})


def test_the_export_holds_inbox_messages_feedback_drops_and_mails(client, admin, platform):
    ada = player(client)
    message_id = message(client, admin, platform, ada, subject="Season 3")
    assert client.post(f"/v1/me/inbox/{message_id}/read", headers=ada["headers"]).status_code == 200
    feedback_with_a_shot(client, platform, ada)
    granted_drop(platform, ada)
    assert client.post("/v1/me/email/verify-request", headers=ada["headers"]).status_code == 202

    export = client.get("/v1/me/export", headers=ada["headers"])
    assert export.status_code == 200
    data = export.get_json()
    [inbox] = data["inbox"]
    assert (inbox["id"], inbox["subject"], inbox["claimed_at"]) == (message_id, "Season 3", None)
    assert inbox["read_at"] is not None
    [report] = data["feedback"]
    assert (report["message"], report["category"]) == ("The door does not open.", "bug")
    assert [a["filename"] for a in report["attachments"]] == ["shot.png"]
    assert "object_key" not in report["attachments"][0]
    [drop] = data["drops"]
    assert (drop["benefit_id"], drop["status"]) == ("benefit-crown", "granted")
    assert [(m["template"], m["status"]) for m in data["mail"]] == [("verify_email", "pending")]
    assert "envelope" not in data["mail"][0]  # a mailed link is a credential


def test_erasure_deletes_mail_feedback_files_and_inbox_state_and_keeps_the_ledger(
    client, admin, platform
):
    gems(platform)
    ada, bob = player(client), player(client)
    message_id = message(client, admin, platform, ada, attachments=[GEMS])
    claimed = client.post(f"/v1/me/inbox/{message_id}/claim", headers=ada["headers"])
    assert claimed.status_code == 200, claimed.get_json()
    key = feedback_with_a_shot(client, platform, ada)
    assert client.post("/v1/me/email/verify-request", headers=ada["headers"]).status_code == 202
    assert client.post("/v1/me/email/verify-request", headers=bob["headers"]).status_code == 202

    assert client.delete("/v1/me", headers=ada["headers"]).status_code == 202
    assert platform.storage.head(key) is not None  # the file goes by a job, after the commit
    work(platform, "maintenance")
    assert platform.storage.head(key) is None
    with platform.db.unit_of_work() as session:

        def count(model, *where) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*where))

        assert count(EmailToken, EmailToken.user_id == ada["id"]) == 0
        assert count(Mail, Mail.user_id == ada["id"]) == 0
        assert count(Feedback) == count(FeedbackAttachment) == 0
        assert count(MessageRecipient, MessageRecipient.user_id == ada["id"]) == 0
        # Accounting stays: the grant the claim made is still in the ledger.
        ledger = select(Wallet.id).where(Wallet.user_id == ada["id"]).scalar_subquery()
        assert count(LedgerEntry, LedgerEntry.wallet_id.in_(ledger)) == 1
        # Nobody else's data goes.
        assert count(EmailToken, EmailToken.user_id == bob["id"]) == 1
        assert count(Mail, Mail.user_id == bob["id"]) == 1


def test_a_merge_moves_inbox_state_and_feedback_and_drops_mail_tokens(
    client, admin, platform, steam
):
    gems(platform)
    survivor = player(client)
    steam_id = "76561198000000778"
    signed_in = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(steam_id)})
    retired = {
        "id": uuid.UUID(signed_in.get_json()["user"]["id"]),
        "headers": bearer(signed_in.get_json()["access_token"]),
    }
    unclaimed = message(client, admin, platform, retired, attachments=[GEMS])
    feedback_with_a_shot(client, platform, retired)
    with platform.db.unit_of_work() as session:
        session.add(EmailToken(user_id=retired["id"], purpose="password_reset",
                               token_hash="a" * 64, email="old@example.com",
                               expires_at=utcnow()))  # fmt: skip
    proof = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(steam_id)}).get_json()
    merged = client.post(
        "/v1/me/merge", json={"proof": {"refresh_token": proof["refresh_token"]}},
        headers=survivor["headers"],
    )  # fmt: skip
    assert merged.status_code == 200, merged.get_json()

    claimed = client.post(f"/v1/me/inbox/{unclaimed}/claim", headers=survivor["headers"])
    assert claimed.status_code == 200, claimed.get_json()
    assert claimed.get_json()["balances"] == {"gems": 25}
    export = client.get("/v1/me/export", headers=survivor["headers"]).get_json()
    assert [r["message"] for r in export["feedback"]] == ["The door does not open."]
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(EmailToken).where(EmailToken.user_id == retired["id"])) is None


def test_a_broadcast_claimed_by_the_retired_account_is_not_claimed_again_after_a_merge(
    client, admin, platform, steam
):
    gems(platform)
    survivor = player(client)
    steam_id = "76561198000000779"
    signed_in = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(steam_id)})
    retired_headers = bearer(signed_in.get_json()["access_token"])
    sent = client.post("/v1/admin/messages", headers=admin, json={
        "subject": "Gift", "body": "For all", "everyone": True, "include_new_players": True,
        "attachments": [GEMS]})  # fmt: skip
    assert sent.status_code == 201, sent.get_json()
    work(platform, "notification_send")
    broadcast = sent.get_json()["id"]
    assert (
        client.post(f"/v1/me/inbox/{broadcast}/read", headers=survivor["headers"]).status_code
        == 200
    )
    claimed = client.post(f"/v1/me/inbox/{broadcast}/claim", headers=retired_headers)
    assert claimed.status_code == 200, claimed.get_json()

    proof = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(steam_id)}).get_json()
    merged = client.post(
        "/v1/me/merge", json={"proof": {"refresh_token": proof["refresh_token"]}},
        headers=survivor["headers"],
    )  # fmt: skip
    assert merged.status_code == 200, merged.get_json()
    again = client.post(f"/v1/me/inbox/{broadcast}/claim", headers=survivor["headers"])
    assert (again.status_code, again.get_json()["code"]) == (409, "already_claimed")
