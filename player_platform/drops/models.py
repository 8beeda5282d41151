"""Twitch Drops: campaigns, every entitlement Twitch granted (one row each, keyed on its
entitlement id) and per-player counts of what a campaign has granted."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, Timestamps, created_at_column, new_id

# A drop: waiting (its Twitch user is not linked yet) -> granted | refused (limit, cap, window).
DROP_STATUSES = ("waiting", "granted", "refused")
# A granted drop's report to Twitch: pending -> fulfilled, or rejected (Twitch refused the id).
FULFILMENT_STATUSES = ("pending", "fulfilled", "rejected")


class DropCampaign(Base, Timestamps):
    __tablename__ = "drop_campaigns"
    __table_args__ = (
        CheckConstraint("per_player_limit >= 1", name="limit_positive"),
        CheckConstraint("total_cap IS NULL OR granted_count <= total_cap", name="within_cap"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # The Twitch benefit (drop) ids whose entitlements this campaign rewards.
    benefit_ids: Mapped[list[str]]
    reward_sku_id: Mapped[str] = mapped_column(ForeignKey("skus.sku_id"))
    reward_quantity: Mapped[int] = mapped_column(default=1)
    per_player_limit: Mapped[int] = mapped_column(default=1)
    total_cap: Mapped[int | None]
    # Granted so far; the campaign row is locked while it moves (the cap holds under load).
    granted_count: Mapped[int] = mapped_column(default=0)
    twitch_organization_id: Mapped[str | None] = mapped_column(String(64))
    twitch_category_id: Mapped[str | None] = mapped_column(String(64))
    twitch_campaign_id: Mapped[str | None] = mapped_column(String(64))
    # EventSub: requested -> webhook_callback_verification_pending -> enabled, or a revocation
    # reason (authorization_revoked, notification_failures_exceeded, ...).
    subscription_id: Mapped[str | None] = mapped_column(String(64), index=True)
    subscription_status: Mapped[str | None] = mapped_column(String(64))
    subscription_error: Mapped[str | None] = mapped_column(Text)
    subscription_revoked_at: Mapped[datetime | None]


class Drop(Base):
    __tablename__ = "drops"
    __table_args__ = (
        UniqueConstraint("entitlement_id"),
        Index(
            "ix_drops_waiting_twitch_user",
            "twitch_user_id",
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
        Index(
            "ix_drops_fulfilment_pending",
            "fulfil_after",
            postgresql_where=text("fulfilment = 'pending'"),
            sqlite_where=text("fulfilment = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    entitlement_id: Mapped[str] = mapped_column(String(64))
    benefit_id: Mapped[str] = mapped_column(String(64))
    twitch_user_id: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("drop_campaigns.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    refusal: Mapped[str | None] = mapped_column(String(32))
    # When Twitch says the viewer earned it (the entitlement's created_at / timestamp).
    earned_at: Mapped[datetime]
    received_at: Mapped[datetime] = created_at_column()
    granted_at: Mapped[datetime | None]
    fulfilment: Mapped[str | None] = mapped_column(String(16))
    # A fulfilment run claims a drop by moving this forward; past it, another run may retry.
    fulfil_after: Mapped[datetime | None]
    fulfil_attempts: Mapped[int] = mapped_column(default=0)
    fulfilled_at: Mapped[datetime | None]
    fulfil_error: Mapped[str | None] = mapped_column(String(32))


class DropPlayerCount(Base):
    """How many drops of a campaign a player was granted: the per-player limit's counter."""

    __tablename__ = "drop_player_counts"

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("drop_campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    granted: Mapped[int] = mapped_column(default=0)
