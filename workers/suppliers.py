"""Supplier jobs: apply a stored Kinguin event (an order completed: its keys go to the order
line waiting on them) and pull supplier offers into ``supplier_offers``."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from player_platform import platform
from player_platform.db import utcnow
from player_platform.keys import fulfilment
from player_platform.suppliers import offers
from player_platform.suppliers.kinguin import NAME as KINGUIN
from workers.webhooks import process_event

log = logging.getLogger(__name__)


def process_kinguin_event(row_id: str) -> str:
    return process_event(row_id, apply_kinguin_event)


def apply_kinguin_event(session: Session, payload: dict[str, Any]) -> str:
    """``order.status`` completed: read the order's keys and hand them to fulfilment. Other
    statuses and ``product.update`` change nothing here: the fulfilment retry asks the chain,
    which reads the order's state, and the offer sync reads prices."""
    event = payload["body"]
    if payload["event"] != "order.status" or event.get("status") != "completed":
        return "nothing to apply"
    p = platform.current()
    order_ref = str(event.get("orderExternalId") or "")
    purchase = p.suppliers.collect(supplier=KINGUIN, external_order_id=order_ref)
    if purchase.status != "delivered":
        return f"order {purchase.status}"
    # The line knows Kinguin's order id, or only our reference when the answer was lost.
    for known_as in dict.fromkeys((purchase.external_order_id, order_ref)):
        gained = fulfilment.receive_supplier_keys(
            session,
            keeper=p.key_keeper,
            supplier=KINGUIN,
            external_order_id=str(known_as),
            codes=purchase.codes,
            now=utcnow(),
        )
        if gained:
            return f"{gained} keys delivered"
    return "no line waiting"


def sync_offers() -> dict[str, int]:
    p = platform.current()
    synced = offers.sync(p.db, p.suppliers.adapters)
    log.info("supplier offers synced", extra=synced)
    return synced
