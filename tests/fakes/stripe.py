"""A fake Stripe (PROVIDERS.md 5.1): PaymentIntents and refunds with Idempotency-Key replay,
and signed webhook events (``Stripe-Signature: t=...,v1=...``) for tests to deliver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

from flask import Flask, jsonify, request

from tests.fakes import Delays, hold_back_answers

SECRET_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_fake_endpoint_secret"


@dataclass
class FakeStripe:
    intents: dict[str, dict] = field(default_factory=dict)
    refunds: list[dict] = field(default_factory=list)
    charges: dict[str, dict] = field(default_factory=dict)  # intent id -> its latest charge
    idempotent: dict[str, tuple[str, dict]] = field(default_factory=dict)  # key -> (params, body)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delays: Delays = field(default_factory=Delays)  # keys: "POST /v1/payment_intents"

    def reset(self) -> None:
        self.__dict__.update(FakeStripe().__dict__)

    def succeed(self, intent_id: str, *, card_fingerprint: str | None = None) -> dict:
        """The customer paid: the intent succeeds; returns its payment_intent.succeeded event
        (``latest_charge`` is an id there, as Stripe sends it; expand it with GET)."""
        intent = self.intents[intent_id]
        intent["status"] = "succeeded"
        self.charges[intent_id] = {
            **self.charge(intent_id),
            "payment_method_details": {
                "type": "card",
                "card": {"fingerprint": card_fingerprint or f"fp_{intent_id}"},  # a card each
            },
        }
        intent["latest_charge"] = self.charges[intent_id]["id"]
        return self.event("payment_intent.succeeded", intent)

    def event(self, type_: str, obj: dict) -> dict:
        return {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "type": type_,
        }

    def charge(self, intent_id: str, *, amount_refunded: int = 0) -> dict:
        intent = self.intents[intent_id]
        return {
            "id": f"ch_{intent_id[3:]}",
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": amount_refunded,
            "payment_intent": intent_id,
        }


def sign(body: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> dict:
    t = int(time.time()) if timestamp is None else timestamp
    sig = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={sig}", "Content-Type": "application/json"}


def _idempotent(state: FakeStripe, create):
    """Replay the first answer to an Idempotency-Key; other parameters are an error."""
    key = request.headers.get("Idempotency-Key")
    params = json.dumps(sorted(request.form.items()))
    with state.lock:
        if key in state.idempotent:
            seen, body = state.idempotent[key]
            if seen != params:
                error = {"type": "idempotency_error", "message": "Keys for idempotent requests"}
                return jsonify({"error": error}), 400
            return jsonify(body)
        body = create()
        if key:
            state.idempotent[key] = (params, body)
    return jsonify(body)


def stripe_app(state: FakeStripe) -> Flask:
    app = Flask("fake_stripe")
    hold_back_answers(app, lambda: state.delays, lambda: f"{request.method} {request.path}")

    @app.before_request
    def authenticate():
        if request.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            error = {"type": "invalid_request_error", "message": "Invalid API Key provided"}
            return jsonify({"error": error}), 401
        return None

    @app.post("/v1/payment_intents")
    def create_payment_intent():
        def create():
            intent_id = f"pi_{uuid.uuid4().hex[:24]}"
            state.intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": int(request.form["amount"]),
                "currency": request.form["currency"],
                "status": "requires_payment_method",
                "client_secret": f"{intent_id}_secret_{uuid.uuid4().hex[:12]}",
                "metadata": {"order_id": request.form.get("metadata[order_id]")},
            }
            return state.intents[intent_id]

        return _idempotent(state, create)

    @app.get("/v1/payment_intents/<intent_id>")
    def get_payment_intent(intent_id):
        if intent_id not in state.intents:
            error = {"type": "invalid_request_error", "code": "resource_missing"}
            return jsonify({"error": error}), 404
        intent = dict(state.intents[intent_id])
        if "latest_charge" in request.args.getlist("expand[]") and intent.get("latest_charge"):
            intent["latest_charge"] = state.charges[intent_id]
        return jsonify(intent)

    @app.post("/v1/refunds")
    def create_refund():
        def create():
            intent = state.intents[request.form["payment_intent"]]
            refund = {
                "id": f"re_{uuid.uuid4().hex[:24]}",
                "object": "refund",
                "amount": intent["amount"],
                "payment_intent": intent["id"],
                "status": "succeeded",
            }
            state.refunds.append(refund)
            return refund

        return _idempotent(state, create)

    return app
