"""The mail outbox and the one-time tokens that mailed links carry."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, created_at_column, new_id

MAIL_STATUSES = ("pending", "sent", "failed")
TOKEN_PURPOSES = ("verify_email", "password_reset")


class Mail(Base):
    """One mail to send, exactly once after a success: the job leases it, sends, marks it sent.

    ``envelope`` holds the rendered mail (address, subject, text, HTML) sealed by the vault: a
    link in it is a credential. It is cleared once the mail is sent or given up."""

    __tablename__ = "mails"
    __table_args__ = (Index("ix_mails_status_created_at", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    template: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    envelope: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None]


class EmailToken(Base):
    """A link's token, kept as a keyed hash (the token itself is only in the mail)."""

    __tablename__ = "email_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
