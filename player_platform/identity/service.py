"""Email accounts: register, sign in (with lockout and TOTP), profile, the bootstrap admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from player_platform.audit.service import SYSTEM, Origin, record
from player_platform.errors import Conflict, RateLimited, Unauthorized
from player_platform.identity import mfa
from player_platform.identity.linking import create_user
from player_platform.identity.models import Identity, User
from player_platform.identity.providers import email_password, normalise_email
from player_platform.identity.sessions import TokenPair, ensure_active, start_session
from player_platform.security.passwords import hash_password, needs_rehash, verify_password
from player_platform.security.tokens import TokenSigner
from player_platform.security.vault import Vault

LOCKOUT_AFTER = 5  # failed sign-ins in a row before the account locks
LOCKOUT_FIRST = timedelta(minutes=1)  # doubled for every further failure ...
LOCKOUT_MAX = timedelta(hours=1)  # ... up to this


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str
    otp: str | None = None


def register(
    session: Session,
    tokens: TokenSigner,
    *,
    email: str,
    password: str,
    display_name: str,
    origin: Origin,
    now: datetime,
) -> TokenPair:
    taken = Conflict("An account with this email already exists.", code="email_taken")
    if _email_identity(session, normalise_email(email)) is not None:
        raise taken  # before hashing the password: a cheap answer to the common case
    found = email_password(email=email, password=password, display_name=display_name)
    identity = create_user(session, found=found, origin=origin, now=now)
    if identity is None:  # registered concurrently
        raise taken
    return start_session(session, tokens, user=identity.user, mfa=False, origin=origin, now=now)


def login(
    session: Session,
    tokens: TokenSigner,
    vault: Vault,
    *,
    credentials: Credentials,
    origin: Origin,
    now: datetime,
) -> TokenPair:
    identity = _email_identity(session, normalise_email(credentials.email), lock=True)
    user = identity.user if identity is not None else None
    if user is not None and user.locked_until is not None and user.locked_until > now:
        raise RateLimited(
            "Too many failed sign-ins; try again later.",
            code="account_locked",
            retry_after=int((user.locked_until - now).total_seconds()) + 1,
        )
    password_ok = verify_password(identity.secret_hash if identity else None, credentials.password)
    if user is None or not password_ok:
        _count_failure(user, now=now)
        raise Unauthorized(
            "Email or password is wrong.", code="invalid_credentials", persist=user is not None
        )
    ensure_active(user, now=now)
    used_otp = _check_second_factor(vault, user, credentials.otp, now=now)
    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(identity.secret_hash):
        identity.secret_hash = hash_password(credentials.password)
    return start_session(session, tokens, user=user, mfa=used_otp, origin=origin, now=now)


def update_profile(
    session: Session,
    *,
    user: User,
    display_name: str | None,
    origin: Origin,
    now: datetime,
    region: str | None = None,
) -> User:
    """Change the display name and/or the region (the board of regional leaderboards)."""
    wanted = {
        "display_name": display_name,
        "region": region,
    }
    changed = {k: v for k, v in wanted.items() if v is not None and v != getattr(user, k)}
    if changed:
        old = {k: getattr(user, k) for k in changed}
        for name, value in changed.items():
            setattr(user, name, value)
        user.updated_at = now
        record(
            session,
            actor_id=user.id,
            action="user.update",
            resource_type="user",
            resource_id=user.id,
            origin=origin,
            old=old,
            new=changed,
        )
    return user


def ensure_admin(session: Session, *, email: str, password: str, now: datetime) -> User:
    """Create the configured admin, or give an existing account the admin role and this
    password. Running it again changes nothing."""
    email = normalise_email(email)
    identity = _email_identity(session, email)
    if identity is None:
        user = User(
            display_name=email.split("@")[0][:64], roles=["player", "admin"], created_at=now
        )
        user.identities.append(
            Identity(
                provider="email",
                provider_id=email,
                provider_email=email,
                secret_hash=hash_password(password),
                linked_at=now,
            )
        )
        session.add(user)
        session.flush()
        record(
            session,
            actor_id=None,
            action="admin.bootstrap",
            resource_type="user",
            resource_id=user.id,
            origin=SYSTEM,
            new={"roles": user.roles},
        )
        return user
    user = identity.user
    if "admin" not in user.roles:
        old = {"roles": list(user.roles)}
        user.roles = [*user.roles, "admin"]
        record(
            session,
            actor_id=None,
            action="admin.bootstrap",
            resource_type="user",
            resource_id=user.id,
            origin=SYSTEM,
            old=old,
            new={"roles": user.roles},
        )
    if not verify_password(identity.secret_hash, password):
        identity.secret_hash = hash_password(password)
        record(
            session,
            actor_id=None,
            action="admin.password_reset",
            resource_type="user",
            resource_id=user.id,
            origin=SYSTEM,
        )
    return user


def _email_identity(session: Session, email: str, *, lock: bool = False) -> Identity | None:
    query = (
        select(Identity)
        .where(Identity.provider == "email", Identity.provider_id == email)
        .options(selectinload(Identity.user))
    )
    identity = session.scalar(query)
    if identity is not None and lock:
        # Serialise sign-ins of one account so that failure counts add up.
        session.scalar(
            select(User)
            .where(User.id == identity.user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    return identity


def _count_failure(user: User | None, *, now: datetime) -> None:
    if user is None:
        return
    user.failed_logins += 1
    beyond = user.failed_logins - LOCKOUT_AFTER
    if beyond >= 0:
        user.locked_until = now + min(LOCKOUT_FIRST * 2**beyond, LOCKOUT_MAX)


def _check_second_factor(vault: Vault, user: User, otp: str | None, *, now: datetime) -> bool:
    """True when a valid TOTP code came with the sign-in; required once TOTP is enabled."""
    if user.totp_enabled_at is None:
        return False
    if not otp:
        raise Unauthorized("This account needs a TOTP code: send otp.", code="otp_required")
    if not mfa.spend_code(vault, user, otp, now=now):
        _count_failure(user, now=now)
        raise Unauthorized(
            "The TOTP code is wrong or was already used.", code="invalid_otp", persist=True
        )
    return True


def profile(user: User) -> User:
    """The user with its identities loaded, ready to show after the unit of work closes."""
    _ = list(user.identities)
    return user


def account_name(user: User) -> str:
    """How the user is named in an authenticator app: the sign-in email, or the display name."""
    email = next((i.provider_id for i in user.identities if i.provider == "email"), None)
    return email or user.display_name
