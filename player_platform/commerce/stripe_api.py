"""Stripe's HTTP API (PROVIDERS.md 5.1) and its webhook signatures: PaymentIntents and refunds
created with our own Idempotency-Key, ``Stripe-Signature`` (``t``/``v1``, 300 s tolerance, raw
body) checked before an event is parsed. No orders here: the order flows are commerce/stripe.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

from player_platform.errors import Invalid, PaymentRequired, Unauthorized
from player_platform.outbound import Outbound, ProviderUnavailable

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

    def create_payment_intent(
        self, *, order_id: uuid.UUID, amount: int, currency: str
    ) -> dict[str, Any]:
        """Safe to repeat for one order: Stripe answers the first intent again (24 h)."""
        return self._call(
            "POST",
            "/v1/payment_intents",
            idempotency_key=f"order:{order_id}:payment_intent",
            amount=amount,
            currency=currency.lower(),
            **{"metadata[order_id]": str(order_id), "automatic_payment_methods[enabled]": "true"},
        )

    def payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        """The intent with its latest charge expanded (the card fingerprint, for fraud.py)."""
        return self._call(
            "GET", f"/v1/payment_intents/{payment_intent_id}?expand%5B%5D=latest_charge"
        )

    def refund(self, *, order_id: uuid.UUID, payment_intent_id: str) -> dict[str, Any]:
        """Refund the whole payment; safe to repeat for one order (the same Idempotency-Key)."""
        return self._call(
            "POST",
            "/v1/refunds",
            idempotency_key=f"order:{order_id}:refund",
            payment_intent=payment_intent_id,
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
