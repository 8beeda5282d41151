"""Grants and spends by trusted game servers (API keys with the ``grants:write`` scope).

Each call carries the server's Idempotency-Key, and its effects are keyed on it in SQL
(entitlement ``grant_key`` and ledger ``reference`` ``server:<api key id>:<key hash>:...``), so a
retried call changes nothing even after the replay record has expired. Every call is audited
with the API key as the actor.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.commerce import catalog
from player_platform.errors import Invalid, NotFound
from player_platform.identity.models import User
from player_platform.security.api_keys import ServerCaller
from player_platform.wallet import rewards
from player_platform.wallet import service as wallet
from player_platform.wallet.models import Entitlement

SCOPE = "grants:write"
ACTIONS = ("grant", "spend")


@dataclass(frozen=True)
class ServerGrant:
    user_id: uuid.UUID
    action: str
    sku_id: str
    quantity: int
    entitlements: list[Entitlement] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)


def apply_server_grant(
    session: Session,
    *,
    caller: ServerCaller,
    idempotency_key: str,
    user_id: uuid.UUID,
    action: str,
    sku_id: str,
    quantity: int,
    reason: str | None,
    origin: Origin,
    now: datetime,
) -> ServerGrant:
    """Grant ``quantity`` x ``sku_id`` (bundles open, durables become entitlements, consumables
    are credited) or spend a consumable (409 insufficient_funds / wallet_in_debt)."""
    caller.require_scope(SCOPE)
    if session.get(User, user_id) is None:
        raise NotFound("No such player.", code="user_not_found")
    sku = catalog.get_sku(session, sku_id)
    effect = f"server:{caller.key_id}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
    reason = reason or f"server:{caller.name}"[:255]
    if action == "spend":
        if sku.type != "consumable":
            raise Invalid("Only consumables are spent.", code="not_a_consumable")
        spent = wallet.spend(
            session,
            user_id=user_id,
            sku_id=sku_id,
            quantity=quantity,
            reason=reason,
            reference=f"{effect}:spend",
            now=now,
        )
        result = ServerGrant(user_id, action, sku_id, quantity, balances={sku_id: spent.balance})
    else:
        granted = rewards.grant_sku(
            session,
            effect=effect,
            user_id=user_id,
            sku=sku,
            quantity=quantity,
            reason=reason,
            now=now,
        )
        result = ServerGrant(
            user_id, action, sku_id, quantity, granted.entitlements, granted.balances
        )
    record(
        session,
        actor_id=None,
        action=f"wallet.server_{action}",
        resource_type="user",
        resource_id=user_id,
        origin=origin,
        new={
            "api_key_id": str(caller.key_id),
            "api_key_name": caller.name,
            "sku_id": sku_id,
            "quantity": quantity,
            "reason": reason,
            "entitlements": sorted(e.sku_id for e in result.entitlements),
            "balances": result.balances,
        },
    )
    return result
