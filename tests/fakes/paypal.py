"""A fake PayPal (PROVIDERS.md 5.2): an OAuth2 client-credentials token, Orders v2 (create,
approve by the buyer, capture), capture refunds, all with ``PayPal-Request-Id`` replay, and
webhook deliveries signed SHA256withRSA over ``transmission_id|time|webhook_id|crc32(body)``
that ``/v1/notifications/verify-webhook-signature`` checks, as PayPal's postback does."""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask, jsonify, request

from tests.fakes import Delays, hold_back_answers

CLIENT_ID = "paypal-fake-client"
CLIENT_SECRET = "paypal-fake-secret"
WEBHOOK_ID = "WH-FAKE-1"
CERT_URL = "https://api.paypal.com/v1/notifications/certs/CERT-fake"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakePayPal:
    orders: dict[str, dict] = field(default_factory=dict)
    refunds: list[dict] = field(default_factory=list)
    captures: int = 0  # captures actually made (a replayed PayPal-Request-Id makes none)
    idempotent: dict[str, tuple[str, int, dict]] = field(default_factory=dict)
    sent: dict[str, bytes] = field(default_factory=dict)  # transmission id -> raw body
    tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delays: Delays = field(default_factory=Delays)  # keys: "POST /v2/checkout/orders/.../capture"

    def reset(self) -> None:
        self.__dict__.update(FakePayPal().__dict__)

    def approve(self, paypal_order_id: str, *, payer_id: str | None = None) -> None:
        """The buyer (a PayPal account of its own unless named) approved the order."""
        self.orders[paypal_order_id]["status"] = "APPROVED"
        self.orders[paypal_order_id]["payer"] = {"payer_id": payer_id or f"P{paypal_order_id}"}

    def capture_of(self, paypal_order_id: str) -> dict:
        return self.orders[paypal_order_id]["purchase_units"][0]["payments"]["captures"][0]

    def event(self, event_type: str, resource: dict) -> dict:
        return {
            "id": f"WH-{uuid.uuid4().hex[:20].upper()}",
            "event_version": "1.0",
            "create_time": _now(),
            "resource_type": "capture" if "CAPTURE" in event_type else "refund",
            "event_type": event_type,
            "summary": event_type,
            "resource": resource,
            "links": [],
        }

    def sign(self, body: str, *, transmission_time: str | None = None) -> dict[str, str]:
        """The headers PayPal sends with ``body``; the delivery is remembered for verifying."""
        transmission_id = str(uuid.uuid4())
        sent_at = transmission_time or _now()
        crc = binascii.crc32(body.encode()) & 0xFFFFFFFF
        message = f"{transmission_id}|{sent_at}|{WEBHOOK_ID}|{crc}".encode()
        signature = _KEY.sign(message, padding.PKCS1v15(), hashes.SHA256())
        self.sent[transmission_id] = body.encode()
        return {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": sent_at,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
            "PAYPAL-CERT-URL": CERT_URL,
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        }

    def send(self, url: str, event: dict) -> requests.Response:
        """Deliver ``event`` to a webhook URL, signed."""
        body = json.dumps(event)
        return requests.post(url, data=body, headers=self.sign(body), timeout=10)

    def issue_token(self, auth, grant_type: str | None):
        known = auth is not None and (auth.username, auth.password) == (CLIENT_ID, CLIENT_SECRET)
        if not known or grant_type != "client_credentials":
            return {"error": "invalid_client", "error_description": "Bad creds"}, 401
        access_token = f"A21AA{uuid.uuid4().hex}"
        self.tokens.add(access_token)
        return (
            {
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": access_token,
                "token_type": "Bearer",
                "app_id": "APP-FAKE",
                "expires_in": 32400,
                "nonce": uuid.uuid4().hex,
            },
            200,
        )

    def replay_or(self, request_id: str | None, path: str, make):
        """Answer a known PayPal-Request-Id with the first outcome, whatever happened since."""
        with self.lock:
            if request_id in self.idempotent:
                seen_path, status, body = self.idempotent[request_id]
                if seen_path != path:
                    return _error(422, "UNPROCESSABLE_ENTITY", "DUPLICATE_REQUEST_ID")
                return body, status
            body, status = make()
            if request_id and status < 300:
                self.idempotent[request_id] = (path, status, body)
        return body, status

    def create_order(self, body: dict):
        units = body.get("purchase_units") or []
        if body.get("intent") != "CAPTURE" or len(units) != 1:
            return _error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER")
        unit = units[0]
        order_id = uuid.uuid4().hex[:17].upper()
        self.orders[order_id] = {
            "id": order_id,
            "intent": "CAPTURE",
            "status": "CREATED",
            "purchase_units": [dict(unit)],
            "links": [
                {"href": f"/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"},
                {
                    "href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}",
                    "rel": "approve",
                    "method": "GET",
                },
            ],
        }
        return self.orders[order_id], 201

    def show(self, order_id: str):
        if order_id not in self.orders:
            return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        return self.orders[order_id], 200

    def capture(self, order_id: str):
        order = self.orders.get(order_id)
        if order is None:
            return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        if order["status"] != "APPROVED":
            issue = (
                "ORDER_ALREADY_CAPTURED" if order["status"] == "COMPLETED" else "ORDER_NOT_APPROVED"
            )
            return _error(422, "UNPROCESSABLE_ENTITY", issue)
        unit = order["purchase_units"][0]
        capture = {
            "id": uuid.uuid4().hex[:17].upper(),
            "status": "COMPLETED",
            "amount": dict(unit["amount"]),
            "custom_id": unit.get("custom_id"),
            "final_capture": True,
            "create_time": _now(),
        }
        unit["payments"] = {"captures": [capture]}
        order["status"] = "COMPLETED"
        self.captures += 1
        return order, 201

    def refund(self, capture_id: str):
        for order in self.orders.values():
            captures = (order["purchase_units"][0].get("payments") or {}).get("captures") or []
            if captures and captures[0]["id"] == capture_id:
                refund = {
                    "id": uuid.uuid4().hex[:17].upper(),
                    "status": "COMPLETED",
                    "amount": dict(captures[0]["amount"]),
                    "custom_id": captures[0].get("custom_id"),
                    "capture_id": capture_id,
                }
                self.refunds.append(refund)
                return refund, 201
        return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")

    def verified(self, claim: dict) -> bool:
        raw = self.sent.get(str(claim.get("transmission_id")))
        if raw is None or claim.get("webhook_id") != WEBHOOK_ID:
            return False
        if claim.get("auth_algo") != "SHA256withRSA" or claim.get("cert_url") != CERT_URL:
            return False
        crc = binascii.crc32(raw) & 0xFFFFFFFF
        message = (
            f"{claim['transmission_id']}|{claim.get('transmission_time')}|{WEBHOOK_ID}|{crc}"
        ).encode()
        try:
            signature = base64.b64decode(str(claim.get("transmission_sig")), validate=True)
            _KEY.public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return claim.get("webhook_event") == json.loads(raw)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, name: str, issue: str):
    body = {
        "name": name,
        "message": issue,
        "debug_id": uuid.uuid4().hex[:13],
        "details": [{"issue": issue, "description": issue}],
        "links": [],
    }
    return body, status


def _answer(answer: tuple[dict, int]):
    return jsonify(answer[0]), answer[1]


def paypal_app(state: FakePayPal) -> Flask:
    app = Flask("fake_paypal")
    hold_back_answers(app, lambda: state.delays, lambda: f"{request.method} {request.path}")

    @app.before_request
    def authenticate():
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if request.path == "/v1/oauth2/token" or bearer in state.tokens:
            return None
        return _answer(_error(401, "AUTHENTICATION_FAILURE", "Authentication failed"))

    @app.post("/v1/oauth2/token")
    def token():
        return _answer(state.issue_token(request.authorization, request.form.get("grant_type")))

    def idempotent(make):
        request_id = request.headers.get("PayPal-Request-Id")
        return _answer(state.replay_or(request_id, request.path, make))

    @app.post("/v2/checkout/orders")
    def create_order():
        return idempotent(lambda: state.create_order(request.get_json(silent=True) or {}))

    @app.get("/v2/checkout/orders/<order_id>")
    def show_order(order_id):
        return _answer(state.show(order_id))

    @app.post("/v2/checkout/orders/<order_id>/capture")
    def capture(order_id):
        return idempotent(lambda: state.capture(order_id))

    @app.post("/v2/payments/captures/<capture_id>/refund")
    def refund(capture_id):
        return idempotent(lambda: state.refund(capture_id))

    @app.post("/v1/notifications/verify-webhook-signature")
    def verify_webhook_signature():
        claim = request.get_json(silent=True) or {}
        status = "SUCCESS" if state.verified(claim) else "FAILURE"
        return jsonify({"verification_status": status})

    return app
