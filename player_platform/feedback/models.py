"""Feedback reports and their attachments (files in object storage)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from player_platform.db import Base, Timestamps, created_at_column, new_id

CATEGORIES = ("bug", "abuse", "suggestion")
STATUSES = ("new", "triaged", "closed")


class Feedback(Timestamps, Base):
    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_status_created_at", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    category: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16), default="new")
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str | None] = mapped_column(Text)

    attachments: Mapped[list[FeedbackAttachment]] = relationship(
        back_populates="feedback", cascade="all, delete-orphan", order_by="FeedbackAttachment.id"
    )


class FeedbackAttachment(Base):
    __tablename__ = "feedback_attachments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    feedback_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = created_at_column()

    feedback: Mapped[Feedback] = relationship(back_populates="attachments")
