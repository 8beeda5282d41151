"""What a refund or chargeback does to the keys an order bought (invariant 7), as the
commerce reversal hook (commerce.orders.REVERSAL_HOOKS; the composition root installs it).

A key its owner revealed is revoked (shown ``burned``: the code may be in use). An unrevealed
key goes back to its pool when the studio's policy says so (PP_KEYS_RETURN_UNREVEALED), else
it is revoked too; one never delivered (its line was still short) always goes back. Lines
still waiting are cancelled, so nothing more is bought for them.
Exactly once: a repeat finds no key still held by the order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from player_platform.commerce.models import Order
from player_platform.jobs import Jobs
from player_platform.keys import inventory, store
from player_platform.keys.models import GameKey, KeyLine


def undo_order_keys(
    session: Session,
    *,
    order: Order,
    sku_ids: set[str],
    kind: str,
    jobs: Jobs,
    now: datetime,
    return_unrevealed: bool,
) -> dict[str, Any]:
    """Revoke or return the order's keys of ``sku_ids``; what was done, for the audit entry."""
    session.execute(
        update(KeyLine)
        .where(
            KeyLine.order_id == order.id,
            KeyLine.sku_id.in_(sorted(sku_ids)),
            KeyLine.status != "delivered",
        )
        .values(status="cancelled", updated_at=now)
    )
    keys = session.scalars(
        select(GameKey)
        .where(
            GameKey.order_id == order.id,
            GameKey.sku_id.in_(sorted(sku_ids)),
            GameKey.status.in_(("assigned", "delivered")),
        )
        .order_by(GameKey.id)
        .with_for_update()
    ).all()
    outcome = {"burned": 0, "returned": 0, "revoked": 0}
    for key in keys:
        if key.delivered_at is None or (key.revealed_at is None and return_unrevealed):
            store.release(key, now=now)
            outcome["returned"] += 1
        else:
            outcome["burned" if key.revealed_at else "revoked"] += 1
            store.revoke(key, reason=kind, now=now)
    inventory.check_stock(session, pool_ids={k.pool_id for k in keys}, jobs=jobs, now=now)
    return {"keys": outcome} if keys else {}
