"""A player's inbox under GDPR and account merge.

The export holds the player's messages: those they have a state row of (named messages, and
broadcasts they read, claimed or deleted), with that state; a broadcast they never touched is
stored about no one. Erasure deletes the state rows; the messages stay (a broadcast is everyone's,
a named message may name others too). A merge gives the survivor the retired account's rows, so
its unclaimed attachments can be claimed and a claim made by either account counts once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from player_platform.db import iso_or_none
from player_platform.jobs import Jobs
from player_platform.messaging.models import Message, MessageRecipient


def export_section(session: Session, user: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Message, MessageRecipient)
        .join(MessageRecipient, MessageRecipient.message_id == Message.id)
        .where(MessageRecipient.user_id == user.id)
        .order_by(Message.created_at, Message.id)
    )
    return [
        {
            "id": str(message.id),
            "kind": message.kind,
            "subject": message.subject,
            "body": message.body,
            "data": message.data,
            "attachments": message.attachments,
            "created_at": message.created_at.isoformat(),
            **{
                f"{state}_at": iso_or_none(getattr(row, f"{state}_at"))
                for state in ("read", "claimed", "deleted")
            },
        }
        for message, row in rows
    ]


def erase_state(session: Session, *, jobs: Jobs, user_id: uuid.UUID, now: datetime) -> None:
    session.execute(delete(MessageRecipient).where(MessageRecipient.user_id == user_id))


def move_state(
    session: Session,
    *,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    jobs: Jobs,  # a merge step's argument: nothing here waits for the commit
    now: datetime,
) -> dict[str, int]:
    """The retired account's state rows become the survivor's; where both have a row of one
    message (a broadcast, or a message naming both), the survivor's keeps the earlier read and
    claim of the two, so an attachment claimed by either is not claimed again."""
    moving = session.scalars(
        select(MessageRecipient).where(MessageRecipient.user_id == source_id).with_for_update()
    ).all()
    own = {
        row.message_id: row
        for row in session.scalars(
            select(MessageRecipient)
            .where(
                MessageRecipient.user_id == target_id,
                MessageRecipient.message_id.in_([r.message_id for r in moving]),
            )
            .with_for_update()
        )
    }
    for row in moving:
        mine = own.get(row.message_id)
        if mine is None:
            row.user_id = target_id
            continue
        mine.read_at = _earlier(mine.read_at, row.read_at)
        mine.claimed_at = _earlier(mine.claimed_at, row.claimed_at)
        session.delete(row)
    session.flush()
    return {"inbox_messages": len(moving)}


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return min((v for v in (a, b) if v is not None), default=None)
