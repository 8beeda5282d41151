"""Suppliers' side of the store: which supplier product stands for our SKU (and in what order
they are asked), their offers as last synced, and every order we asked a supplier for."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, Timestamps, new_id

# asking: sent or about to be (the outcome may be unknown); placed: the supplier holds it;
# refused / failed: it took no money; absent: looked up after an unknown outcome and not there.
ORDER_STATUSES = ("asking", "placed", "refused", "failed", "absent")
OPEN_ORDER_STATUSES = ("asking", "placed")


class SupplierProduct(Timestamps, Base):
    """Our SKU (on one platform) as one supplier's product; lower priority is asked first."""

    __tablename__ = "supplier_products"
    __table_args__ = (UniqueConstraint("sku_id", "platform", "supplier"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    sku_id: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    supplier: Mapped[str] = mapped_column(String(32))
    product_id: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(default=100)


class SupplierOffer(Base):
    """A supplier product's price (EUR cents for one key) and stock at the last sync."""

    __tablename__ = "supplier_offers"

    supplier: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    price_cents: Mapped[int]
    quantity: Mapped[int]
    synced_at: Mapped[datetime]


class SupplierOrderRecord(Timestamps, Base):
    """Written before a buy goes out, so a retry or a crash asks the same supplier about the
    same order reference before any other supplier is asked (never two purchases)."""

    __tablename__ = "supplier_orders"
    __table_args__ = (
        UniqueConstraint("order_ref", "supplier"),
        Index("ix_supplier_orders_external", "supplier", "external_order_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_ref: Mapped[str] = mapped_column(String(128))
    supplier: Mapped[str] = mapped_column(String(32))
    product_id: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="asking")
    external_order_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(String(255))
