"""CodesWholesale (PROVIDERS.md 4.2), its v3 API: an OAuth2 client-credentials token (cached
until shortly before it expires, fetched again once on a 401), offers from ``GET /v3/products``
in batches with a continuation token, orders by ``POST /v3/orders``.

CodesWholesale promises no idempotency for an order create: our reference travels as the
order's client ``orderId``, the create is never repeated, and after a create whose answer was
lost the order history (``GET /v3/orders``) is searched for that reference."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from player_platform.outbound import Outbound, ProviderUnavailable
from player_platform.suppliers.adapter import Offer, Refused, SupplierOrder, Uncertain

NAME = "codeswholesale"
BATCH = 100  # product ids per products call
TOKEN_MARGIN_SECONDS = 60  # fetch a new token this long before the old one expires
HISTORY_DAYS = 7  # how far back a lost order is searched for
DONE = {"COMPLETED", "FULFILLED"}
FAILED = {"FAILED", "CANCELLED"}


class CodesWholesale:
    name = NAME

    def __init__(
        self, *, api_url: str, client_id: str, client_secret: str, timeout: tuple[float, float]
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.outbound = Outbound("CodesWholesale", timeout=timeout)
        self._token: tuple[str, float] | None = None  # (token, monotonic expiry)
        self._lock = threading.Lock()

    def offers(self, product_ids: list[str]) -> Iterator[Offer]:
        for start in range(0, len(product_ids), BATCH):
            params: dict[str, str] = {"productIds": ",".join(product_ids[start : start + BATCH])}
            while True:
                body = self._ok("GET", "/v3/products", params=params)
                for product in body.get("items") or []:
                    yield Offer(
                        product_id=str(product["productId"]),
                        price=_unit_price(product.get("prices") or []),
                        quantity=int(product.get("quantity") or 0),
                    )
                if not body.get("continuationToken"):
                    break
                params = {"continuationToken": str(body["continuationToken"])}

    def place_order(
        self, *, product_id: str, quantity: int, unit_price: Decimal, order_ref: str
    ) -> SupplierOrder:
        order = {
            "allowPreOrder": False,
            "orderId": order_ref,
            "products": [
                {"productId": product_id, "quantity": quantity, "price": float(unit_price)}
            ],
        }
        try:
            status, body = self._call("POST", "/v3/orders", json=order, retry=False)
        except ProviderUnavailable as error:  # a timeout or a 5xx: it may have been taken
            return self._after_failure(order_ref, error)
        if status in (200, 201):
            return _order(body)
        raise Refused(f"CodesWholesale: {_error(status, body)}"[:255])

    def find_order(self, order_ref: str) -> SupplierOrder | None:
        today = datetime.now(UTC).date()
        body = self._ok(
            "GET",
            "/v3/orders",
            params={
                "startFrom": (today - timedelta(days=HISTORY_DAYS)).isoformat(),
                "endOn": (today + timedelta(days=1)).isoformat(),
            },
        )
        for order in body.get("items") or []:
            if order.get("clientOrderId") == order_ref:
                return _order(order)
        return None

    def fetch_order(self, external_order_id: str) -> SupplierOrder:
        return _order(self._ok("GET", f"/v3/orders/{external_order_id}"))

    def _after_failure(self, order_ref: str, error: Exception) -> SupplierOrder:
        try:
            found = self.find_order(order_ref)
        except ProviderUnavailable as lookup:
            raise Uncertain(
                f"CodesWholesale: the order {order_ref} is unknown: {lookup}"
            ) from error
        if found is None:
            raise Uncertain(f"CodesWholesale has no order {order_ref} yet; it may still arrive.")
        return found

    def _ok(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        status, body = self._call(method, path, **options)
        if status != 200 or not isinstance(body, dict):
            raise ProviderUnavailable(f"CodesWholesale: {_error(status, body)}")
        return body

    def _call(self, method: str, path: str, **options: Any) -> tuple[int, Any]:
        """One authorised call; on a 401 (the token expired early) a new token, once."""
        for fresh in (False, True):
            headers = {
                "Authorization": f"Bearer {self._access_token(fresh=fresh)}",
                "Accept": "application/json",
            }
            status, body = self.outbound.json(
                method, f"{self.api_url}{path}", headers=headers, **options
            )
            if status != 401:
                break
        return status, body

    def _access_token(self, *, fresh: bool) -> str:
        with self._lock:
            if fresh or self._token is None or self._token[1] <= time.monotonic():
                self._token = self._new_token()
            return self._token[0]

    def _new_token(self) -> tuple[str, float]:
        status, body = self.outbound.json(
            "POST",
            f"{self.api_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            retry=True,  # asking for a token changes nothing
        )
        if status != 200 or not body.get("access_token"):
            raise ProviderUnavailable(f"CodesWholesale refused the token: {_error(status, body)}")
        lifetime = max(int(body.get("expires_in") or 0) - TOKEN_MARGIN_SECONDS, 1)
        return str(body["access_token"]), time.monotonic() + lifetime


def _unit_price(prices: list[dict[str, Any]]) -> Decimal:
    """The price of one key: the range starting at 1 (PROVIDERS.md 4.2)."""
    for tier in prices:
        if tier.get("from") == 1:
            return Decimal(str(tier["value"]))
    return min((Decimal(str(t["value"])) for t in prices), default=Decimal(0))


def _order(body: dict[str, Any]) -> SupplierOrder:
    status = str(body.get("status", "")).upper()
    state = "completed" if status in DONE else "failed" if status in FAILED else "processing"
    codes = tuple(
        str(code["code"])
        for product in body.get("products") or []
        for code in product.get("codes") or []
        if code.get("codeType") == "CODE_TEXT"  # image codes and pre-orders are no typed key
    )
    return SupplierOrder(external_order_id=str(body["orderId"]), state=state, codes=codes)


def _error(status: int, body: Any) -> str:
    if isinstance(body, dict):
        detail = body.get("message") or body.get("error_description") or body.get("error")
        return f"HTTP {status}, code {body.get('code')}: {detail}"
    return f"HTTP {status}"
