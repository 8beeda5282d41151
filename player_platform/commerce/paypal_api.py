"""PayPal's REST API (PROVIDERS.md 5.2): an OAuth2 client-credentials token, Orders v2 (create,
capture), refunds of a capture, and webhook verification by postback
(``/v1/notifications/verify-webhook-signature``). Every POST that changes money carries our own
``PayPal-Request-Id``, so a repeat answers the first outcome instead of paying twice. No orders
here: the order flows are commerce/paypal.py.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from player_platform.errors import Invalid, PaymentRequired, Unauthorized
from player_platform.outbound import Outbound, ProviderUnavailable

WEBHOOK_HEADERS = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}
ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})  # PayPal's currency codes table
REPLAY_WINDOW = timedelta(minutes=10)
SKEW = timedelta(minutes=2)  # a transmission time this far ahead of our clock is accepted
TOKEN_MARGIN_SECONDS = 60  # renew a token this long before PayPal says it expires


class PaymentDeclined(PaymentRequired):
    """PayPal answered 422: the order cannot do what was asked (``issue`` says why)."""

    def __init__(self, message: str, *, issue: str) -> None:
        super().__init__(message, code="payment_declined")
        self.issue = issue


def amount_value(minor_units: int, currency: str) -> str:
    """Minor units as PayPal's decimal ``value`` string (``999`` USD -> ``"9.99"``)."""
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return str(minor_units)
    return f"{minor_units // 100}.{minor_units % 100:02d}"


def minor_units(value: str, currency: str) -> int:
    """PayPal's ``value`` string back to minor units; -1 when it cannot be read."""
    units, _, cents = str(value).partition(".")
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return int(units) if units.isdigit() and not cents else -1
    if not units.isdigit() or not (cents == "" or (cents.isdigit() and len(cents) <= 2)):
        return -1
    return int(units) * 100 + int(cents.ljust(2, "0") or 0)


class PayPalApi:
    def __init__(
        self,
        *,
        base_url: str,
        client_id: str | None,
        client_secret: str | None,
        webhook_id: str | None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.outbound = Outbound("PayPal")
        self._token: tuple[str, float] | None = None  # (access token, monotonic expiry)
        self._token_lock = threading.Lock()

    def _access_token(self) -> str:
        if not (self.client_id and self.client_secret):
            raise ProviderUnavailable(
                "PayPal is not configured: set PP_PAYPAL_CLIENT_ID and PP_PAYPAL_CLIENT_SECRET."
            )
        with self._token_lock:
            if self._token is not None and self._token[1] > time.monotonic():
                return self._token[0]
            status, body = self.outbound.json(
                "POST",
                f"{self.base_url}/v1/oauth2/token",
                auth=(self.client_id, self.client_secret),
                data={"grant_type": "client_credentials"},
                retry=True,  # asking for a token twice is harmless
            )
            if status != 200 or not isinstance(body, dict) or not body.get("access_token"):
                raise ProviderUnavailable(f"PayPal refused our credentials (HTTP {status}).")
            lifetime = int(body.get("expires_in") or 0) - TOKEN_MARGIN_SECONDS
            self._token = (str(body["access_token"]), time.monotonic() + max(lifetime, 0))
            return self._token[0]

    def _call(
        self, method: str, path: str, *, request_id: str | None = None, body: Any = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._access_token()}"}
        if request_id:
            headers["PayPal-Request-Id"] = request_id
        status, answer = self.outbound.json(
            method,
            f"{self.base_url}{path}",
            headers=headers,
            json=body,
            retry=request_id is not None or method == "GET",
        )
        if status == 401:  # the token was revoked early: forget it, the next call asks again
            self._token = None
        if status == 404:
            raise PaymentRequired("PayPal does not know this order.", code="receipt_invalid")
        if status == 422 and isinstance(answer, dict):
            issue = ((answer.get("details") or [{}])[0] or {}).get("issue") or answer.get("name")
            raise PaymentDeclined(f"PayPal refused: {issue}.", issue=str(issue))
        if status >= 400 or not isinstance(answer, dict):
            raise ProviderUnavailable(f"PayPal refused {path} (HTTP {status}).")
        return answer

    def create_order(self, *, order_id: uuid.UUID, amount: int, currency: str) -> dict[str, Any]:
        """A CAPTURE order for our order's total; safe to repeat (the same PayPal-Request-Id)."""
        unit = {
            "reference_id": str(order_id),
            "custom_id": str(order_id),
            "amount": {"currency_code": currency.upper(), "value": amount_value(amount, currency)},
        }
        return self._call(
            "POST",
            "/v2/checkout/orders",
            request_id=f"order:{order_id}:create",
            body={"intent": "CAPTURE", "purchase_units": [unit]},
        )

    def capture_order(self, *, order_id: uuid.UUID, paypal_order_id: str) -> dict[str, Any]:
        """Take the money the buyer approved; a repeat answers the first capture again. An
        order captured by another request is read back as it stands."""
        try:
            return self._call(
                "POST",
                f"/v2/checkout/orders/{paypal_order_id}/capture",
                request_id=f"order:{order_id}:capture",
                body={},
            )
        except PaymentDeclined as declined:
            if declined.issue != "ORDER_ALREADY_CAPTURED":
                raise
        return self._call("GET", f"/v2/checkout/orders/{paypal_order_id}")

    def refund(self, *, order_id: uuid.UUID, capture_id: str) -> dict[str, Any]:
        """Refund the whole capture; safe to repeat for one order."""
        return self._call(
            "POST",
            f"/v2/payments/captures/{capture_id}/refund",
            request_id=f"order:{order_id}:refund",
            body={},
        )

    def verify_webhook(self, *, headers: Mapping[str, str], event: dict[str, Any]) -> bool:
        """Ask PayPal whether this delivery is theirs (option A of PROVIDERS.md 5.2)."""
        body = {name: headers.get(header, "") for name, header in WEBHOOK_HEADERS.items()}
        answer = self._call(
            "POST",
            "/v1/notifications/verify-webhook-signature",
            body={**body, "webhook_id": self.webhook_id, "webhook_event": event},
        )
        return answer.get("verification_status") == "SUCCESS"


def parse_event(
    api: PayPalApi, *, payload: bytes, headers: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """A verified event from the raw body, or 401 invalid_signature / 422 invalid_event.

    PayPal defines no replay window; ours refuses transmissions older than 10 minutes
    (a redelivery is a new transmission with a new time)."""
    if not api.webhook_id:
        raise ProviderUnavailable("PayPal webhooks are not configured: set PP_PAYPAL_WEBHOOK_ID.")
    if not all(headers.get(header) for header in WEBHOOK_HEADERS.values()):
        raise Unauthorized("PayPal transmission headers are missing.", code="invalid_signature")
    try:
        sent = datetime.fromisoformat(headers["PAYPAL-TRANSMISSION-TIME"].replace("Z", "+00:00"))
    except ValueError:
        sent = None
    if sent is None or sent.tzinfo is None or not now - REPLAY_WINDOW <= sent <= now + SKEW:
        raise Unauthorized("The PayPal transmission is stale.", code="invalid_signature")
    try:
        event = json.loads(payload)
    except ValueError:
        event = None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not event["id"]:
        raise Invalid("The event is not a PayPal event envelope.", code="invalid_event")
    if not api.verify_webhook(headers=headers, event=event):
        raise Unauthorized("PayPal did not verify this delivery.", code="invalid_signature")
    return event
