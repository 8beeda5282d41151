"""Entitlements (durable things a player owns) and wallets of consumables with their
append-only ledger: balance = sum of entries, never negative."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, created_at_column, new_id

ENTITLEMENT_STATUSES = ("active", "revoked")
# transfer: an account merge moved the balance to the surviving account.
CHANGE_TYPES = ("grant", "spend", "refund", "clawback", "adjustment", "transfer")


class Entitlement(Base):
    __tablename__ = "entitlements"
    __table_args__ = (UniqueConstraint("grant_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.sku_id"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    # What granted it, unique: "order:<id>:<sku>", "server:<key id>:<Idempotency-Key>", ...
    grant_key: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    granted_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(255))


class Wallet(Base):
    """One balance per user and consumable SKU. Spends lock this row (SELECT ... FOR UPDATE)."""

    __tablename__ = "wallets"
    __table_args__ = (
        UniqueConstraint("user_id", "sku_id"),
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("debt >= 0", name="debt_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.sku_id"), index=True)
    balance: Mapped[int] = mapped_column(default=0)
    # What a clawback could not take back; spends are refused until later grants settle it.
    debt: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = created_at_column()


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("reference"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    wallet_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("wallets.id", ondelete="CASCADE"), index=True
    )
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.sku_id"), index=True)
    change_type: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int]  # signed: grants add, spends and clawbacks subtract
    balance_after: Mapped[int]
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str | None] = mapped_column(String(255))
    # Natural key of the effect ("order:<id>:grant:<sku>"): a second attempt inserts nothing.
    reference: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at_column(index=True)
