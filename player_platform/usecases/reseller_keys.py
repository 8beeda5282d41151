"""A reseller collects the codes of its bulk order (commerce/resellers.py) with its API key.

Resellers resell codes, so they get them in clear, each one revealed through the key store
(keys/store.py: stamped, audited with the caller's IP) like a player's reveal. Only the codes
already delivered are listed: a line still waiting for stock shows up once it is complete.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from player_platform.audit.service import Origin
from player_platform.commerce import resellers
from player_platform.commerce.models import Order
from player_platform.errors import NotFound
from player_platform.keys import store
from player_platform.security.api_keys import ServerCaller
from player_platform.security.vault import Vault


def order_codes(
    session: Session,
    *,
    vault: Vault,
    caller: ServerCaller,
    order_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> list[dict[str, Any]]:
    """The delivered codes of one of the caller's reseller orders (404 for another's)."""
    caller.require_scope(resellers.SCOPE)
    order = session.get(Order, order_id)
    if order is None or order.provider != resellers.PROVIDER or order.user_id != caller.owner_id:
        raise NotFound("No such order.", code="order_not_found")
    revealed = []
    for key in store.of_order(session, order_id=order.id):
        key, code = store.reveal(
            session, vault=vault, user_id=order.user_id, key_id=key.id, origin=origin, now=now
        )
        revealed.append(
            {
                "id": key.id,
                "sku_id": key.sku_id,
                "platform": key.platform,
                "code": code,
                "revealed_at": key.revealed_at,
            }
        )
    return revealed
