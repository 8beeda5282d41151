"""A fake CodesWholesale v3 API (PROVIDERS.md 4.2): OAuth2 client-credentials tokens that
expire, products in pages with a continuation token, orders (no idempotency: two creates are
two orders, as the real API promises nothing more), the order history, and the documented
errors (10002 insufficient balance, 20001 product not in the price list).

Tests arrange ``FakeCodesWholesale``: ``stock(...)``, ``fail_orders`` (an HTTP status every
order create answers, nothing taken), ``slow_seconds`` (order creates answer late, and the
order is still taken), ``down`` (503 to everything but tokens), ``expire_tokens()``.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from flask import Flask, jsonify, request

from tests.fakes.kinguin import steam_like_code

CLIENT_ID = "ff72ce315d1259e822f47d87d02d261e"
CLIENT_SECRET = "fake-codeswholesale-secret"


@dataclass
class FakeCodesWholesale:
    products: dict[str, dict] = field(default_factory=dict)
    orders: dict[str, dict] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    cursors: dict[str, tuple[str | None, int]] = field(default_factory=dict)
    token_grants: int = 0
    token_lifetime: int = 3600
    page_size: int = 50
    balance: Decimal = Decimal("100000")
    fail_orders: int | None = None
    slow_seconds: float = 0.0
    down: bool = False
    order_creates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        self.__dict__.update(FakeCodesWholesale().__dict__)

    def stock(self, product_id: str, *, price: str, quantity: int) -> None:
        self.products[product_id] = {
            "productId": product_id,
            "identifier": product_id[:8],
            "name": f"Game {product_id}",
            "platform": "Steam",
            "regions": ["WORLDWIDE"],
            "languages": ["Multilanguage"],
            "quantity": quantity,
            "prices": [{"value": float(price), "from": 1, "to": None}],
        }

    def expire_tokens(self) -> None:
        """Every token handed out so far stops working (as when it expires early)."""
        self.tokens.clear()

    def charged(self) -> int:
        return len(self.orders)


def _error(status: int, code: int, message: str):
    body = {
        "status": status,
        "code": code,
        "message": message,
        "developerMessage": message,
        "moreInfo": "",
    }
    return jsonify(body), status


def codeswholesale_app(state: FakeCodesWholesale) -> Flask:
    app = Flask("fake_codeswholesale")

    @app.before_request
    def authenticate():
        if request.path == "/oauth/token":
            return None
        if state.down:
            return _error(503, 50300, "Service unavailable")
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in state.tokens:
            body = {"error": "invalid_token", "error_description": "Access token expired"}
            return jsonify(body), 401
        return None

    @app.post("/oauth/token")
    def token():
        values = request.values
        if (
            values.get("grant_type") != "client_credentials"
            or values.get("client_id") != CLIENT_ID
            or values.get("client_secret") != CLIENT_SECRET
        ):
            body = {"error": "invalid_client", "error_description": "Bad client credentials"}
            return jsonify(body), 401
        issued = uuid.uuid4().hex
        with state.lock:
            state.tokens.add(issued)
            state.token_grants += 1
        return jsonify(
            {
                "access_token": issued,
                "token_type": "bearer",
                "expires_in": state.token_lifetime,
                "scope": "administration",
            }
        )

    _product_routes(app, state)
    _order_routes(app, state)
    return app


def _product_routes(app: Flask, state: FakeCodesWholesale) -> None:
    @app.get("/v3/products")
    def products():
        token = request.args.get("continuationToken")
        wanted, offset = state.cursors.pop(token, (request.args.get("productIds"), 0))
        ids = [p for p in (wanted.split(",") if wanted else state.products) if p in state.products]
        page = ids[offset : offset + state.page_size]
        following = None
        if offset + state.page_size < len(ids):
            following = uuid.uuid4().hex
            state.cursors[following] = (wanted, offset + state.page_size)
        return jsonify({"items": [state.products[p] for p in page], "continuationToken": following})


def _order_routes(app: Flask, state: FakeCodesWholesale) -> None:
    @app.post("/v3/orders")
    def create_order():
        with state.lock:
            state.order_creates += 1  # creates received, taken or not
        if state.slow_seconds:
            time.sleep(state.slow_seconds)
        with state.lock:
            if state.fail_orders:
                return _error(state.fail_orders, state.fail_orders * 100, "Order failed (fake)")
            return _place(state, request.get_json())

    @app.get("/v3/orders")
    def history():
        return jsonify({"items": list(state.orders.values())})

    @app.get("/v3/orders/<order_id>")
    def get_order(order_id):
        if order_id not in state.orders:
            return _error(404, 40400, "Order not found")
        return jsonify(state.orders[order_id])


def _place(state: FakeCodesWholesale, body: dict):
    line = (body.get("products") or [{}])[0]
    product = state.products.get(str(line.get("productId")))
    quantity = int(line.get("quantity") or 0)
    if product is None or product["quantity"] < quantity or quantity < 1:
        return _error(404, 20001, "Product not in price list")
    price = Decimal(str(product["prices"][0]["value"]))
    if line.get("price") is not None and Decimal(str(line["price"])) < price:
        return _error(400, 10003, "Price has changed")
    if price * quantity > state.balance:
        return _error(400, 10002, "Insufficient balance")
    state.balance -= price * quantity
    product["quantity"] -= quantity
    order_id = str(uuid.uuid4())
    state.orders[order_id] = {
        "orderId": order_id,
        "clientOrderId": body.get("orderId"),
        "identifier": order_id[:8],
        "status": "COMPLETED",
        "createdOn": datetime.now(UTC).isoformat(),
        "totalPrice": float(price * quantity),
        "links": [],
        "products": [
            {
                "productId": product["productId"],
                "name": product["name"],
                "unitPrice": float(price),
                "links": [],
                "codes": [
                    {
                        "codeId": str(uuid.uuid4()),
                        "codeType": "CODE_TEXT",
                        "code": steam_like_code(),
                        "filename": None,
                        "links": [],
                    }
                    for _ in range(quantity)
                ],
            }
        ],
    }
    return jsonify(state.orders[order_id]), 201
