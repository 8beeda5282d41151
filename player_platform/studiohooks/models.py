"""Studio webhooks: the endpoints admins configure, the events (an outbox row written in the
transaction of the change that caused it) and one delivery per event and endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, Timestamps, created_at_column, new_id

EVENT_TYPES = ("order.fulfilled", "key.delivered", "order.refunded", "stock.low")
# pending -> delivered, or -> dead after PP_STUDIO_WEBHOOK_MAX_ATTEMPTS (an admin's replay makes
# it pending again).
DELIVERY_STATUSES = ("pending", "delivered", "dead")


class StudioEndpoint(Timestamps, Base):
    __tablename__ = "studio_webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(default=list)
    description: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(Text)  # sealed by the vault; shown once at creation
    active: Mapped[bool] = mapped_column(default=True)


class StudioEvent(Base):
    __tablename__ = "studio_webhook_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = created_at_column(index=True)


class StudioDelivery(Base):
    __tablename__ = "studio_webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_studio_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("studio_webhook_events.id", ondelete="CASCADE")
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("studio_webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]  # the claim of the attempt in flight
    last_status: Mapped[int | None]  # the receiver's last HTTP status
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at_column()
    delivered_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]
