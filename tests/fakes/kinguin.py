"""A fake Kinguin eCommerce API (PROVIDERS.md 4.1): ``X-Api-Key``, product search with price and
stock, orders by product id deduplicated on ``orderExternalId``, keys once an order completes,
the documented error shape and kinds, and ``order.status`` webhooks sent with
``X-Event-Name``/``X-Event-Secret``.

Tests arrange ``FakeKinguin``: ``stock(...)`` products, ``fail_orders`` (an error kind every
order create answers), ``slow_seconds`` (order creates answer late, the order is still taken),
``down`` (503 to everything), ``complete_later`` (orders stay ``processing`` until ``complete``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import requests
from flask import Flask, jsonify, request

API_KEY = "fake-kinguin-api-key"
WEBHOOK_SECRET = "fake-kinguin-event-secret"
STATUS_OF_KIND = {"Authorization": 401, "OrderNotFound": 404, "ResourceLock": 409, "Error": 500}


def steam_like_code() -> str:
    raw = uuid.uuid4().hex[:15].upper()
    return f"{raw[:5]}-{raw[5:10]}-{raw[10:]}"


@dataclass
class FakeKinguin:
    products: dict[str, dict] = field(default_factory=dict)
    orders: dict[str, dict] = field(default_factory=dict)
    keys: dict[str, list[dict]] = field(default_factory=dict)
    balance: Decimal = Decimal("100000")
    fail_orders: str | None = None
    slow_seconds: float = 0.0
    down: bool = False
    complete_later: bool = False
    webhook_url: str | None = None
    order_creates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        self.__dict__.update(FakeKinguin().__dict__)

    def stock(self, product_id: str, *, price: str, qty: int) -> None:
        self.products[product_id] = {
            "productId": product_id,
            "kinguinId": len(self.products) + 1,
            "name": f"Game {product_id}",
            "price": float(price),
            "qty": qty,
            "totalQty": qty,
            "textQty": qty,
            "updatedAt": _now(),
        }

    def charged(self) -> int:
        """Orders that took money (every order this fake holds)."""
        return len(self.orders)

    def complete(self, order_id: str) -> dict:
        """Deliver the order's keys; sends ``order.status`` when a webhook URL is set."""
        order = self.orders[order_id]
        order["status"] = "completed"
        event = {
            "orderId": order_id,
            "orderExternalId": order["orderExternalId"],
            "status": "completed",
            "updatedAt": _now(),
        }
        if self.webhook_url:
            requests.post(self.webhook_url, data=_json(event), headers=event_headers(), timeout=10)
        return event


def event_headers(secret: str = WEBHOOK_SECRET, name: str = "order.status") -> dict:
    return {"X-Event-Name": name, "X-Event-Secret": secret, "Content-Type": "application/json"}


def _json(value: dict) -> bytes:
    return json.dumps(value).encode()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _error(kind: str, detail: str, status: int = 400, **extra):
    body = {
        "kind": kind,
        "status": status,
        "title": "Bad Request" if status == 400 else kind,
        "detail": detail,
        "path": request.path,
        "method": request.method,
        "trace": uuid.uuid4().hex[:10],
        "timestamp": _now(),
        **extra,
    }
    return jsonify(body), status


def kinguin_app(state: FakeKinguin) -> Flask:
    app = Flask("fake_kinguin")

    @app.before_request
    def authenticate():
        if state.down:
            return _error("Error", "Service unavailable", 503)
        if request.headers.get("X-Api-Key") != API_KEY:
            return _error("Authorization", "Invalid authentication data.", 401, type="Unauthorized")
        return None

    _product_routes(app, state)
    _order_routes(app, state)
    return app


def _product_routes(app: Flask, state: FakeKinguin) -> None:
    @app.get("/v1/products")
    def search_products():
        wanted = set(filter(None, request.args.get("productId", "").split(",")))
        limit = min(int(request.args.get("limit", 25)), 100)
        page = int(request.args.get("page", 1))
        found = [p for pid, p in state.products.items() if not wanted or pid in wanted]
        results = found[(page - 1) * limit : page * limit]
        return jsonify({"results": results, "item_count": len(found)})

    @app.get("/v2/order/<order_id>/keys")
    def order_keys(order_id):
        if order_id not in state.orders:
            return _error("OrderNotFound", "Order not found", 404)
        if state.orders[order_id]["status"] != "completed":
            return jsonify([])
        page, limit = int(request.args.get("page", 1)), int(request.args.get("limit", 100))
        return jsonify(state.keys[order_id][(page - 1) * limit : page * limit])


def _order_routes(app: Flask, state: FakeKinguin) -> None:
    @app.post("/v2/order")
    def create_order():
        with state.lock:
            state.order_creates += 1  # creates received, taken or not
        if state.slow_seconds:
            time.sleep(state.slow_seconds)
        body = request.get_json()
        with state.lock:
            existing = [
                o
                for o in state.orders.values()
                if o["orderExternalId"] == body.get("orderExternalId")
            ]
            if existing:  # orderExternalId: the same order again, never a second one
                return jsonify(existing[0]), 201
            if state.fail_orders:
                kind = state.fail_orders
                return _error(kind, f"{kind} (fake)", STATUS_OF_KIND.get(kind, 400))
            return _place(state, body)

    @app.get("/v1/order")
    def search_orders():
        ref = request.args.get("orderExternalId")
        found = [o for o in state.orders.values() if ref is None or o["orderExternalId"] == ref]
        return jsonify({"results": found[:100], "item_count": len(found)})

    @app.get("/v1/order/<order_id>")
    def get_order(order_id):
        if order_id not in state.orders:
            return _error("OrderNotFound", "Order not found", 404)
        return jsonify(state.orders[order_id])


def _place(state: FakeKinguin, body: dict):
    """Validate and take one order (the caller holds the lock)."""
    line = (body.get("products") or [{}])[0]
    product = state.products.get(str(line.get("productId")))
    qty = int(line.get("qty") or 0)
    if not 1 <= qty <= 9:
        return _error(
            "ConstraintViolation", "qty must be 1..9", propertyPath="products", invalidValue=qty
        )
    if product is None or product["qty"] < qty:
        return _error("ProductUnavailable", "Product is unavailable")
    if Decimal(str(line.get("price"))) < Decimal(str(product["price"])):
        return _error("OrderFailed", "The price has changed")
    cost = Decimal(str(product["price"])) * qty
    if cost > state.balance:
        return _error("InsufficientBalance", "Insufficient balance")
    state.balance -= cost
    product["qty"] -= qty
    order_id = uuid.uuid4().hex[:11].upper()
    state.keys[order_id] = [
        {
            "id": uuid.uuid4().hex,
            "serial": steam_like_code(),
            "type": "text/plain",
            "name": product["name"],
            "productId": product["productId"],
            "offerId": "offer-1",
        }
        for _ in range(qty)
    ]
    state.orders[order_id] = {
        "orderId": order_id,
        "orderExternalId": body.get("orderExternalId"),
        "status": "processing" if state.complete_later else "completed",
        "totalPrice": float(cost),
        "paymentPrice": float(cost),
        "createdAt": _now(),
        "totalQty": qty,
        "isPreorder": False,
        "products": [
            {
                "productId": product["productId"],
                "qty": qty,
                "price": product["price"],
                "keyType": "text",
            }
        ],
    }
    return jsonify(state.orders[order_id]), 201
