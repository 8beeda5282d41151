"""Inbound webhook events: verified, stored and committed before the provider gets its 2xx."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, created_at_column, new_id

# pending -> processed, or -> failed after PP_WEBHOOK_MAX_ATTEMPTS; an admin's replay makes a
# failed event pending again.
STATUSES = ("pending", "processed", "failed")


class WebhookEvent(Base):
    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = created_at_column(index=True)
    processed_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
