"""A fake Twitch (PROVIDERS.md section 1): OAuth (id.twitch.tv/oauth2: authorization codes,
token validation, app tokens by client credentials) and the Helix endpoints drops use
(EventSub subscriptions, Get and Update Drops Entitlements), with Twitch's error bodies; and
``EventSubSender``, which signs and sends messages exactly as the Twitch CLI does."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from flask import Flask, jsonify, request

CLIENT_ID = "faketwitchclientid"
CLIENT_SECRET = "faketwitchclientsecret"
EVENTSUB_SECRET = "fake-eventsub-secret-0123456789"
ORGANIZATION_ID = "9001"


@dataclass
class FakeTwitch:
    codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # code -> (id, login, uri)
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # access token -> (id, login)
    app_tokens: set[str] = field(default_factory=set)
    subscriptions: list[dict] = field(default_factory=list)
    # Helix's drops entitlements: id -> the Get Drops Entitlements row (fulfillment_status moves)
    entitlements: dict[str, dict] = field(default_factory=dict)
    # Per-id answers to hand out instead of SUCCESS: id -> [status, ...] (one per PATCH)
    patch_answers: dict[str, list[str]] = field(default_factory=dict)
    patched: list[list[str]] = field(default_factory=list)  # entitlement_ids of each PATCH
    # Subscription creations still to answer 503, as Helix does in an outage.
    subscribe_outages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.codes.clear()
            self.tokens.clear()
            self.app_tokens.clear()
            self.subscriptions.clear()
            self.entitlements.clear()
            self.patch_answers.clear()
            self.patched.clear()
            self.subscribe_outages = 0

    def entitle(self, *, user_id: str, benefit_id: str, game_id: str = "9002") -> dict:
        """Twitch grants a drop: the entitlement, CLAIMED, and its EventSub event data."""
        now = _rfc3339(datetime.now(UTC))
        row = {
            "id": str(uuid.uuid4()),
            "benefit_id": benefit_id,
            "timestamp": now,
            "user_id": user_id,
            "game_id": game_id,
            "fulfillment_status": "CLAIMED",
            "last_updated": now,
        }
        with self.lock:
            self.entitlements[row["id"]] = row
        return {
            "organization_id": ORGANIZATION_ID,
            "category_id": game_id,
            "category_name": "Fake Game",
            "campaign_id": "9003",
            "user_id": user_id,
            "user_name": f"User_{user_id}",
            "user_login": f"user_{user_id}",
            "entitlement_id": row["id"],
            "benefit_id": benefit_id,
            "created_at": now,
        }

    def fulfilled(self) -> set[str]:
        with self.lock:
            return {
                i for i, e in self.entitlements.items() if e["fulfillment_status"] == "FULFILLED"
            }

    def authorize(self, user_id: str, login: str, redirect_uri: str) -> str:
        """What the browser brings back after the player approved: a one-time code."""
        code = secrets.token_hex(15)
        self.codes[code] = (user_id, login, redirect_uri)
        return code


def twitch_app(state: FakeTwitch) -> Flask:
    app = Flask("fake_twitch")

    def fail(status: int, message: str):
        response = jsonify({"status": status, "message": message})
        response.status_code = status
        return response

    @app.post("/oauth2/token")
    def token():
        form = request.form
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return fail(403, "invalid client secret")
        if form.get("grant_type") == "client_credentials":
            access = secrets.token_hex(15)
            state.app_tokens.add(access)
            return jsonify({"access_token": access, "expires_in": 5011271, "token_type": "bearer"})
        if form.get("grant_type") != "authorization_code":
            return fail(400, "Invalid grant type")
        grant = state.codes.pop(form.get("code", ""), None)
        if grant is None:
            return fail(400, "Invalid authorization code")
        user_id, login, redirect_uri = grant
        if form.get("redirect_uri") != redirect_uri:
            return fail(400, "Parameter redirect_uri does not match registered URI")
        access = secrets.token_hex(15)
        state.tokens[access] = (user_id, login)
        return jsonify(
            {
                "access_token": access,
                "expires_in": 14400,
                "refresh_token": secrets.token_hex(25),
                "scope": ["user:read:email"],
                "token_type": "bearer",
            }
        )

    @app.get("/oauth2/validate")
    def validate():
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        owner = state.tokens.get(token) if scheme == "OAuth" else None
        if owner is None:
            return fail(401, "invalid access token")
        user_id, login = owner
        return jsonify(
            {
                "client_id": CLIENT_ID,
                "login": login,
                "scopes": ["user:read:email"],
                "user_id": user_id,
                "expires_in": 14000,
            }
        )

    _helix(app, state)
    return app


def _helix(app: Flask, state: FakeTwitch) -> None:
    app.before_request(functools.partial(_check_app_token, state))
    for path, method, view in (
        ("/helix/eventsub/subscriptions", "POST", _subscribe),
        ("/helix/entitlements/drops", "GET", _entitlements),
        ("/helix/entitlements/drops", "PATCH", _update_entitlements),
    ):
        app.add_url_rule(path, f"{method}{path}", functools.partial(view, state), methods=[method])


def _helix_fail(status: int, message: str):
    response = jsonify({"error": HTTP_REASONS[status], "status": status, "message": message})
    response.status_code = status
    return response


def _check_app_token(state: FakeTwitch):
    if not request.path.startswith("/helix/"):
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or token not in state.app_tokens:
        return _helix_fail(401, "Invalid OAuth token")
    if request.headers.get("Client-Id") != CLIENT_ID:
        return _helix_fail(401, "Client ID and OAuth token do not match")
    return None


def _subscribe(state: FakeTwitch):
    with state.lock:
        outage, state.subscribe_outages = (
            state.subscribe_outages,
            max(0, state.subscribe_outages - 1),
        )
    if outage:
        return _helix_fail(503, "Service Unavailable")
    body = request.get_json(silent=True) or {}
    if body.get("type") != "drop.entitlement.grant" or body.get("version") != "1":
        return _helix_fail(400, "unsupported subscription type")
    if body.get("is_batching_enabled") is not True:
        return _helix_fail(
            400, "is_batching_enabled must be true for drop.entitlement.grant subscriptions"
        )
    secret = (body.get("transport") or {}).get("secret") or ""
    if not (body.get("condition") or {}).get("organization_id") or not 10 <= len(secret) <= 100:
        return _helix_fail(400, "invalid condition or transport")
    subscription = {
        "id": str(uuid.uuid4()),
        "status": "webhook_callback_verification_pending",
        "type": body["type"],
        "version": "1",
        "condition": body["condition"],
        "created_at": _rfc3339(datetime.now(UTC)),
        "transport": {"method": "webhook", "callback": body["transport"].get("callback")},
        "cost": 0,
    }
    state.subscriptions.append({**subscription, "secret": secret})
    response = jsonify(
        {"data": [subscription], "total": 1, "total_cost": 0, "max_total_cost": 10000}
    )
    response.status_code = 202
    return response


def _entitlements(state: FakeTwitch):
    wanted = request.args.get("fulfillment_status")
    first = request.args.get("first", "20")
    if not first.isdigit() or not 1 <= int(first) <= 1000:
        return _helix_fail(400, "first must be between 1 and 1000")
    with state.lock:
        rows = sorted(state.entitlements.values(), key=lambda e: e["id"])
    rows = [r for r in rows if wanted in (None, r["fulfillment_status"])]
    after = request.args.get("after")
    if after:
        last = base64.urlsafe_b64decode(after.encode()).decode()
        rows = [r for r in rows if r["id"] > last]
    page = rows[: int(first)]
    body = {"data": [dict(r) for r in page], "pagination": {}}
    if len(page) == int(first):  # as the CLI mock: a cursor only on a full page
        body["pagination"]["cursor"] = base64.urlsafe_b64encode(page[-1]["id"].encode()).decode()
    return jsonify(body)


def _update_entitlements(state: FakeTwitch):
    body = request.get_json(silent=True) or {}
    ids = body.get("entitlement_ids")
    if body.get("fulfillment_status") not in ("CLAIMED", "FULFILLED"):
        return _helix_fail(400, "fulfillment_status must be CLAIMED or FULFILLED")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        return _helix_fail(400, "entitlement_ids must be at least 1 and at most 100")
    groups: dict[str, list[str]] = {}
    with state.lock:
        state.patched.append(list(ids))
        for entitlement_id in ids:
            planned = state.patch_answers.get(entitlement_id)
            status = planned.pop(0) if planned else "SUCCESS"
            if status == "SUCCESS" and entitlement_id not in state.entitlements:
                status = "NOT_FOUND"
            if status == "SUCCESS":
                row = state.entitlements[entitlement_id]
                row["fulfillment_status"] = body["fulfillment_status"]
                row["last_updated"] = _rfc3339(datetime.now(UTC))
            groups.setdefault(status, []).append(entitlement_id)
    return jsonify({"data": [{"status": s, "ids": i} for s, i in groups.items()]})


HTTP_REASONS = {400: "Bad Request", 401: "Unauthorized", 503: "Service Unavailable"}


def _rfc3339(moment: datetime) -> str:
    """RFC3339 with nanoseconds, trailing zeros stripped (Go's time.RFC3339Nano)."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


class EventSubSender:
    """Sends EventSub messages as ``twitch event trigger`` does (twitch-cli forward_event.go):
    the same headers, ``sha256=`` HMAC of id + timestamp + body, and bodies of the same shape."""

    def __init__(self, url: str, *, secret: str = EVENTSUB_SECRET) -> None:
        self.url = url
        self.secret = secret
        self.http = requests.Session()

    def signed(
        self,
        body: bytes,
        *,
        message_type: str,
        message_id: str | None = None,
        timestamp: str | None = None,
        secret: str | None = None,
    ) -> dict[str, str]:
        message_id = message_id or str(uuid.uuid4())
        timestamp = timestamp or _rfc3339(datetime.now(UTC))
        mac = hmac.new(
            (secret or self.secret).encode(),
            message_id.encode() + timestamp.encode() + body,
            hashlib.sha256,
        ).hexdigest()
        return {
            "Twitch-Eventsub-Message-Id": message_id,
            "Twitch-Eventsub-Message-Retry": "0",
            "Twitch-Eventsub-Message-Type": message_type,
            "Twitch-Eventsub-Message-Signature": f"sha256={mac}",
            "Twitch-Eventsub-Message-Timestamp": timestamp,
            "Twitch-Eventsub-Subscription-Type": "drop.entitlement.grant",
            "Twitch-Eventsub-Subscription-Version": "1",
            "Content-Type": "application/json",
        }

    def send(
        self, body: dict, *, message_type: str = "notification", **signing
    ) -> requests.Response:
        raw = json.dumps(body).encode()
        headers = self.signed(raw, message_type=message_type, **signing)
        return self.http.post(self.url, data=raw, headers=headers, timeout=30)


def subscription(status: str = "enabled", subscription_id: str | None = None) -> dict:
    return {
        "id": subscription_id or str(uuid.uuid4()),
        "status": status,
        "type": "drop.entitlement.grant",
        "version": "1",
        "condition": {
            "organization_id": ORGANIZATION_ID,
            "category_id": "9002",
            "campaign_id": "9003",
        },
        "transport": {"method": "webhook", "callback": "http://localhost/v1/webhooks/twitch"},
        "cost": 0,
        "created_at": _rfc3339(datetime.now(UTC)),
    }


def drop_notification(events_data: list[dict], subscription_id: str | None = None) -> dict:
    """A ``drop.entitlement.grant`` notification: a batch of ``events[].data``."""
    return {
        "subscription": subscription(subscription_id=subscription_id),
        "events": [{"id": str(uuid.uuid4()), "data": data} for data in events_data],
    }


def challenge(subscription_id: str | None = None) -> dict:
    return {
        "challenge": "pogchamp-kappa-360noscope-vohiyo",
        "subscription": subscription("webhook_callback_verification_pending", subscription_id),
    }


def revocation(subscription_id: str, reason: str = "authorization_revoked") -> dict:
    return {"subscription": subscription(reason, subscription_id)}
