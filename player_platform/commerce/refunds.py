"""Refunds: player requests decided by eligibility rules or an admin, and the refunds and
chargebacks Steam reports (polled: Steam pushes nothing). The steps here are units of work;
commerce/purchases.py calls the provider between them.

A refund request is ``pending`` (an admin decides), ``denied``, ``refunding`` (approved: the
provider refund is asked next) or ``approved`` (the provider refunded and the order was
reversed). A crash, or a provider that is down, leaves it ``refunding``; the periodic job
``finish_refunds`` asks the provider again (safe to repeat) and completes it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from player_platform.audit.service import SYSTEM, Origin, record
from player_platform.commerce import catalog, orders
from player_platform.commerce.models import Order, ProviderCursor, RefundRequest, Sku
from player_platform.errors import Conflict, Invalid, InvalidState, NotFound
from player_platform.jobs import Jobs
from player_platform.pagination import Page, Position
from player_platform.wallet.models import LedgerEntry, Wallet

REFUND_WINDOW = timedelta(days=14)
RETRY_AFTER = timedelta(minutes=1)  # a refund still refunding this long after approval
REPORT_CURSOR = "steam.report"
REPORT_OVERLAP = timedelta(minutes=10)  # re-read a little: rows may land late; reversal dedupes
STEAM_REVERSALS = {
    "Refunded": "refunded",
    "PartialRefund": "partially_refunded",
    "Chargedback": "charged_back",
    "RefundedSuspectedFraud": "refunded",
    "RefundedFriendlyFraud": "charged_back",
}


def request_refund(
    session: Session,
    *,
    jobs: Jobs,
    user_id: uuid.UUID,
    order_id: uuid.UUID,
    reason: str,
    origin: Origin,
    now: datetime,
) -> RefundRequest:
    """File a request. Outside the window: denied. Untouched consumables and durables within
    the window: approved (``refunding``, the provider is asked next). Anything consumed: waits
    for an admin."""
    order = orders.lock(session, orders.own_order(session, user_id=user_id, order_id=order_id).id)
    if order.status not in ("fulfilled", "backordered"):
        raise InvalidState("Only a fulfilled order can be refunded.", code="not_refundable")
    refund = RefundRequest(order_id=order.id, user_id=user_id, reason=reason, created_at=now)
    try:
        with session.begin_nested():
            session.add(refund)
    except IntegrityError:
        raise Conflict(
            "This order has a refund request already.", code="refund_requested"
        ) from None
    record(
        session,
        actor_id=user_id,
        action="refund.request",
        resource_type="order",
        resource_id=order.id,
        origin=origin,
        new={"reason": reason},
    )
    if order.fulfilled_at < now - REFUND_WINDOW:
        _decide(
            session,
            jobs=jobs,
            refund=refund,
            approve=False,
            actor_id=None,
            reason="outside the refund window",
            origin=origin,
            now=now,
        )
    elif not _consumed(session, order):
        _decide(
            session,
            jobs=jobs,
            refund=refund,
            approve=True,
            actor_id=None,
            reason="eligible",
            origin=origin,
            now=now,
        )
    return refund


def _consumed(session: Session, order: Order) -> bool:
    """Whether the player has less of a consumable than this order granted."""
    granted = session.execute(
        select(LedgerEntry.sku_id, func.sum(LedgerEntry.quantity))
        .where(LedgerEntry.order_id == order.id, LedgerEntry.change_type == "grant")
        .group_by(LedgerEntry.sku_id)
    ).all()
    for sku_id, quantity in granted:
        balance = session.scalar(
            select(Wallet.balance).where(Wallet.user_id == order.user_id, Wallet.sku_id == sku_id)
        )
        if (balance or 0) < quantity:
            return True
    return False


def decide(
    session: Session,
    *,
    jobs: Jobs,
    refund_id: uuid.UUID,
    approve: bool,
    actor_id: uuid.UUID,
    reason: str | None,
    origin: Origin,
    now: datetime,
) -> RefundRequest:
    refund = session.scalars(
        select(RefundRequest).where(RefundRequest.id == refund_id).with_for_update()
    ).one_or_none()
    if refund is None:
        raise NotFound("No such refund request.", code="refund_request_not_found")
    if refund.status != "pending":
        raise InvalidState(f"This request was {refund.status} already.", code="refund_decided")
    _decide(
        session,
        jobs=jobs,
        refund=refund,
        approve=approve,
        actor_id=actor_id,
        reason=reason,
        origin=origin,
        now=now,
    )
    return refund


def _decide(
    session: Session,
    *,
    jobs: Jobs,
    refund: RefundRequest,
    approve: bool,
    actor_id: uuid.UUID | None,
    reason: str | None,
    origin: Origin,
    now: datetime,
) -> None:
    refund.status = "refunding" if approve else "denied"
    refund.decided_by, refund.decided_at, refund.decision_reason = actor_id, now, reason
    record(
        session,
        actor_id=actor_id,
        action="refund.approved" if approve else "refund.denied",
        resource_type="refund_request",
        resource_id=refund.id,
        origin=origin,
        old={"status": "pending"},
        new={"status": refund.status, "reason": reason},
    )
    if not approve:
        orders.notify(
            session,
            jobs=jobs,
            user_id=refund.user_id,
            kind="refund.denied",
            order_id=refund.order_id,
        )


def list_requests(
    session: Session, *, status: str | None, limit: int, cursor: str | None = None
) -> Page[RefundRequest]:
    """Refund requests, oldest first (the order an admin works through them), by status."""
    query = (
        select(RefundRequest).order_by(RefundRequest.created_at, RefundRequest.id).limit(limit + 1)
    )
    if status is not None:
        query = query.where(RefundRequest.status == status)
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(
            tuple_(RefundRequest.created_at, RefundRequest.id) > (after.created_at, after.id)
        )
    rows = list(session.scalars(query))
    more, rows = len(rows) > limit, rows[:limit]
    return Page(rows, Position(rows[-1].created_at, rows[-1].id).encode() if more else None)


def refund_order(session: Session, *, refund_id: uuid.UUID) -> Order | None:
    """The order a ``refunding`` request refunds (what the provider call needs), else None."""
    refund = session.get(RefundRequest, refund_id)
    if refund is None or refund.status != "refunding":
        return None
    return session.get(Order, refund.order_id)


def complete_refund(
    session: Session, *, refund_id: uuid.UUID, jobs: Jobs, now: datetime
) -> RefundRequest:
    """The provider refunded: reverse the order (once) and mark the request ``approved``."""
    refund = session.scalars(
        select(RefundRequest).where(RefundRequest.id == refund_id).with_for_update()
    ).one()
    if refund.status != "refunding":
        return refund
    order = orders.lock(session, refund.order_id)
    orders.reverse(
        session,
        order=order,
        kind="refunded",
        jobs=jobs,
        now=now,
        actor_id=refund.decided_by,
        origin=SYSTEM,
    )
    refund.status, refund.updated_at = "approved", now
    return refund


def refunds_in_progress(session: Session, *, now: datetime) -> list[uuid.UUID]:
    """Requests approved a while ago and still ``refunding`` (a crash, a provider outage)."""
    return list(
        session.scalars(
            select(RefundRequest.id).where(
                RefundRequest.status == "refunding",
                RefundRequest.decided_at < now - RETRY_AFTER,
            )
        )
    )


def pending_steam_orders(session: Session, *, now: datetime) -> list[tuple[uuid.UUID, int]]:
    """Steam orders left pending over a minute: (order id, Steam orderid) to ask Steam about."""
    rows = session.execute(
        select(Order.id, Order.provider_order_id).where(
            Order.provider == "steam",
            Order.status == "pending",
            Order.created_at < now - timedelta(minutes=1),
        )
    ).all()
    return [(order_id, int(steam_order_id)) for order_id, steam_order_id in rows]


def give_up_on_steam_order(
    session: Session, *, order_id: uuid.UUID, status: str, now: datetime
) -> None:
    """Fail an order Steam failed, or one left unapproved (or unknown to Steam) for a day."""
    order = orders.lock(session, order_id)
    if status == "Failed" or order.created_at < now - timedelta(days=1):
        orders.fail(order, reason=f"steam:{status}", now=now)


def report_position(session: Session) -> str:
    cursor = session.get(ProviderCursor, REPORT_CURSOR)
    return cursor.position if cursor else "2000-01-01T00:00:00Z"


def apply_report(
    session: Session, *, rows: list[dict], since: str, jobs: Jobs, now: datetime
) -> int:
    """Apply GetReport rows read since ``since`` and move the cursor; how many reversed.
    Applying a row twice changes nothing, so re-reading an overlap is safe."""
    cursor = session.get(ProviderCursor, REPORT_CURSOR, with_for_update=True)
    reversed_ = 0
    for row in rows:
        reversed_ += apply_report_row(session, jobs=jobs, row=row, now=now)
        since = max(since, str(row.get("time", since)))
    overlap = datetime.fromisoformat(since.replace("Z", "+00:00")) - REPORT_OVERLAP
    position = min(since, overlap.strftime("%Y-%m-%dT%H:%M:%SZ")) if reversed_ else since
    if cursor is None:
        session.add(ProviderCursor(name=REPORT_CURSOR, position=position, updated_at=now))
    else:
        cursor.position, cursor.updated_at = position, now
    return reversed_


RELAY_TYPES = ("refund", "chargeback")


def relay_event(event: dict[str, Any]) -> dict[str, Any]:
    """A Steam relay event (README, "Webhooks"): ``{"id", "type": refund|chargeback,
    "transaction": <a GetReport row>}``, checked; 422 ``invalid_event`` otherwise."""
    row = event.get("transaction")
    if not (
        isinstance(event.get("id"), str)
        and 1 <= len(event["id"]) <= 255
        and event.get("type") in RELAY_TYPES
        and isinstance(row, dict)
        and isinstance(row.get("orderid"), str | int)
        and row.get("status") in STEAM_REVERSALS
        and isinstance(row.get("items", []), list)
        and all(isinstance(item, dict) for item in row.get("items", []))
    ):
        raise Invalid("The body is not a Steam relay event.", code="invalid_event")
    return event


def apply_report_row(session: Session, *, jobs: Jobs, row: dict, now: datetime) -> int:
    """Reverse the order of one GetReport row (refund, partial refund, chargeback) once,
    whether it came from polling or from a studio's relay (POST /v1/webhooks/steam)."""
    kind = STEAM_REVERSALS.get(str(row.get("status")))
    order = orders.lock_by_provider_id(session, "steam", str(row.get("orderid"))) if kind else None
    if order is None:
        return 0
    by_item = {s.steam_item_id: s.sku_id for s in _skus(session, order)}
    refunded = [
        by_item[i.get("itemid")]
        for i in row.get("items") or []
        if i.get("itemstatus") in ("Refunded", "Chargedback") and i.get("itemid") in by_item
    ]
    done = orders.reverse(
        session,
        order=order,
        kind=kind,
        jobs=jobs,
        now=now,
        origin=SYSTEM,
        refunded_sku_ids=refunded if kind == "partially_refunded" else None,
    )
    return int(done)


def _skus(session: Session, order: Order) -> list[Sku]:
    return [catalog.get_sku(session, item.sku_id) for item in order.items]
