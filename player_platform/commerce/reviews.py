"""Held orders (fraud.py) reviewed by an admin: approve delivers them through orders.fulfil,
without the rules that held them; cancel gives the money back with the provider, then marks
the order refunded (commerce/flows.py calls the provider between the two steps). Both audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.commerce import fraud, orders
from player_platform.commerce.models import Order
from player_platform.errors import Conflict, InvalidState
from player_platform.jobs import Jobs
from storage import Storage


def held_order(session: Session, *, order_id: uuid.UUID) -> Order:
    """The locked order, which must be ``held`` (409 order_not_held)."""
    order = orders.lock(session, order_id)
    if order.status != "held":
        raise InvalidState(f"This order is {order.status}, not held.", code="order_not_held")
    return order


def approve(
    session: Session,
    *,
    order_id: uuid.UUID,
    rules: fraud.Rules,
    storage: Storage,
    jobs: Jobs,
    actor_id: uuid.UUID,
    reason: str,
    origin: Origin,
    now: datetime,
) -> Order:
    """Deliver a held order; still 409 kyc_required while the buyer's identity must be
    verified first (PP_KYC_AMOUNT): an admin's approval does not replace that check."""
    order = held_order(session, order_id=order_id)
    if fraud.kyc_blocks(session, order=order, rules=rules):
        raise Conflict("Verify the buyer's identity before delivery.", code="kyc_required")
    _audit(session, order, "order.approve", actor_id=actor_id, reason=reason, origin=origin)
    order.status = "verified"
    orders.fulfil(session, order=order, receipt={}, storage=storage, jobs=jobs, now=now)
    return order


def record_cancel(
    session: Session,
    *,
    order_id: uuid.UUID,
    jobs: Jobs,
    actor_id: uuid.UUID,
    reason: str,
    origin: Origin,
    now: datetime,
) -> Order:
    """After the provider refunded it: a held order is refunded (nothing was granted)."""
    order = orders.lock(session, order_id)
    if order.status != "held":  # a concurrent cancel recorded it first
        return order
    _audit(session, order, "order.cancel", actor_id=actor_id, reason=reason, origin=origin)
    order.status, order.refunded_amount, order.refunded_at, order.updated_at = (
        "refunded",
        order.total,
        now,
        now,
    )
    orders.notify(
        session, jobs=jobs, user_id=order.user_id, kind="order.refunded", order_id=order.id
    )
    return order


def _audit(
    session: Session,
    order: Order,
    action: str,
    *,
    actor_id: uuid.UUID,
    reason: str,
    origin: Origin,
) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        resource_type="order",
        resource_id=order.id,
        origin=origin,
        old={"status": order.status, "reasons": list(order.fraud_reasons)},
        new={"reason": reason},
    )
