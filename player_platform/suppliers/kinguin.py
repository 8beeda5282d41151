"""Kinguin's eCommerce API (PROVIDERS.md 4.1): ``X-Api-Key`` on every call, orders by product id
(``POST /v2/order``) tagged with ``orderExternalId`` = our order reference, keys read once the
order is ``completed`` (``GET /v2/order/{id}/keys``), offers from the product search.

``orderExternalId`` is what makes a buy safe to repeat: the order create is retried like a GET,
and after a failure the order is looked up by it (``GET /v1/order?orderExternalId=``)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from player_platform.errors import Invalid, Unauthorized
from player_platform.outbound import Outbound, ProviderUnavailable
from player_platform.suppliers.adapter import Offer, Refused, SupplierOrder, Uncertain
from player_platform.webhooks.signatures import json_object

NAME = "kinguin"
PAGE_LIMIT = 100  # the largest page of product search, order search and keys
MAX_QTY = 9  # per offer in one order
# Error kinds (api/ErrorsCodes.md) that say the order was refused: nothing was charged.
REFUSALS = {
    "ConstraintViolation",
    "InsufficientBalance",
    "OrderFailed",
    "Preorder",
    "ProductUnavailable",
    "OrderNotSupported",
}
WEBHOOK_EVENTS = ("order.status", "product.update")
STATES = {"processing": "processing", "completed": "completed"}  # canceled, refunded: failed


class Kinguin:
    name = NAME

    def __init__(self, *, api_url: str, api_key: str, timeout: tuple[float, float]) -> None:
        self.api_url = api_url.rstrip("/")
        self.outbound = Outbound("Kinguin", timeout=timeout)
        self.outbound.http.headers["X-Api-Key"] = api_key

    def offers(self, product_ids: list[str]) -> Iterator[Offer]:
        for start in range(0, len(product_ids), PAGE_LIMIT):
            batch = product_ids[start : start + PAGE_LIMIT]
            body = self._ok(
                "GET",
                "/v1/products",
                params={"productId": ",".join(batch), "limit": PAGE_LIMIT, "page": 1},
            )
            for product in body.get("results") or []:
                yield Offer(
                    product_id=str(product["productId"]),
                    price=Decimal(str(product.get("price") or 0)),
                    quantity=int(product.get("qty") or 0),
                )

    def place_order(
        self, *, product_id: str, quantity: int, unit_price: Decimal, order_ref: str
    ) -> SupplierOrder:
        if quantity > MAX_QTY:
            raise Refused(f"Kinguin sells at most {MAX_QTY} keys of one offer per order.")
        order = {
            "products": [
                {
                    "productId": product_id,
                    "qty": quantity,
                    "price": float(unit_price),
                    "keyType": "text",
                }
            ],
            "orderExternalId": order_ref,
        }
        try:
            # orderExternalId makes the create idempotent: retried like a GET.
            status, body = self.outbound.json(
                "POST", f"{self.api_url}/v2/order", json=order, retry=True
            )
        except ProviderUnavailable:
            return self._after_failure(order_ref)
        if status in (200, 201):
            return self._order(body)
        if status == 400 and body.get("propertyPath") == "orderExternalId":
            return self._after_failure(order_ref)  # used already: that order is ours
        if body.get("kind") in REFUSALS:
            raise Refused(f"Kinguin: {body.get('kind')}: {body.get('detail', '')}"[:255])
        raise ProviderUnavailable(f"Kinguin answered HTTP {status} ({body.get('kind')}).")

    def find_order(self, order_ref: str) -> SupplierOrder | None:
        body = self._ok("GET", "/v1/order", params={"orderExternalId": order_ref, "limit": 1})
        results = body.get("results") or []
        return self._order(results[0]) if results else None

    def fetch_order(self, external_order_id: str) -> SupplierOrder:
        return self._order(self._ok("GET", f"/v1/order/{external_order_id}"))

    def _after_failure(self, order_ref: str) -> SupplierOrder:
        """A create that failed in transport may still have been taken: look it up."""
        try:
            found = self.find_order(order_ref)
        except ProviderUnavailable as error:
            raise Uncertain(f"Kinguin: the order {order_ref} is unknown: {error}") from error
        if found is None:
            raise Uncertain(f"Kinguin has no order {order_ref} yet; it may still arrive.")
        return found

    def _order(self, body: dict[str, Any]) -> SupplierOrder:
        order_id = str(body["orderId"])
        state = STATES.get(str(body.get("status")), "failed")
        codes = self._keys(order_id) if state == "completed" else ()
        return SupplierOrder(external_order_id=order_id, state=state, codes=codes)

    def _keys(self, order_id: str) -> tuple[str, ...]:
        codes: list[str] = []
        page = 1
        while True:
            status, body = self.outbound.json(
                "GET",
                f"{self.api_url}/v2/order/{order_id}/keys",
                params={"page": page, "limit": PAGE_LIMIT},
            )
            if status != 200 or not isinstance(body, list):
                raise ProviderUnavailable(f"Kinguin refused the keys of {order_id} ({status}).")
            # Image serials (base64 pictures) are no key code a player can type: left out.
            codes += [str(k["serial"]) for k in body if k.get("type") == "text/plain"]
            if len(body) < PAGE_LIMIT:
                return tuple(codes)
            page += 1

    def _ok(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        status, body = self.outbound.json(method, f"{self.api_url}{path}", **options)
        if status != 200 or not isinstance(body, dict):
            kind = body.get("kind") if isinstance(body, dict) else None
            raise ProviderUnavailable(f"Kinguin answered HTTP {status} ({kind}).")
        return body


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str  # what a redelivery repeats: the inbox stores it once
    event_type: str
    payload: dict[str, Any]


def verify_webhook(headers: Mapping[str, str], body: bytes, *, secret: str | None) -> WebhookEvent:
    """A Kinguin event (PROVIDERS.md 4.1, "Webhooks"): ``X-Event-Secret`` is the configured
    secret itself, not an HMAC, compared in constant time; 401 ``invalid_signature`` unless it
    matches, 422 ``invalid_event`` unless the body is an ``order.status`` or ``product.update``
    event."""
    if not secret:
        raise ProviderUnavailable(
            "Kinguin webhooks are not configured: set PP_KINGUIN_WEBHOOK_SECRET."
        )
    given = headers.get("X-Event-Secret", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise Unauthorized("X-Event-Secret does not match.", code="invalid_signature")
    name = headers.get("X-Event-Name", "")
    event = json_object(body, what="Kinguin event")
    subject = event.get("orderId") if name == "order.status" else event.get("productId")
    if name not in WEBHOOK_EVENTS or not isinstance(subject, str) or not subject:
        raise Invalid(
            "The body is not a Kinguin order.status or product.update event.", code="invalid_event"
        )
    # No delivery id: the same subject, state and time is the same event (at least once).
    event_id = f"{name}:{subject}:{event.get('status', '')}:{event.get('updatedAt', '')}"
    return WebhookEvent(event_id[:255], name, event)
