"""Grant a SKU outside a purchase (a game server's grant, a drop): bundles open, durables
become entitlements and consumables are credited, each once per ``effect`` key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from player_platform.commerce import catalog
from player_platform.commerce.models import Sku
from player_platform.errors import Invalid
from player_platform.wallet import service as wallet
from player_platform.wallet.models import Entitlement


@dataclass(frozen=True)
class Granted:
    entitlements: list[Entitlement] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)


def grant_sku(
    session: Session,
    *,
    effect: str,
    user_id: uuid.UUID,
    sku: Sku,
    quantity: int,
    reason: str,
    now: datetime,
) -> Granted:
    """Grant ``quantity`` x ``sku``; a repeat with the same ``effect`` grants nothing more."""
    deliverables = catalog.expand(session, sku, quantity)
    if any(part.type == "game_key" for part, _ in deliverables):
        raise Invalid(
            "Game keys are delivered from the key pool with an order, not granted directly.",
            code="not_grantable",
        )
    granted = Granted()
    for part, count in sorted(deliverables, key=lambda line: line[0].sku_id):
        if part.type == "consumable":
            credited = wallet.credit(
                session,
                user_id=user_id,
                sku_id=part.sku_id,
                quantity=count,
                reason=reason,
                reference=f"{effect}:grant:{part.sku_id}",
                now=now,
            )
            granted.balances[part.sku_id] = credited.balance
        else:
            granted.entitlements.append(
                wallet.grant_entitlement(
                    session,
                    user_id=user_id,
                    sku_id=part.sku_id,
                    grant_key=f"{effect}:{part.sku_id}",
                    order_id=None,
                    now=now,
                )
            )
    return granted
