"""Messages and each player's state of one (read, claimed, deleted).

A message to everyone is one ``messages`` row and no recipient rows: a player's state row is
created the first time they read, claim or delete it. A message to named players gets its
recipient rows when it is delivered (by a job)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, JSONType, created_at_column, new_id

AUDIENCES = ("players", "everyone")
LIVE_BROADCAST = "audience = 'everyone' AND delivered_at IS NOT NULL"
UNREAD = "read_at IS NULL AND deleted_at IS NULL"


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("source_key"),
        # The live broadcasts an inbox adds to the player's own rows: few, newest first.
        Index(
            "ix_messages_live_broadcast",
            "created_at",
            "id",
            postgresql_where=text(LIVE_BROADCAST),
            sqlite_where=text(LIVE_BROADCAST),
        ),
        Index(
            "ix_messages_undelivered",
            "created_at",
            postgresql_where=text("delivered_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # admin, season_reward, or a notice kind (order.refunded, ugc.removed, ...)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # What a client needs to link the message to its subject (order_id, ugc_id, season_id).
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # [{"type": "sku"|"currency", "sku_id": ..., "quantity": n}]: granted once per player.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    audience: Mapped[str] = mapped_column(String(16))
    # Named players of an admin message, until (and after) delivery made their rows.
    recipient_ids: Mapped[list[str] | None] = mapped_column(JSONType)
    # A broadcast shows to players who signed up after it only when this says so.
    include_new_players: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime | None]
    # Natural key of a system message ("season:<id>:band:<n>", "notice:<key>"): made once.
    source_key: Mapped[str | None] = mapped_column(String(300))
    sender_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
    delivered_at: Mapped[datetime | None]


class MessageRecipient(Base):
    """One player's state of one message; made at delivery (named players) or lazily on the
    first read, claim or delete (broadcasts)."""

    __tablename__ = "message_recipients"
    __table_args__ = (
        # The unread count reads only the player's unread rows.
        Index(
            "ix_message_recipients_unread",
            "user_id",
            postgresql_where=text(UNREAD),
            sqlite_where=text(UNREAD),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    read_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
