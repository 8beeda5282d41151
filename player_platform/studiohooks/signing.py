"""The signature on every studio webhook, in Stripe's manner so studios know how to check it:

    PP-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>

The receiver recomputes the HMAC over the timestamp, a dot and the raw body bytes with the
endpoint's secret, compares in constant time and refuses a timestamp too far from its clock
(a replayed request). README, "Studio webhooks", shows it in a few lines.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

HEADER = "PP-Signature"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the PP-Signature header for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
