"""TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps) with replay protection by time step."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

STEP_SECONDS = 30
DRIFT_STEPS = 1  # accept the previous and the next step for clock drift


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(
    secret: str, code: str, *, now: datetime, last_used_step: int | None
) -> int | None:
    """The time step ``code`` belongs to, or None when it is wrong or was already used.

    A code is spent once its step (or an earlier one) has been accepted: the caller stores the
    returned step and passes it back as ``last_used_step``.
    """
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None
