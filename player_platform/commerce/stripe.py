"""The web store's payments with Stripe (PROVIDERS.md 5.1): PaymentIntents created with our
own Idempotency-Key, webhook signatures (``t``/``v1``, 300 s tolerance, raw body), and the
events that move orders: payment_intent.succeeded, charge.refunded, charge.dispute.created.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from player_platform.audit.service import Origin
from player_platform.commerce import orders
from player_platform.commerce.models import Order
from player_platform.errors import Invalid, PaymentRequired, Unauthorized
from player_platform.outbound import Outbound, ProviderUnavailable

if TYPE_CHECKING:
    from player_platform.platform import Platform

TOLERANCE_SECONDS = 300


class StripeApi:
    def __init__(self, *, base_url: str, secret_key: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret_key = secret_key
        self.outbound = Outbound("Stripe")

    def _call(
        self, method: str, path: str, *, idempotency_key: str | None = None, **form: Any
    ) -> dict[str, Any]:
        if not self.secret_key:
            raise ProviderUnavailable("Stripe is not configured: set PP_STRIPE_SECRET_KEY.")
        headers = {"Authorization": f"Bearer {self.secret_key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        status, body = self.outbound.json(
            method,
            f"{self.base_url}{path}",
            headers=headers,
            data=form or None,
            retry=idempotency_key is not None or method == "GET",
        )
        if status == 404:
            raise PaymentRequired("Stripe does not know this payment.", code="receipt_invalid")
        if status >= 400 or not isinstance(body, dict):
            raise ProviderUnavailable(f"Stripe refused {path} (HTTP {status}).")
        return body

    def create_payment_intent(self, *, order: Order) -> dict[str, Any]:
        return self._call(
            "POST",
            "/v1/payment_intents",
            idempotency_key=f"order:{order.id}:payment_intent",
            amount=order.total,
            currency=order.currency.lower(),
            **{"metadata[order_id]": str(order.id), "automatic_payment_methods[enabled]": "true"},
        )

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/payment_intents/{payment_intent_id}")

    def refund(self, *, order: Order) -> dict[str, Any]:
        return self._call(
            "POST",
            "/v1/refunds",
            idempotency_key=f"order:{order.id}:refund",
            payment_intent=order.provider_order_id,
        )


def verify_signature(*, payload: bytes, header: str, secret: str, now: float) -> None:
    """Stripe-Signature: ``t=<unix>,v1=<hex hmac>[,v1=...]`` over ``f"{t}.{body}"``."""
    timestamp, signatures = None, []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise Unauthorized("Stripe-Signature is missing or malformed.", code="invalid_signature")
    signed = f"{timestamp}.".encode() + payload
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise Unauthorized("Stripe-Signature does not match.", code="invalid_signature")
    if timestamp < now - TOLERANCE_SECONDS:
        raise Unauthorized("Stripe-Signature is too old.", code="invalid_signature")


def checkout(
    session: Session,
    *,
    platform: Platform,
    user_id: uuid.UUID,
    lines: list[tuple[str, int]],
    currency: str,
    now: datetime,
) -> orders.Purchase:
    """A pending order for the cart and its PaymentIntent; the client confirms with Stripe."""
    priced = orders.price_lines(session, lines=lines, currency=currency)
    order = orders.create_order(
        session, user_id=user_id, provider="stripe", currency=currency, lines=priced, now=now
    )
    intent = platform.stripe.create_payment_intent(order=order)
    order.provider_order_id = str(intent["id"])
    payment = {
        "provider": "stripe",
        "payment_intent_id": str(intent["id"]),
        "client_secret": str(intent.get("client_secret", "")),
    }
    return orders.Purchase(order, [], payment)


def verify_payment_intent(
    session: Session,
    *,
    platform: Platform,
    user_id: uuid.UUID,
    payment_intent_id: str,
    origin: Origin,
    now: datetime,
) -> orders.Purchase:
    """The client's word that it paid, checked with Stripe (the webhook may not be here yet)."""
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
    if order.status == "pending":
        intent = platform.stripe.payment_intent(payment_intent_id)
        if intent.get("status") != "succeeded":
            raise PaymentRequired("Stripe has not taken this payment yet.", code="payment_pending")
        _fulfil_intent(session, platform=platform, order=order, intent=intent, now=now)
    return orders.Purchase(order, orders.order_entitlements(session, order.id))


def _fulfil_intent(
    session: Session, *, platform: Platform, order: Order, intent: dict[str, Any], now: datetime
) -> None:
    if intent.get("amount") != order.total or str(intent.get("currency")) != order.currency.lower():
        orders.fail(order, reason="stripe:amount_mismatch", now=now)
        return
    orders.fulfil(
        session,
        order=order,
        receipt={"stripe": intent},
        storage=platform.storage,
        jobs=platform.jobs,
        now=now,
    )


def apply_event(
    session: Session, *, platform: Platform, event: dict[str, Any], now: datetime
) -> str:
    """Apply one stored event to its order; what happened, for the log."""
    kind, obj = event.get("type"), (event.get("data") or {}).get("object") or {}
    intent_id = obj.get("id") if kind == "payment_intent.succeeded" else obj.get("payment_intent")
    order = orders.lock_by_provider_id(session, "stripe", str(intent_id)) if intent_id else None
    if order is None:
        return "ignored"
    if kind == "payment_intent.succeeded":
        _fulfil_intent(session, platform=platform, order=order, intent=obj, now=now)
    elif kind == "charge.refunded":
        full = obj.get("amount_refunded") == obj.get("amount")
        orders.reverse(
            session,
            order=order,
            kind="refunded" if full else "partially_refunded",
            jobs=platform.jobs,
            now=now,
            refunded_sku_ids=None if full else [],
            amount=int(obj.get("amount_refunded") or 0),
        )
    elif kind == "charge.dispute.created":
        orders.reverse(session, order=order, kind="charged_back", jobs=platform.jobs, now=now)
    else:
        return "ignored"
    return order.status


def parse_event(*, payload: bytes, header: str, secret: str | None, now: float) -> dict[str, Any]:
    """A verified event envelope from the raw body, or 401 invalid_signature / 422."""
    if not secret:
        raise ProviderUnavailable(
            "Stripe webhooks are not configured: set PP_STRIPE_WEBHOOK_SECRET."
        )
    verify_signature(payload=payload, header=header, secret=secret, now=now)
    try:
        event = json.loads(payload)
    except ValueError:
        event = None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event["id"]:
        raise Invalid("The event is not a Stripe event envelope.", code="invalid_event")
    return event
