"""Catalog and orders: SKUs with prices per currency, one order state machine for every
provider, refund requests, and the cursors of provider reports we poll."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from player_platform.db import Base, JSONType, Timestamps, created_at_column, new_id

SKU_TYPES = ("durable", "consumable", "bundle", "game_key")
PROVIDERS = ("steam", "epic", "stripe")
# pending -> verified -> fulfilled, or failed; fulfilled <-> backordered (a game key out of
# stock); verified/fulfilled/backordered -> refunded, partially_refunded (-> refunded) or
# charged_back.
ORDER_STATUSES = (
    "pending",
    "verified",
    "fulfilled",
    "backordered",
    "failed",
    "refunded",
    "partially_refunded",
    "charged_back",
)
# pending -> denied, or -> refunding (approved; the provider refund is being asked) -> approved.
REFUND_STATUSES = ("pending", "refunding", "approved", "denied")


class Sku(Timestamps, Base):
    __tablename__ = "skus"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    sku_id: Mapped[str] = mapped_column(String(64), unique=True)  # the studio's own stable id
    type: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    prices: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"USD": 499}: minor units
    platforms: Mapped[list[str]] = mapped_column(default=list)
    tags: Mapped[list[str]] = mapped_column(default=list)
    contents: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSONType
    )  # bundles: [{"sku_id", "quantity"}]
    steam_item_id: Mapped[int | None] = mapped_column(unique=True)
    epic_catalog_item_ids: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)


class Order(Timestamps, Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("provider", "provider_order_id"),
        CheckConstraint("total >= 0", name="total_not_negative"),
        Index("ix_orders_created_at", "created_at"),  # analytics ranges
        Index("ix_orders_refunded_at", "refunded_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(24), default="pending", index=True)
    provider: Mapped[str] = mapped_column(String(16))
    # Steam: our orderid; Stripe: the PaymentIntent id; Epic: account id and catalog items.
    provider_order_id: Mapped[str | None] = mapped_column(String(255))
    provider_data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # transid, steamid, ...
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int]
    refunded_amount: Mapped[int] = mapped_column(default=0)
    failure_reason: Mapped[str | None] = mapped_column(String(255))
    flagged_at: Mapped[datetime | None]  # a receipt replayed by another account: review it
    verified_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        order_by="OrderItem.position",
        lazy="selectin",
    )


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (UniqueConstraint("order_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int]
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.sku_id"), index=True)
    quantity: Mapped[int]
    amount: Mapped[int]  # the line total, minor units of the order's currency
    refunded: Mapped[bool] = mapped_column(default=False)

    order: Mapped[Order] = relationship(back_populates="items")


class RefundRequest(Timestamps, Base):
    __tablename__ = "refund_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    decided_at: Mapped[datetime | None]


class ProviderCursor(Base):
    """Where polling of a provider report resumes (Steam GetReport: the last row's time)."""

    __tablename__ = "provider_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = created_at_column()
