"""Orders: one state machine for every provider, fulfilment that grants once, and reversal
(refund, partial refund, chargeback) that undoes once.

    pending -> verified -> fulfilled          (or pending -> failed)
    verified/fulfilled -> refunded | partially_refunded | charged_back
    partially_refunded -> refunded | charged_back
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from player_platform.audit.service import SYSTEM, Origin, record
from player_platform.commerce import catalog
from player_platform.commerce.models import Order, OrderItem, Sku
from player_platform.db import insert_for
from player_platform.errors import Conflict, Invalid, NotFound
from player_platform.jobs import Jobs
from player_platform.messaging import notifications
from player_platform.pagination import Page, Position
from player_platform.wallet import service as wallet
from player_platform.wallet.models import Entitlement, LedgerEntry
from storage import Storage

PAID = ("verified", "fulfilled", "partially_refunded")
REVERSED = ("refunded", "charged_back")


@dataclass(frozen=True)
class Purchase:
    order: Order
    entitlements: list[Entitlement]
    payment: dict[str, Any] | None = None


def price_lines(
    session: Session, *, lines: list[tuple[str, int]], currency: str
) -> list[tuple[Sku, int, int]]:
    """(sku, quantity, line amount) for each requested line, at the catalog's price."""
    priced = []
    for sku_id, quantity in lines:
        sku = catalog.get_sku(session, sku_id, active_only=True)
        if currency not in sku.prices:
            raise Invalid(
                f"{sku_id} has no price in {currency}.",
                code="price_unavailable",
                errors={"currency": [f"No {currency} price for {sku_id}."]},
            )
        priced.append((sku, quantity, sku.prices[currency] * quantity))
    return priced


def create_order(
    session: Session,
    *,
    user_id: uuid.UUID,
    provider: str,
    currency: str,
    lines: list[tuple[Sku, int, int]],
    now: datetime,
    provider_order_id: str | None = None,
    provider_data: dict[str, Any] | None = None,
) -> Order | None:
    """A pending order; None when (provider, provider_order_id) already has one."""
    order_id = session.execute(
        insert_for(session, Order.__table__)
        .values(
            id=uuid.uuid4(),
            user_id=user_id,
            status="pending",
            provider=provider,
            provider_order_id=provider_order_id,
            provider_data=provider_data or {},
            currency=currency,
            total=sum(amount for _, _, amount in lines),
            refunded_amount=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["provider", "provider_order_id"])
        .returning(Order.__table__.c.id)
    ).scalar()
    if order_id is None:
        return None
    for position, (sku, quantity, amount) in enumerate(lines):
        session.add(
            OrderItem(
                order_id=order_id,
                position=position,
                sku_id=sku.sku_id,
                quantity=quantity,
                amount=amount,
            )
        )
    session.flush()
    return lock(session, order_id)


def lock(session: Session, order_id: uuid.UUID) -> Order:
    order = session.scalars(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    return order


def lock_by_provider_id(session: Session, provider: str, provider_order_id: str) -> Order | None:
    return session.scalars(
        select(Order)
        .where(Order.provider == provider, Order.provider_order_id == provider_order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def own_order(session: Session, *, user_id: uuid.UUID, order_id: uuid.UUID) -> Order:
    order = session.get(Order, order_id)
    if order is None or order.user_id != user_id:
        raise NotFound("No such order.", code="order_not_found")
    return order


def list_orders(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    user_id: uuid.UUID | None = None,
    status: str | None = None,
    provider: str | None = None,
) -> Page[Order]:
    query = select(Order).order_by(Order.created_at.desc(), Order.id.desc()).limit(limit + 1)
    filters = {Order.user_id: user_id, Order.status: status, Order.provider: provider}
    query = query.where(*(c == v for c, v in filters.items() if v is not None))
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(tuple_(Order.created_at, Order.id) < (after.created_at, after.id))
    orders = list(session.scalars(query))
    more = len(orders) > limit
    orders = orders[:limit]
    return Page(orders, Position(orders[-1].created_at, orders[-1].id).encode() if more else None)


def fail(order: Order, *, reason: str, now: datetime) -> None:
    if order.status == "pending":
        order.status, order.failure_reason, order.updated_at = "failed", reason[:255], now


def fulfil(
    session: Session,
    *,
    order: Order,
    receipt: dict[str, Any],
    storage: Storage,
    jobs: Jobs,
    now: datetime,
) -> list[Entitlement]:
    """Mark a locked, paid order verified, grant what it bought once, then mark it fulfilled.

    A repeat (the order is past ``verified``) grants nothing and returns the order's grants.
    """
    if order.status not in ("pending", "verified"):
        return order_entitlements(session, order.id)
    order.status, order.verified_at, order.updated_at = "verified", now, now
    storage.put(
        f"receipts/{order.id}.json",
        json.dumps({"order_id": str(order.id), "provider": order.provider, **receipt}).encode(),
        content_type="application/json",
    )
    for sku, quantity in _deliverables(session, order):
        if sku.type == "consumable":
            wallet.credit(
                session,
                user_id=order.user_id,
                sku_id=sku.sku_id,
                quantity=quantity,
                order_id=order.id,
                reason="purchase",
                reference=f"order:{order.id}:grant:{sku.sku_id}",
                now=now,
            )
            continue
        wallet.grant_entitlement(
            session,
            user_id=order.user_id,
            sku_id=sku.sku_id,
            order_id=order.id,
            grant_key=f"order:{order.id}:{sku.sku_id}",
            now=now,
        )
        if sku.type == "game_key":
            # The hook for key fulfilment: the fulfilment queue claims keys from the pool.
            jobs.enqueue_after_commit(
                session,
                "fulfilment",
                "workers.commerce.fulfil_game_keys",
                str(order.id),
                job_id=f"keys-{order.id}",
            )
    order.status, order.fulfilled_at = "fulfilled", now
    return order_entitlements(session, order.id)


def _deliverables(session: Session, order: Order) -> list[tuple[Sku, int]]:
    totals: Counter[str] = Counter()
    skus: dict[str, Sku] = {}
    for item in order.items:
        for sku, quantity in catalog.expand(
            session, catalog.get_sku(session, item.sku_id), item.quantity
        ):
            totals[sku.sku_id] += quantity
            skus[sku.sku_id] = sku
    return [(skus[sku_id], quantity) for sku_id, quantity in sorted(totals.items())]


def order_entitlements(session: Session, order_id: uuid.UUID) -> list[Entitlement]:
    return list(
        session.scalars(
            select(Entitlement).where(Entitlement.order_id == order_id).order_by(Entitlement.sku_id)
        )
    )


def reverse(
    session: Session,
    *,
    order: Order,
    kind: str,
    jobs: Jobs,
    now: datetime,
    actor_id: uuid.UUID | None = None,
    origin: Origin = SYSTEM,
    refunded_sku_ids: list[str] | None = None,
    amount: int | None = None,
) -> bool:
    """Undo a locked order: revoke its entitlements, claw back its consumables (a shortfall
    becomes wallet debt), notify the player, audit. Exactly once per order and kind; False
    when there was nothing to do. ``refunded_sku_ids`` limits a partial refund to those lines.
    """
    if order.status not in PAID or (
        kind == order.status == "partially_refunded" and not refunded_sku_ids
    ):
        return False
    old_status = order.status
    items = [i for i in order.items if not i.refunded]
    if refunded_sku_ids is not None:
        items = [i for i in items if i.sku_id in refunded_sku_ids]
    for item in items:
        item.refunded = True
    if kind == "partially_refunded" and all(i.refunded for i in order.items):
        kind = "refunded"
    undone = _undo_grants(session, order=order, items=items, kind=kind, now=now)
    order.status, order.updated_at = kind, now
    order.refunded_amount = (
        amount if amount is not None else sum(i.amount for i in order.items if i.refunded)
    )
    if kind != "partially_refunded":
        order.refunded_at = now
    record(
        session,
        actor_id=actor_id,
        action="order.chargeback" if kind == "charged_back" else "order.refund",
        resource_type="order",
        resource_id=order.id,
        origin=origin,
        old={"status": old_status},
        new={"status": kind, "refunded_amount": order.refunded_amount, **undone},
    )
    notify(session, jobs=jobs, user_id=order.user_id, kind=f"order.{kind}", order_id=order.id)
    return True


def _undo_grants(
    session: Session, *, order: Order, items: list[OrderItem], kind: str, now: datetime
) -> dict[str, Any]:
    sku_ids = {
        sku.sku_id
        for item in items
        for sku, _ in catalog.expand(session, catalog.get_sku(session, item.sku_id), item.quantity)
    }
    revoked = wallet.revoke_entitlements(
        session, order_id=order.id, reason=kind, sku_ids=sku_ids, now=now
    )
    granted = session.execute(
        select(LedgerEntry.sku_id, LedgerEntry.quantity).where(
            LedgerEntry.order_id == order.id,
            LedgerEntry.change_type == "grant",
            LedgerEntry.sku_id.in_(sku_ids),
        )
    ).all()
    debt = 0
    for sku_id, quantity in sorted(granted):
        debt += wallet.claw_back(
            session,
            user_id=order.user_id,
            sku_id=sku_id,
            quantity=quantity,
            order_id=order.id,
            reference=f"order:{order.id}:clawback:{sku_id}",
            now=now,
        )
    return {"revoked": sorted(e.sku_id for e in revoked), "debt": debt}


def notify(
    session: Session, *, jobs: Jobs, user_id: uuid.UUID, kind: str, order_id: uuid.UUID
) -> None:
    """Tell the player what became of their order: an inbox notice after the commit."""
    notifications.notify(
        session, jobs, user_id=user_id, kind=kind, data={"order_id": str(order_id)}
    )


def flag_replay(
    session: Session, *, order: Order, actor_id: uuid.UUID, origin: Origin, now: datetime
) -> None:
    """Another account presented this order's receipt: flag the order for review, audit it."""
    order.flagged_at = order.flagged_at or now
    record(
        session,
        actor_id=actor_id,
        action="receipt.replayed",
        resource_type="order",
        resource_id=order.id,
        origin=origin,
        new={"owner_id": str(order.user_id), "provider": order.provider},
    )


def claim_existing(
    session: Session,
    *,
    provider: str,
    provider_order_id: str,
    user_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> Order | None:
    """The locked order of this receipt if it has one; 409 if another account owns it."""
    order = lock_by_provider_id(session, provider, provider_order_id)
    if order is not None and order.user_id != user_id:
        flag_replay(session, order=order, actor_id=user_id, origin=origin, now=now)
        raise Conflict(
            "This receipt was used by another account.", code="receipt_already_used", persist=True
        )
    return order
