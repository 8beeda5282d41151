"""Supplier-test helpers: a game-key SKU routed to both suppliers, and paid orders created
in bulk (each as a Stripe checkout would leave it: fulfilled, its key line still to serve)."""

from __future__ import annotations

import uuid

from sqlalchemy import insert

from player_platform.commerce.models import Order, OrderItem
from player_platform.db import utcnow
from player_platform.platform import Platform
from player_platform.suppliers import offers
from tests import factories


def seed_game(platform: Platform, *routes: tuple[str, str, int], **values) -> None:
    """The ``game`` SKU (Steam key) sold through ``routes``: (supplier, product id, priority)."""
    with platform.db.unit_of_work() as session:
        factories.sku(
            session,
            **{"sku_id": "game", "type": "game_key", "name": "Game", "prices": {"USD": 1999},
               "platforms": ["steam"], **values},
        )  # fmt: skip
        for supplier, product_id, priority in routes:
            offers.set_route(
                session, sku_id="game", platform="steam", supplier=supplier,
                product_id=product_id, priority=priority,
            )  # fmt: skip


def paid_orders(platform: Platform, count: int, *, sku_id: str = "game") -> list[uuid.UUID]:
    """``count`` paid orders of one key each, by one player."""
    now = utcnow()
    with platform.db.unit_of_work() as session:
        user_id = factories.player(session, platform).user_id
        ids = [uuid.uuid4() for _ in range(count)]
        session.execute(
            insert(Order),
            [
                {"id": i, "user_id": user_id, "status": "fulfilled", "provider": "stripe",
                 "provider_order_id": f"pi_{i.hex}", "currency": "USD", "total": 1999,
                 "refunded_amount": 0, "provider_data": {}, "verified_at": now,
                 "fulfilled_at": now, "created_at": now, "updated_at": now}
                for i in ids
            ],
        )  # fmt: skip
        session.execute(
            insert(OrderItem),
            [{"id": uuid.uuid4(), "order_id": i, "position": 0, "sku_id": sku_id,
              "quantity": 1, "amount": 1999, "refunded": False} for i in ids],
        )  # fmt: skip
    return ids
