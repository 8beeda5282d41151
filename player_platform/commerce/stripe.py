"""The web store's orders paid with Stripe: the steps of checkout and of verifying a payment,
each one unit of work (commerce/purchases.py calls Stripe between them), and the events that
move orders: payment_intent.succeeded, charge.refunded, charge.dispute.created.

A checkout order is ``pending`` without a PaymentIntent until Stripe answered; a crash in
between leaves it so, and ``fail_abandoned_checkouts`` (periodic) fails it: nobody holds the
client secret of its intent, so nobody can pay it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin
from player_platform.commerce import fraud, orders
from player_platform.commerce.models import Order
from player_platform.errors import PaymentRequired
from player_platform.jobs import Jobs
from storage import Storage

ABANDONED_AFTER = timedelta(minutes=15)


def record_payment_intent(
    session: Session, *, order_id: uuid.UUID, intent: dict[str, Any], now: datetime
) -> orders.Purchase:
    """Attach the PaymentIntent Stripe made for the order; the client confirms with Stripe."""
    order = orders.lock(session, order_id)
    if order.provider_order_id is None:
        order.provider_order_id, order.updated_at = str(intent["id"]), now
    payment = {
        "provider": "stripe",
        "payment_intent_id": str(intent["id"]),
        "client_secret": str(intent.get("client_secret", "")),
    }
    return orders.Purchase(order, [], payment)


def fail_abandoned_checkouts(session: Session, *, now: datetime) -> int:
    """Fail checkout orders whose PaymentIntent was never recorded (a crash mid-checkout)."""
    abandoned = session.scalars(
        select(Order)
        .where(
            Order.provider == "stripe",
            Order.status == "pending",
            Order.provider_order_id.is_(None),
            Order.created_at < now - ABANDONED_AFTER,
        )
        .with_for_update(skip_locked=True)
    ).all()
    for order in abandoned:
        orders.fail(order, reason="stripe:checkout_abandoned", now=now)
    return len(abandoned)


def claim_payment(
    session: Session, *, user_id: uuid.UUID, payment_intent_id: str, origin: Origin, now: datetime
) -> orders.Purchase:
    """The caller's order of this PaymentIntent (409 for another account's, flagged)."""
    order = orders.claim_existing(
        session,
        provider="stripe",
        provider_order_id=payment_intent_id,
        user_id=user_id,
        origin=origin,
        now=now,
    )
    if order is None:
        raise PaymentRequired("No checkout made this payment.", code="receipt_invalid")
    return orders.Purchase(order, orders.order_entitlements(session, order.id))


def settle_payment(
    session: Session,
    *,
    order_id: uuid.UUID,
    intent: dict[str, Any],
    storage: Storage,
    jobs: Jobs,
    rules: fraud.Rules,
    now: datetime,
) -> orders.Purchase:
    """Fulfil the order once Stripe said its intent succeeded (the webhook may not be here)."""
    order = orders.lock(session, order_id)
    if order.status == "pending":
        if intent.get("status") != "succeeded":
            raise PaymentRequired("Stripe has not taken this payment yet.", code="payment_pending")
        _fulfil_intent(
            session, storage=storage, jobs=jobs, rules=rules, order=order, intent=intent, now=now
        )
    return orders.Purchase(order, orders.order_entitlements(session, order.id))


def _fulfil_intent(
    session: Session,
    *,
    storage: Storage,
    jobs: Jobs,
    rules: fraud.Rules,
    order: Order,
    intent: dict[str, Any],
    now: datetime,
) -> None:
    if intent.get("amount") != order.total or str(intent.get("currency")) != order.currency.lower():
        orders.fail(order, reason="stripe:amount_mismatch", now=now)
        return
    order.payment_fingerprint = order.payment_fingerprint or card_fingerprint(intent)
    orders.fulfil(
        session,
        order=order,
        receipt={"stripe": intent},
        storage=storage,
        jobs=jobs,
        now=now,
        rules=rules,
    )


def card_fingerprint(intent: dict[str, Any]) -> str | None:
    """The card's fingerprint (one card across accounts) when Stripe expanded the charge."""
    charge = intent.get("latest_charge")
    details = charge.get("payment_method_details") if isinstance(charge, dict) else None
    card = (details or {}).get("card") or {}
    fingerprint = card.get("fingerprint")
    return f"card:{fingerprint}"[:255] if isinstance(fingerprint, str) and fingerprint else None


def apply_event(
    session: Session,
    *,
    storage: Storage,
    jobs: Jobs,
    rules: fraud.Rules,
    event: dict[str, Any],
    now: datetime,
) -> str:
    """Apply one stored event to its order; what happened, for the log. An event whose shape
    we cannot read raises, and the inbox counts the attempt (webhooks/service.py)."""
    kind, obj = event.get("type"), (event.get("data") or {}).get("object") or {}
    intent_id = obj.get("id") if kind == "payment_intent.succeeded" else obj.get("payment_intent")
    order = orders.lock_by_provider_id(session, "stripe", str(intent_id)) if intent_id else None
    if order is None:
        return "ignored"
    if kind == "payment_intent.succeeded":
        _fulfil_intent(
            session, storage=storage, jobs=jobs, rules=rules, order=order, intent=obj, now=now
        )
    elif kind == "charge.refunded":
        full = obj.get("amount_refunded") == obj.get("amount")
        orders.reverse(
            session,
            order=order,
            kind="refunded" if full else "partially_refunded",
            jobs=jobs,
            now=now,
            refunded_sku_ids=None if full else [],
            amount=int(obj.get("amount_refunded") or 0),
        )
    elif kind == "charge.dispute.created":
        orders.reverse(session, order=order, kind="charged_back", jobs=jobs, now=now)
    else:
        return "ignored"
    return order.status
