"""The key warehouse: pools per SKU and platform, sealed keys, and each order line's delivery.

A key is ``available`` in its pool, ``assigned`` once claimed for an order line or a drop,
``delivered`` once its owner was told, ``revoked`` for good (a refund, an admin): a revoked
key is never sold again. A key revoked after its owner revealed it shows as ``burned``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, Timestamps, new_id

KEY_PLATFORMS = ("steam", "epic", "gog", "other")
KEY_STATUSES = ("available", "assigned", "delivered", "revoked")
# pending: not served yet; purchasing: a supplier was asked (the same order_ref is asked
# again after a crash); supplier_pending: the supplier will deliver later (collect, webhook);
# backordered: nothing anywhere, retried periodically; delivered; cancelled: refunded first.
LINE_STATUSES = (
    "pending",
    "purchasing",
    "supplier_pending",
    "backordered",
    "delivered",
    "cancelled",
)


class KeyPool(Timestamps, Base):
    __tablename__ = "key_pools"
    __table_args__ = (
        UniqueConstraint("sku_id", "platform"),
        CheckConstraint("low_stock_threshold >= 0", name="threshold_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.sku_id"))
    platform: Mapped[str] = mapped_column(String(16))
    low_stock_threshold: Mapped[int] = mapped_column(default=10)
    # Set when available stock fell to the threshold or below (the alert fired), cleared when
    # it rose above again: one alert per crossing.
    low_stock_since: Mapped[datetime | None]


class GameKey(Timestamps, Base):
    __tablename__ = "game_keys"
    __table_args__ = (
        # The claim's scan: available keys of one SKU, oldest first.
        Index(
            "ix_game_keys_available",
            "sku_id",
            "created_at",
            postgresql_where=text("status = 'available'"),
            sqlite_where=text("status = 'available'"),
        ),
        # The low-stock check: available keys of one pool, counted up to the threshold.
        Index(
            "ix_game_keys_pool_available",
            "pool_id",
            postgresql_where=text("status = 'available'"),
            sqlite_where=text("status = 'available'"),
        ),
        Index("ix_game_keys_order_sku", "order_id", "sku_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    pool_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("key_pools.id"), index=True)
    sku_id: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    sealed_code: Mapped[str] = mapped_column(Text)  # Vault.seal: "kid:base64(nonce||ct)"
    vault_kid: Mapped[str] = mapped_column(String(64), index=True)  # rotation finds old ones
    # HMAC of the normalised code (Vault.keyed_hash): one row per code, sold or not, forever.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))  # the last 5 characters, for masked lists
    status: Mapped[str] = mapped_column(String(16), default="available", index=True)
    source: Mapped[str] = mapped_column(String(64), default="pool")  # pool or a supplier's name
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # What the key was handed out for when not an order: "drop:<campaign>:<player>".
    grant_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    assigned_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    revealed_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(64))


class KeyLine(Timestamps, Base):
    """The keys one order owes for one game_key SKU: what was delivered, what a supplier was
    asked under which ``order_ref``, what waits on a backorder. One row per (order, SKU)."""

    __tablename__ = "key_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "sku_id"),
        Index("ix_key_lines_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    sku_id: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # Bumped only after a supplier said "unavailable" (no money moved), so a retry after a
    # timeout or a crash re-asks the same supplier order: order_ref = "<line id>-<attempt>".
    attempt: Mapped[int] = mapped_column(default=0)
    purchase_quantity: Mapped[int] = mapped_column(default=0)
    supplier: Mapped[str | None] = mapped_column(String(64))
    external_order_id: Mapped[str | None] = mapped_column(String(128), index=True)
    reason: Mapped[str | None] = mapped_column(String(255))
    backordered_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    @property
    def order_ref(self) -> str:
        return f"{self.id}-{self.attempt}"
