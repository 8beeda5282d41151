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
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

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


# The inbox statements are built once, with these parameters: building the union of
# subqueries per request cost more CPU than PostgreSQL spent answering it.
USER, NOW = bindparam("user_id", type_=R.user_id.type), bindparam("now", type_=M.created_at.type)
AFTER = tuple_(
    bindparam("after_at", type_=M.created_at.type), bindparam("after_id", type_=M.id.type)
)


def _live() -> ColumnElement[bool]:
    return and_(M.delivered_at.is_not(None), or_(M.expires_at.is_(None), M.expires_at > NOW))


def _own() -> Select[Any]:
    """The player's state rows of live messages, joined to their message."""
    return (
        select(M, R.read_at, R.claimed_at)
        .join(R, R.message_id == M.id)
        .where(R.user_id == USER, R.deleted_at.is_(None), _live())
    )


def _untouched() -> Select[Any]:
    """Live broadcasts the player may see and has no state row of (all unread)."""
    signed_up = select(User.created_at).where(User.id == USER).scalar_subquery()
    never = cast(null(), R.read_at.type)  # typed: the branch is a subquery of a UNION
    return select(M, never.label("read_at"), never.label("claimed_at")).where(
        # Inline, not a parameter: a prepared statement's generic plan must still match the
        # partial index ix_messages_live_broadcast (a bound value made it scan every message).
        M.audience == literal_column("'everyone'"),
        _live(),
        or_(M.include_new_players, M.created_at >= signed_up),
        ~exists().where(R.message_id == M.id, R.user_id == USER),
    )


def _count(query: Select[Any]) -> Any:
    return query.with_only_columns(func.count(), maintain_column_froms=True).scalar_subquery()


# The player's unread state rows plus the untouched broadcasts, counted apart: each count is
# served by its own partial index (ix_message_recipients_unread, ix_messages_live_broadcast).
UNREAD_COUNT = select(_count(_own().where(R.read_at.is_(None))) + _count(_untouched()))


@cache
def _page(unread: bool | None, after: bool) -> Select[Any]:
    """A page of the inbox: each of the two sets read newest first up to ``n`` rows (the
    player's rows through their primary key, broadcasts through a partial index), the two
    short lists merged; no union over everything joined back to ``messages`` and sorted."""
    branches = [_own()]
    if unread is not None:
        branches[0] = branches[0].where(R.read_at.is_(None) if unread else R.read_at.is_not(None))
    if unread is not False:  # untouched broadcasts are unread
        branches.append(_untouched())
    if after:
        branches = [branch.where(tuple_(M.created_at, M.id) < AFTER) for branch in branches]
    newest, n = [M.created_at.desc(), M.id.desc()], bindparam("n")
    merged = union_all(
        *(select(b.order_by(*newest).limit(n).subquery()) for b in branches)
    ).subquery("inbox")
    message = aliased(M, merged)
    return (
        # The unread count rides on every row (computed once): one round trip less.
        select(message, merged.c.read_at, merged.c.claimed_at, UNREAD_COUNT.scalar_subquery())
        .order_by(message.created_at.desc(), message.id.desc())
        .limit(n)
    )


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
    params: dict[str, Any] = {"user_id": user_id, "now": now, "n": limit + 1}
    if cursor is not None:
        after = Position.decode(cursor)
        params |= {"after_at": after.created_at, "after_id": after.id}
    rows = session.execute(_page(unread, cursor is not None), params).all()
    items = [InboxMessage(m, read_at, claimed_at) for m, read_at, claimed_at, _ in rows[:limit]]
    more = len(rows) > limit
    next_cursor = Position(items[-1].message.created_at, items[-1].id).encode() if more else None
    if rows:
        return InboxPage(items, next_cursor, rows[0][-1])
    return InboxPage(items, None, session.execute(UNREAD_COUNT, params).scalar_one())


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
            # SQLite needs a WHERE in an INSERT ... SELECT ... ON CONFLICT (a parsing ambiguity).
            .from_select(["user_id", "message_id", "created_at"], select(rows).where(true()))
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
