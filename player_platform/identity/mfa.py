"""TOTP second factor: enrol, confirm, remove. The seed is sealed by the vault at rest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, object_session

from player_platform.audit.service import Origin, record
from player_platform.errors import Conflict, Invalid, InvalidState
from player_platform.identity.models import User
from player_platform.security import totp
from player_platform.security.vault import Vault

ISSUER = "Player Platform"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str


def enrol(
    session: Session, vault: Vault, *, user: User, account: str, origin: Origin, now: datetime
) -> Enrolment:
    """Start (or restart) enrolment: a new seed, active only once a code confirms it."""
    if user.totp_enabled_at is not None:
        raise Conflict("TOTP is already enabled; remove it first.", code="totp_already_enabled")
    secret = totp.new_secret()
    user.totp_secret = vault.seal(secret, context=_context(user))
    user.totp_last_step = None
    user.updated_at = now
    record(
        session,
        actor_id=user.id,
        action="mfa.enrol",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
    )
    return Enrolment(
        secret=secret, otpauth_uri=totp.provisioning_uri(secret, account=account, issuer=ISSUER)
    )


def confirm(
    session: Session, vault: Vault, *, user: User, otp: str, origin: Origin, now: datetime
) -> User:
    if user.totp_secret is None:
        raise InvalidState("Enrol first: POST /v1/me/mfa/totp.", code="totp_not_enrolled")
    if user.totp_enabled_at is not None:
        raise Conflict("TOTP is already enabled.", code="totp_already_enabled")
    if not spend_code(vault, user, otp, now=now):
        raise Invalid(
            "The TOTP code is wrong or was already used.",
            code="invalid_otp",
            errors={"otp": ["wrong or already used"]},
        )
    user.totp_enabled_at = now
    record(
        session,
        actor_id=user.id,
        action="mfa.enable",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
        new={"totp": True},
    )
    return user


def remove(
    session: Session, vault: Vault, *, user: User, otp: str, origin: Origin, now: datetime
) -> None:
    if user.totp_enabled_at is None:
        raise InvalidState("TOTP is not enabled.", code="totp_not_enabled")
    if not spend_code(vault, user, otp, now=now):
        raise Invalid(
            "The TOTP code is wrong or was already used.",
            code="invalid_otp",
            errors={"otp": ["wrong or already used"]},
        )
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    record(
        session,
        actor_id=user.id,
        action="mfa.disable",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
        old={"totp": True},
        new={"totp": False},
    )


def spend_code(vault: Vault, user: User, otp: str, *, now: datetime) -> bool:
    """Accept ``otp`` once: its time step is remembered so the same code cannot come back."""
    if user.totp_secret is None:
        return False
    session = object_session(user)
    if session is not None:  # serialise concurrent uses of one code
        session.refresh(user, with_for_update=True)
    secret = vault.open(user.totp_secret, context=_context(user))
    step = totp.matching_step(secret, otp, now=now, last_used_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def _context(user: User) -> str:
    return f"totp:{user.id}"
