"""Inbox use cases that reach into the catalog and the wallet: admins sending messages with
attachments, and players claiming them.

An attachment is ``{"type": ..., "sku_id": ..., "quantity": n}``; each type is one entry of
``ATTACHMENT_TYPES``: how it is checked when a message is sent and how it is granted when a
player claims it (game keys, once the key store exists, are one more entry). A claim is once
per player and message twice over: the player's state row is locked and marked claimed, and
every grant is keyed on ``inbox:<message>:<player>:<attachment>`` in SQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.commerce import catalog
from player_platform.commerce.grants import Granted, check_grantable, grant_sku
from player_platform.errors import Invalid
from player_platform.jobs import Jobs
from player_platform.messaging import service as inbox
from player_platform.messaging.models import Message

DELIVER_JOB = "workers.messaging.deliver_message"


@dataclass(frozen=True)
class AttachmentType:
    check: Callable[[Session, dict[str, Any]], None]
    grant: Callable[..., None]


def _check_sku(session: Session, attachment: dict[str, Any]) -> None:
    check_grantable(session, catalog.get_sku(session, attachment["sku_id"]))


def _check_currency(session: Session, attachment: dict[str, Any]) -> None:
    if catalog.get_sku(session, attachment["sku_id"]).type != "consumable":
        raise Invalid(
            f"{attachment['sku_id']} is not a wallet currency (a consumable SKU).",
            code="not_a_currency",
            errors={"attachments": [f"{attachment['sku_id']} is not a consumable SKU"]},
        )


def _grant_sku(
    session: Session,
    *,
    user_id: uuid.UUID,
    attachment: dict[str, Any],
    effect: str,
    granted: Granted,
    now: datetime,
) -> None:
    sku = catalog.get_sku(session, attachment["sku_id"])
    grant_sku(session, user_id=user_id, sku=sku, quantity=attachment["quantity"],
              effect=effect, reason="inbox", now=now, into=granted)  # fmt: skip


ATTACHMENT_TYPES = {
    "sku": AttachmentType(check=_check_sku, grant=_grant_sku),
    "currency": AttachmentType(check=_check_currency, grant=_grant_sku),
}


def send_message(
    session: Session,
    *,
    jobs: Jobs,
    sender_id: uuid.UUID,
    origin: Origin,
    now: datetime,
    subject: str,
    body: str,
    user_ids: list[uuid.UUID] | None,
    attachments: list[dict[str, Any]],
    expires_at: datetime | None,
    include_new_players: bool,
) -> Message:
    """Store an admin's message (to ``user_ids``, or to everyone when None) and deliver it
    with a ``notification_send`` job after the commit. Audited."""
    if expires_at is not None and expires_at <= now:
        raise Invalid(
            "expires_at is in the past.", errors={"expires_at": ["Must be in the future."]}
        )
    if user_ids is not None:
        missing = inbox.unknown_users(session, user_ids)
        if missing:
            raise Invalid("Some recipients do not exist.", code="unknown_recipients",
                          errors={"user_ids": [str(u) for u in missing]})  # fmt: skip
    for attachment in attachments:
        ATTACHMENT_TYPES[attachment["type"]].check(session, attachment)
    message_id = inbox.create_message(
        session,
        kind="admin",
        subject=subject,
        body=body,
        audience="players" if user_ids is not None else "everyone",
        recipient_ids=user_ids,
        attachments=attachments,
        expires_at=expires_at,
        include_new_players=include_new_players,
        sender_id=sender_id,
        now=now,
    )
    message = session.get(Message, message_id)
    record(
        session,
        actor_id=sender_id,
        action="message.send",
        resource_type="message",
        resource_id=message_id,
        origin=origin,
        new={
            "audience": message.audience,
            "recipients": len(user_ids) if user_ids is not None else None,
            "subject": subject,
            "attachments": attachments,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "include_new_players": include_new_players,
        },
    )
    jobs.enqueue_after_commit(
        session, "notification_send", DELIVER_JOB, str(message_id), job_id=f"deliver-{message_id}"
    )
    return message


@dataclass(frozen=True)
class Claimed:
    message: inbox.InboxMessage
    granted: Granted


def claim(session: Session, *, user_id: uuid.UUID, message_id: uuid.UUID, now: datetime) -> Claimed:
    """Grant the message's attachments to the player, once (409 ``already_claimed``, 410
    ``expired``)."""
    claimed = inbox.begin_claim(session, user_id=user_id, message_id=message_id, now=now)
    message, granted = claimed.message, Granted()
    for n, attachment in enumerate(message.attachments):
        ATTACHMENT_TYPES[attachment["type"]].grant(
            session,
            user_id=user_id,
            attachment=attachment,
            effect=f"inbox:{message.id}:{user_id}:{n}",
            granted=granted,
            now=now,
        )
    return Claimed(claimed, granted)
