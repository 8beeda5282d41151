"""What the studio's systems hear about orders (studio webhooks): the order as a payload."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from player_platform.commerce.models import Order
from player_platform.db import iso_or_none
from player_platform.jobs import Jobs
from player_platform.studiohooks import service as studiohooks


def emit_order(session: Session, *, jobs: Jobs, event_type: str, order: Order) -> None:
    """Emit ``event_type`` (order.fulfilled, order.refunded) for ``order`` in this transaction."""
    studiohooks.emit(session, event_type, order_payload(order), jobs=jobs)


def order_payload(order: Order) -> dict[str, Any]:
    return {
        "order_id": str(order.id),
        "user_id": str(order.user_id),
        "status": order.status,
        "provider": order.provider,
        "currency": order.currency,
        "total": order.total,
        "refunded_amount": order.refunded_amount,
        "items": [
            {"sku_id": i.sku_id, "quantity": i.quantity, "amount": i.amount, "refunded": i.refunded}
            for i in order.items
        ],
        "fulfilled_at": iso_or_none(order.fulfilled_at),
        "refunded_at": iso_or_none(order.refunded_at),
    }
