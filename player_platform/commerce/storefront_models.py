"""The storefront's rows beside the orders: invoices with their gapless counter, and wishlists
with the alerts (back in stock, price drop) fanned out to the players who wish for a SKU."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, JSONType, created_at_column, new_id

ALERT_KINDS = ("back_in_stock", "price_drop")


class InvoiceCounter(Base):
    """The last number given in a series: its row is locked by the fulfilment transaction that
    takes the next one, so numbers are gapless (a SEQUENCE leaves gaps on rollback)."""

    __tablename__ = "invoice_counters"

    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("series", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), unique=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    series: Mapped[str] = mapped_column(String(32))
    number: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # [{sku_id, name, quantity, amount}]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    total: Mapped[int]  # what the buyer paid, minor units, tax included
    tax: Mapped[int]  # the tax the payment provider charged (0 when it reported none)
    issued_at: Mapped[datetime] = created_at_column()
    storage_key: Mapped[str | None] = mapped_column(String(255))  # set once the PDF is stored
    rendered_at: Mapped[datetime | None]


class WishlistItem(Base):
    __tablename__ = "wishlist_items"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    sku_id: Mapped[str] = mapped_column(
        ForeignKey("skus.sku_id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = created_at_column()


class WishlistAlert(Base):
    """One event worth telling wishlisters about, told to each of them once, in batches: the
    fan-out job resumes after ``cursor`` (the last user told)."""

    __tablename__ = "wishlist_alerts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.sku_id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]]
    cursor: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = created_at_column()
    done_at: Mapped[datetime | None]
