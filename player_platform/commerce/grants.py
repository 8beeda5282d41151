"""Grants of a SKU outside a purchase (a game server's grant, an inbox attachment): bundles
open, consumables are credited to the wallet, anything else becomes an entitlement. Each effect
is keyed on ``effect`` in SQL (entitlement ``grant_key``, ledger ``reference``), so a repeat
grants nothing."""

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


@dataclass
class Granted:
    entitlements: list[Entitlement] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)


def check_grantable(session: Session, sku: Sku) -> None:
    """Game keys need an order and the key pool: 422 ``not_grantable``."""
    if any(part.type == "game_key" for part, _ in catalog.expand(session, sku, 1)):
        raise Invalid(
            "Game keys are delivered from the key pool with an order, not granted.",
            code="not_grantable",
        )


def grant_sku(
    session: Session,
    *,
    user_id: uuid.UUID,
    sku: Sku,
    quantity: int,
    effect: str,
    reason: str,
    now: datetime,
    into: Granted | None = None,
) -> Granted:
    """Grant ``quantity`` x ``sku`` once per ``effect``; adds to ``into`` when given."""
    check_grantable(session, sku)
    granted = into if into is not None else Granted()
    deliverables = catalog.expand(session, sku, quantity)
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


def grant_sku_each(
    session: Session,
    *,
    sku: Sku,
    quantity: int,
    grants: list[tuple[uuid.UUID, str]],
    reason: str,
    now: datetime,
) -> None:
    """``grant_sku`` for a batch of ``(user_id, effect)`` in a few statements, whatever its
    size: the same keys (so each effect still grants once) and one ledger entry per effect."""
    check_grantable(session, sku)
    credits, durables = [], []
    for part, count in sorted(catalog.expand(session, sku, quantity), key=lambda x: x[0].sku_id):
        for user_id, effect in grants:
            if part.type == "consumable":
                reference = f"{effect}:grant:{part.sku_id}"
                credits.append(wallet.Credit(user_id, part.sku_id, count, reference))
            else:
                key = f"{effect}:{part.sku_id}"
                durables.append({"user_id": user_id, "sku_id": part.sku_id, "grant_key": key})
    wallet.credit_many(session, credits=credits, reason=reason, now=now)
    wallet.grant_entitlements(session, grants=durables, order_id=None, now=now)
