"""Game-key jobs: an order's key fulfilment (workers.commerce.fulfil_game_keys calls it) and
the periodic retry of backordered and unfinished lines. Every run re-checks state under the
order lock, so duplicates and re-runs after a killed worker deliver nothing twice."""

from __future__ import annotations

import logging
import uuid

from player_platform import platform
from player_platform.keys import fulfilment

log = logging.getLogger(__name__)


def fulfil_order(order_id: str) -> None:
    fulfilment.fulfil_order(platform.current().key_fulfilment, uuid.UUID(order_id))


def retry_backorders() -> dict[str, int]:
    """Serve again every order whose keys are backordered, pending at a supplier, or left
    mid-run by a dead worker."""
    outcome = fulfilment.retry(platform.current().key_fulfilment)
    log.info("key backorders retried", extra=outcome)
    return outcome
