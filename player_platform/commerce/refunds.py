"""Refunds: player requests decided by eligibility rules or an admin, provider refund calls,
and the refunds and chargebacks Steam reports (polled: Steam pushes nothing)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from player_platform.audit.service import SYSTEM, Origin, record
from player_platform.commerce import catalog, orders
from player_platform.commerce.models import Order, ProviderCursor, RefundRequest, Sku
from player_platform.commerce.service import microtxn, settle_steam
from player_platform.errors import Conflict, InvalidState, NotFound
from player_platform.wallet.models import LedgerEntry, Wallet

if TYPE_CHECKING:
    from player_platform.platform import Platform

REFUND_WINDOW = timedelta(days=14)
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
    platform: Platform,
    user_id: uuid.UUID,
    order_id: uuid.UUID,
    reason: str,
    origin: Origin,
    now: datetime,
) -> RefundRequest:
    """File a request. Outside the window: denied. Untouched consumables and durables within
    the window: approved and refunded at once. Anything consumed: waits for an admin."""
    order = orders.lock(session, orders.own_order(session, user_id=user_id, order_id=order_id).id)
    if order.status != "fulfilled":
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
            platform=platform,
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
            platform=platform,
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
    platform: Platform,
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
        platform=platform,
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
    platform: Platform,
    refund: RefundRequest,
    approve: bool,
    actor_id: uuid.UUID | None,
    reason: str | None,
    origin: Origin,
    now: datetime,
) -> None:
    refund.status = "approved" if approve else "denied"
    refund.decided_by, refund.decided_at, refund.decision_reason = actor_id, now, reason
    record(
        session,
        actor_id=actor_id,
        action=f"refund.{refund.status}",
        resource_type="refund_request",
        resource_id=refund.id,
        origin=origin,
        old={"status": "pending"},
        new={"status": refund.status, "reason": reason},
    )
    if not approve:
        orders.notify(
            session,
            jobs=platform.jobs,
            user_id=refund.user_id,
            kind="refund.denied",
            order_id=refund.order_id,
        )
        return
    order = orders.lock(session, refund.order_id)
    if order.provider == "steam":
        microtxn(platform).refund_txn(int(order.provider_order_id))
    elif order.provider == "stripe":
        platform.stripe.refund(order=order)
    orders.reverse(
        session,
        order=order,
        kind="refunded",
        jobs=platform.jobs,
        now=now,
        actor_id=actor_id,
        origin=origin,
    )


def poll_steam(session: Session, *, platform: Platform, now: datetime) -> dict[str, int]:
    """QueryTxn for Steam orders left pending; GetReport since the stored cursor for refunds
    and chargebacks. Applying a row twice changes nothing, so re-reading an overlap is safe."""
    api = microtxn(platform)
    settled = 0
    pending = session.scalars(
        select(Order.id).where(
            Order.provider == "steam",
            Order.status == "pending",
            Order.created_at < now - timedelta(minutes=1),
        )
    ).all()
    for order_id in pending:
        order = orders.lock(session, order_id)
        txn = api.query_txn(int(order.provider_order_id))
        if txn.get("status") in ("Approved", "Succeeded"):
            settle_steam(session, platform=platform, order=order, now=now)
            settled += 1
        elif txn.get("status") == "Failed" or order.created_at < now - timedelta(days=1):
            orders.fail(order, reason=f"steam:{txn.get('status')}", now=now)
    cursor = session.get(ProviderCursor, REPORT_CURSOR, with_for_update=True)
    since = cursor.position if cursor else "2000-01-01T00:00:00Z"
    reversed_ = 0
    for row in api.report(since=since):
        reversed_ += _apply_report_row(session, platform=platform, row=row, now=now)
        since = max(since, str(row.get("time", since)))
    overlap = datetime.fromisoformat(since.replace("Z", "+00:00")) - REPORT_OVERLAP
    position = min(since, overlap.strftime("%Y-%m-%dT%H:%M:%SZ")) if reversed_ else since
    if cursor is None:
        session.add(ProviderCursor(name=REPORT_CURSOR, position=position, updated_at=now))
    else:
        cursor.position, cursor.updated_at = position, now
    return {"settled": settled, "reversed": reversed_}


def _apply_report_row(session: Session, *, platform: Platform, row: dict, now: datetime) -> int:
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
        jobs=platform.jobs,
        now=now,
        origin=SYSTEM,
        refunded_sku_ids=refunded if kind == "partially_refunded" else None,
    )
    return int(done)


def _skus(session: Session, order: Order) -> list[Sku]:
    return [catalog.get_sku(session, item.sku_id) for item in order.items]
