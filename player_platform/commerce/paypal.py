"""The web store's orders paid with PayPal (Orders v2): the steps of checkout and capture, each
one unit of work (commerce/flows.py calls PayPal between them), and the webhook events that
move orders: PAYMENT.CAPTURE.COMPLETED fulfils, PAYMENT.CAPTURE.REFUNDED and .REVERSED reverse.

The order's ``provider_order_id`` is PayPal's order id; the capture id, needed to refund, is
kept in ``provider_data``. A capture and its webhook may race: the order's row lock and
orders.fulfil's state check grant once, whichever comes first.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from player_platform.commerce import fraud, orders
from player_platform.commerce.models import Order
from player_platform.commerce.paypal_api import minor_units
from player_platform.errors import InvalidState, PaymentRequired
from player_platform.jobs import Jobs
from storage import Storage


def record_paypal_order(
    session: Session, *, order_id: uuid.UUID, paypal_order: dict[str, Any], now: datetime
) -> orders.Purchase:
    """Attach the PayPal order made for ours; the buyer approves it at ``approve_url``."""
    order = orders.lock(session, order_id)
    if order.provider_order_id is None:
        order.provider_order_id, order.updated_at = str(paypal_order["id"]), now
    approve = next(
        (link.get("href") for link in paypal_order.get("links") or [] if _rel(link, "approve")),
        None,
    )
    payment = {
        "provider": "paypal",
        "paypal_order_id": str(paypal_order["id"]),
        "approve_url": str(approve or ""),
    }
    return orders.Purchase(order, [], payment)


def _rel(link: Any, rel: str) -> bool:
    return isinstance(link, dict) and link.get("rel") in (rel, "payer-action")


def claim_capture(session: Session, *, user_id: uuid.UUID, order_id: uuid.UUID) -> Order:
    """The caller's PayPal order, still to capture or already settled."""
    order = orders.own_order(session, user_id=user_id, order_id=order_id)
    if order.provider != "paypal" or order.provider_order_id is None:
        raise InvalidState("This order is not paid with PayPal.", code="not_a_paypal_order")
    return order


def settle_capture(
    session: Session,
    *,
    order_id: uuid.UUID,
    paypal_order: dict[str, Any],
    storage: Storage,
    jobs: Jobs,
    rules: fraud.Rules,
    now: datetime,
) -> orders.Purchase:
    """Fulfil the order from PayPal's answer to the capture (402 while it is not completed)."""
    order = orders.lock(session, order_id)
    if order.status == "pending":
        capture = _completed_capture(paypal_order)
        if capture is None:
            raise PaymentRequired("PayPal has not taken this payment.", code="payment_pending")
        payer_id = (paypal_order.get("payer") or {}).get("payer_id")
        if isinstance(payer_id, str) and payer_id:
            order.payment_fingerprint = f"paypal:{payer_id}"[:255]
        _fulfil_capture(
            session, storage=storage, jobs=jobs, rules=rules, order=order, capture=capture, now=now
        )
    return orders.Purchase(order, orders.order_entitlements(session, order.id))


def _completed_capture(paypal_order: dict[str, Any]) -> dict[str, Any] | None:
    for unit in paypal_order.get("purchase_units") or []:
        for capture in ((unit or {}).get("payments") or {}).get("captures") or []:
            if isinstance(capture, dict) and capture.get("status") == "COMPLETED":
                return capture
    return None


def _fulfil_capture(
    session: Session,
    *,
    storage: Storage,
    jobs: Jobs,
    rules: fraud.Rules,
    order: Order,
    capture: dict[str, Any],
    now: datetime,
) -> None:
    amount = capture.get("amount") or {}
    currency = str(amount.get("currency_code", ""))
    if currency != order.currency or minor_units(str(amount.get("value")), currency) != order.total:
        orders.fail(order, reason="paypal:amount_mismatch", now=now)
        return
    order.provider_data = {**order.provider_data, "capture_id": str(capture.get("id"))}
    orders.fulfil(
        session,
        order=order,
        receipt={"paypal": capture},
        storage=storage,
        jobs=jobs,
        now=now,
        rules=rules,
    )


def capture_id(order: Order) -> str:
    return str(order.provider_data.get("capture_id", ""))


def apply_event(
    session: Session,
    *,
    storage: Storage,
    jobs: Jobs,
    rules: fraud.Rules,
    event: dict[str, Any],
    now: datetime,
) -> str:
    """Apply one stored event to its order (found by the ``custom_id`` we gave PayPal); what
    happened, for the log."""
    kind, resource = event.get("event_type"), event.get("resource") or {}
    order = _order_of(session, resource)
    if order is None:
        return "ignored"
    if kind == "PAYMENT.CAPTURE.COMPLETED":
        if order.status == "pending":
            _fulfil_capture(
                session,
                storage=storage,
                jobs=jobs,
                rules=rules,
                order=order,
                capture=resource,
                now=now,
            )
    elif kind == "PAYMENT.CAPTURE.REFUNDED":
        orders.reverse(session, order=order, kind="refunded", jobs=jobs, now=now)
    elif kind == "PAYMENT.CAPTURE.REVERSED":
        orders.reverse(session, order=order, kind="charged_back", jobs=jobs, now=now)
    else:
        return "ignored"
    return order.status


def _order_of(session: Session, resource: dict[str, Any]) -> Order | None:
    try:
        order_id = uuid.UUID(str(resource.get("custom_id")))
    except ValueError:
        return None
    order = session.get(Order, order_id, with_for_update=True, populate_existing=True)
    return order if order is not None and order.provider == "paypal" else None
