"""Signatures of inbound events, checked on the raw bytes in constant time before anything is
parsed: Twitch EventSub (PROVIDERS.md 1.3) and a studio's own Steam relay (README, "Webhooks").
Stripe's lives beside its client (commerce/stripe_api.py)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from player_platform.errors import Forbidden, Invalid, Unauthorized
from player_platform.outbound import ProviderUnavailable

TWITCH_MAX_AGE = timedelta(minutes=10)  # Twitch: refuse older messages (replays)
TWITCH_MAX_AHEAD = timedelta(minutes=2)  # and messages from the future, beyond clock skew
RELAY_TOLERANCE_SECONDS = 300
EVENTSUB_TYPES = ("notification", "webhook_callback_verification", "revocation")
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_rfc3339(value: str) -> datetime:
    """Twitch's RFC3339 timestamps carry nanoseconds; datetime keeps microseconds."""
    match = _RFC3339.match(value)
    if not match:
        raise ValueError(value)
    base, fraction, zone = match.groups()
    fraction = (fraction or "")[:6].ljust(6, "0")
    return datetime.fromisoformat(f"{base}.{fraction}{'+00:00' if zone == 'Z' else zone}")


def hmac_sha256(secret: str, message: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_twitch(
    *, message_id: str, timestamp: str, signature: str, body: bytes, secret: str | None, now
) -> None:
    """403 ``invalid_signature`` unless ``sha256=HMAC(secret, id + timestamp + body)`` matches
    and the timestamp is within the last 10 minutes."""
    if not secret:
        raise ProviderUnavailable(
            "Twitch EventSub is not configured: set PP_TWITCH_EVENTSUB_SECRET."
        )
    expected = hmac_sha256(secret, message_id.encode() + timestamp.encode() + body)
    if not (message_id and hmac.compare_digest(expected.encode(), signature.encode())):
        raise Forbidden(
            "Twitch-Eventsub-Message-Signature does not match.", code="invalid_signature"
        )
    try:
        sent = parse_rfc3339(timestamp)
    except ValueError:
        raise Forbidden("The message timestamp is not RFC3339.", code="stale_message") from None
    if not now - TWITCH_MAX_AGE <= sent <= now + TWITCH_MAX_AHEAD:
        raise Forbidden("The message is older than 10 minutes.", code="stale_message")


def verify_relay(
    *, timestamp: str, signature: str, body: bytes, secret: str | None, now: float
) -> None:
    """A relay event: ``X-PP-Signature: sha256=HMAC(secret, timestamp + "." + body)`` with
    ``X-PP-Timestamp`` (Unix seconds) within 5 minutes; else 401 ``invalid_signature``."""
    if not secret:
        raise ProviderUnavailable("The Steam relay is not configured: set PP_STEAM_WEBHOOK_SECRET.")
    expected = hmac_sha256(secret, timestamp.encode() + b"." + body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Unauthorized("X-PP-Signature does not match.", code="invalid_signature")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > RELAY_TOLERANCE_SECONDS:
        raise Unauthorized("X-PP-Timestamp is missing or too old.", code="invalid_signature")


def json_object(body: bytes, *, what: str) -> dict[str, Any]:
    """A signed body parsed strictly (orjson, as every body is): 422 ``invalid_event`` unless
    it is a JSON object."""
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        event = None
    if not isinstance(event, dict):
        raise Invalid(f"The body is not a {what}.", code="invalid_event")
    return event


@dataclass(frozen=True)
class EventSubMessage:
    message_id: str
    message_type: str
    body: dict[str, Any]

    @property
    def subscription(self) -> dict[str, Any]:
        return self.body["subscription"]


def eventsub_message(
    headers: Mapping[str, str], body: bytes, *, secret: str | None, now: datetime
) -> EventSubMessage:
    """A verified Twitch EventSub message: 403 on a bad signature or an old timestamp, 422
    when the signed body is not an EventSub message."""
    message_id = headers.get("Twitch-Eventsub-Message-Id", "")
    verify_twitch(
        message_id=message_id,
        timestamp=headers.get("Twitch-Eventsub-Message-Timestamp", ""),
        signature=headers.get("Twitch-Eventsub-Message-Signature", ""),
        body=body,
        secret=secret,
        now=now,
    )
    kind = headers.get("Twitch-Eventsub-Message-Type", "")
    payload = json_object(body, what="Twitch EventSub message")
    if (
        kind not in EVENTSUB_TYPES
        or len(message_id) > 255
        or not isinstance(payload.get("subscription"), dict)
        or (kind == EVENTSUB_TYPES[1] and not isinstance(payload.get("challenge"), str))
    ):
        raise Invalid("The body is not a Twitch EventSub message.", code="invalid_event")
    return EventSubMessage(message_id, kind, payload)
