"""A player's inbox: list, read, delete, and the state a claim moves; sending and delivery.

A player's inbox is the union of two sets: messages they have a state row of (named
recipients, and broadcasts they already read, claimed or deleted) and broadcasts they have no
row of yet, which show to every player (to those who signed up after the broadcast only when it
says ``include_new_players``). So a broadcast costs one row at send time, whatever the number
of players, and a player's row is made the first time they act on it (``_lock_state``).
Expired messages leave the list; a claim of one answers 410 ``expired``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal, null, or_, select, tuple_, union_all
from sqlalchemy.orm import Session

from player_platform.db import insert_for, new_id
from player_platform.errors import Conflict, Gone, NotFound
from player_platform.identity.models import User
from player_platform.messaging.models import Message, MessageRecipient
from player_platform.pagination import Page, Position

M, R = Message, MessageRecipient
# Delivery jobs lost with Redis are re-driven by a periodic job after this long.
REDRIVE_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class InboxMessage:
    """A message as one player sees it."""

    message: Message
    read_at: datetime | None
    claimed_at: datetime | None

    @property
    def id(self) -> uuid.UUID:
        return self.message.id


@dataclass(frozen=True)
class InboxPage(Page[InboxMessage]):
    unread_count: int = 0


def _inbox(user_id: uuid.UUID, now: datetime) -> Select[Any]:
    """(message id, read_at, claimed_at) of every message in the player's inbox."""
    live = and_(M.delivered_at.is_not(None), or_(M.expires_at.is_(None), M.expires_at > now))
    own = (
        select(R.message_id.label("id"), R.read_at, R.claimed_at)
        .join(M, M.id == R.message_id)
        .where(R.user_id == user_id, R.deleted_at.is_(None), live)
    )
    signed_up = select(User.created_at).where(User.id == user_id).scalar_subquery()
    untouched = select(M.id, null().label("read_at"), null().label("claimed_at")).where(
        M.audience == "everyone",
        live,
        or_(M.include_new_players, M.created_at >= signed_up),
        ~exists().where(R.message_id == M.id, R.user_id == user_id),
    )
    return union_all(own, untouched).subquery("inbox")


def list_inbox(
    session: Session,
    *,
    user_id: uuid.UUID,
    unread: bool | None,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> InboxPage:
    """The player's messages, newest first (``unread=true``: only unread ones), and how many
    are unread in all."""
    inbox = _inbox(user_id, now)
    query = (
        select(M, inbox.c.read_at, inbox.c.claimed_at)
        .join(inbox, inbox.c.id == M.id)
        .order_by(M.created_at.desc(), M.id.desc())
        .limit(limit + 1)
    )
    if unread is not None:
        query = query.where(inbox.c.read_at.is_(None) if unread else inbox.c.read_at.is_not(None))
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(tuple_(M.created_at, M.id) < (after.created_at, after.id))
    rows = session.execute(query).all()
    items = [InboxMessage(m, read_at, claimed_at) for m, read_at, claimed_at in rows[:limit]]
    more = len(rows) > limit
    next_cursor = Position(items[-1].message.created_at, items[-1].id).encode() if more else None
    unread_count = session.scalar(
        select(func.count()).select_from(inbox).where(inbox.c.read_at.is_(None))
    )
    return InboxPage(items, next_cursor, unread_count or 0)


def _lock_state(
    session: Session, *, user_id: uuid.UUID, message_id: uuid.UUID, now: datetime
) -> tuple[Message, MessageRecipient]:
    """The message and the player's state row of it, locked (made now for a broadcast the
    player had not touched); 404 when the message is not in their inbox."""
    message = session.get(Message, message_id)
    if message is None or message.delivered_at is None or not _may_see(session, message, user_id):
        raise NotFound("No such message in your inbox.", code="message_not_found")
    session.execute(
        insert_for(session, R.__table__)
        .values(user_id=user_id, message_id=message_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "message_id"])
    )
    state = session.scalars(
        select(R)
        .where(R.user_id == user_id, R.message_id == message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if state.deleted_at is not None:
        raise NotFound("No such message in your inbox.", code="message_not_found")
    return message, state


def _may_see(session: Session, message: Message, user_id: uuid.UUID) -> bool:
    if session.get(R, (user_id, message.id)) is not None:
        return True  # the deleted case is answered once the row is locked
    if message.audience != "everyone":
        return False
    if message.include_new_players:
        return True
    signed_up = session.scalar(select(User.created_at).where(User.id == user_id))
    return signed_up is not None and signed_up <= message.created_at


def read(
    session: Session, *, user_id: uuid.UUID, message_id: uuid.UUID, now: datetime
) -> InboxMessage:
    message, state = _lock_state(session, user_id=user_id, message_id=message_id, now=now)
    state.read_at = state.read_at or now
    return InboxMessage(message, state.read_at, state.claimed_at)


def begin_claim(
    session: Session, *, user_id: uuid.UUID, message_id: uuid.UUID, now: datetime
) -> InboxMessage:
    """Mark the message claimed by the player (and read), under its state row's lock: the
    caller grants the attachments in the same unit of work. 409 ``already_claimed``, 410
    ``expired``, 409 ``nothing_to_claim``."""
    message, state = _lock_state(session, user_id=user_id, message_id=message_id, now=now)
    if state.claimed_at is not None:
        raise Conflict("This message's attachments were claimed already.", code="already_claimed")
    if message.expires_at is not None and message.expires_at <= now:
        raise Gone("This message expired; its attachments can no longer be claimed.",
                   code="expired", expired_at=message.expires_at.isoformat())  # fmt: skip
    if not message.attachments:
        raise Conflict("This message has nothing to claim.", code="nothing_to_claim")
    state.claimed_at = now
    state.read_at = state.read_at or now
    return InboxMessage(message, state.read_at, state.claimed_at)


def delete(
    session: Session, *, user_id: uuid.UUID, message_id: uuid.UUID, force: bool, now: datetime
) -> None:
    """Remove the message from the player's inbox. Unclaimed attachments of a live message
    are lost only with ``force`` (409 ``unclaimed_attachments`` otherwise)."""
    message, state = _lock_state(session, user_id=user_id, message_id=message_id, now=now)
    claimable = (
        message.attachments
        and state.claimed_at is None
        and (message.expires_at is None or message.expires_at > now)
    )
    if claimable and not force:
        raise Conflict(
            "This message has attachments not claimed yet: claim them, or delete with "
            "?force=true to give them up.",
            code="unclaimed_attachments",
        )
    state.deleted_at = now


def create_message(
    session: Session,
    *,
    kind: str,
    subject: str,
    body: str,
    now: datetime,
    audience: str = "players",
    recipient_ids: list[uuid.UUID] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    data: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
    include_new_players: bool = False,
    sender_id: uuid.UUID | None = None,
    source_key: str | None = None,
) -> uuid.UUID | None:
    """Store a message, not yet delivered. With a ``source_key`` it is made once: a repeat
    returns None."""
    message_id = new_id()
    values = {
        "id": message_id,
        "kind": kind,
        "subject": subject,
        "body": body,
        "data": data or {},
        "attachments": attachments or [],
        "audience": audience,
        "recipient_ids": None if recipient_ids is None else [str(u) for u in recipient_ids],
        "include_new_players": include_new_players,
        "expires_at": expires_at,
        "source_key": source_key,
        "sender_id": sender_id,
        "created_at": now,
    }
    inserted = session.execute(
        insert_for(session, M.__table__)
        .values(values)
        .on_conflict_do_nothing(index_elements=["source_key"])
        .returning(M.__table__.c.id)
    ).scalar()
    return inserted


def deliver(
    session: Session,
    *,
    message_id: uuid.UUID,
    now: datetime,
    recipients: Select[Any] | None = None,
) -> bool:
    """Put a stored message in its players' inboxes: named players get their state rows
    (``recipients``, a select of user ids, instead of the stored list when given), a
    broadcast gets none. Once: False when it was delivered already."""
    message = session.scalar(
        select(M).where(M.id == message_id, M.delivered_at.is_(None)).with_for_update()
    )
    if message is None:
        return False
    if recipients is None and message.audience == "players":
        ids = [uuid.UUID(u) for u in message.recipient_ids or []]
        recipients = select(User.id).where(User.id.in_(ids)) if ids else None
    if recipients is not None:
        rows = recipients.add_columns(literal(message.id), literal(now)).subquery()
        session.execute(
            insert_for(session, R.__table__)
            .from_select(["user_id", "message_id", "created_at"], select(rows))
            .on_conflict_do_nothing(index_elements=["user_id", "message_id"])
        )
    message.delivered_at = now
    return True


def undelivered(session: Session, *, now: datetime) -> list[uuid.UUID]:
    """Messages whose delivery job has not run for a while (Redis lost it, a worker died)."""
    return list(
        session.scalars(
            select(M.id)
            .where(M.delivered_at.is_(None), M.created_at <= now - REDRIVE_AFTER)
            .order_by(M.created_at)
        )
    )


def unknown_users(session: Session, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    known = set(session.scalars(select(User.id).where(User.id.in_(user_ids))))
    return [u for u in user_ids if u not in known]
