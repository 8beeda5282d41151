"""Email accounts: address verification and password reset, each through a mailed link that
carries a one-time token.

A token is 256 random bits; PostgreSQL keeps only its keyed hash (HMAC with the vault's key,
bound to its purpose), its expiry and when it was used. Spending one is a single conditional
UPDATE, so a link works once however often and however concurrently it is followed. Links
point at pages of the studio's site under PP_PUBLIC_URL, which post the token to the API:
following a link (a GET, which mail scanners also do) never spends it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.config import Settings
from player_platform.errors import Conflict, Gone, InvalidState, NotFound, RateLimited
from player_platform.identity.models import Identity, User
from player_platform.identity.providers import normalise_email
from player_platform.identity.sessions import CLOSED_STATUSES, revoke_all
from player_platform.jobs import Jobs
from player_platform.mail.models import EmailToken
from player_platform.mail.service import queue_mail
from player_platform.security.passwords import hash_password
from player_platform.security.tokens import new_opaque_token
from player_platform.security.vault import Vault

VERIFY, RESET = "verify_email", "password_reset"
VERIFY_PATH, RESET_PATH = "/account/verify-email", "/account/reset-password"
RESET_REQUEST_JOB = "workers.mail.request_password_reset"


@dataclass(frozen=True)
class LinkPolicy:
    public_url: str
    verify_ttl: timedelta
    reset_ttl: timedelta
    resend_after: timedelta = timedelta(minutes=1)  # one mail of a kind per account per minute

    @classmethod
    def from_settings(cls, settings: Settings) -> LinkPolicy:
        return cls(
            public_url=settings.public_url.rstrip("/"),
            verify_ttl=timedelta(hours=settings.email_verify_hours),
            reset_ttl=timedelta(minutes=settings.password_reset_minutes),
        )

    def link(self, path: str, token: str) -> str:
        return f"{self.public_url}{path}?token={token}"


@dataclass(frozen=True)
class Outbox:
    """What queuing a mailed link needs: the job queue and the vault that seals the mail."""

    jobs: Jobs
    vault: Vault
    policy: LinkPolicy


def request_verification(session: Session, *, outbox: Outbox, user_id: uuid.UUID, now: datetime):
    """Mail a verification link to the caller's email address (409 when there is none or it
    is verified already; 429 within a minute of the last one)."""
    user = session.get(User, user_id, with_for_update=True)  # one request per account at a time
    identity = next((i for i in user.identities if i.provider == "email"), None)
    if identity is None:
        raise InvalidState("This account has no email address.", code="no_email")
    if identity.verified_at is not None:
        raise InvalidState("This address is verified already.", code="email_already_verified")
    wait = _wait_before_next(session, user_id=user_id, purpose=VERIFY, outbox=outbox, now=now)
    if wait:
        raise RateLimited(
            "A verification mail was sent a moment ago.",
            code="mail_recently_sent",
            retry_after=wait,
        )
    ttl = outbox.policy.verify_ttl
    _mail_link(session, outbox, identity=identity, purpose=VERIFY, now=now,
               context={"hours": int(ttl.total_seconds() // 3600)})  # fmt: skip


def verify_email(
    session: Session, *, vault: Vault, token: str, origin: Origin, now: datetime
) -> Identity:
    identity = _spend(session, vault=vault, purpose=VERIFY, token=token, now=now)
    if identity.verified_at is None:
        identity.verified_at = now
        record(
            session, actor_id=identity.user_id, action="user.email_verify", resource_type="user",
            resource_id=identity.user_id, origin=origin, new={"email": identity.provider_id},
        )  # fmt: skip
    return identity


def request_password_reset(session: Session, *, outbox: Outbox, email: str, now: datetime) -> bool:
    """Mail a reset link to ``email`` if an open account signs in with it; say nothing either
    way to the requester (this runs in a job). At most one reset mail per account a minute."""
    identity = session.scalar(
        select(Identity).where(
            Identity.provider == "email", Identity.provider_id == normalise_email(email)
        )
    )
    if identity is None:
        return False
    user = session.get(User, identity.user_id, with_for_update=True)
    if user.status in CLOSED_STATUSES:
        return False
    if _wait_before_next(session, user_id=user.id, purpose=RESET, outbox=outbox, now=now):
        return False
    ttl = outbox.policy.reset_ttl
    _mail_link(session, outbox, identity=identity, purpose=RESET, now=now,
               context={"minutes": int(ttl.total_seconds() // 60)})  # fmt: skip
    return True


def reset_password(
    session: Session, *, vault: Vault, token: str, password: str, origin: Origin, now: datetime
) -> int:
    """Set the password and sign the account out everywhere; returns how many sessions ended.
    Following the link proves the address too, and lifts a sign-in lockout."""
    identity = _spend(session, vault=vault, purpose=RESET, token=token, now=now)
    identity.secret_hash = hash_password(password)
    identity.verified_at = identity.verified_at or now
    user = session.get(User, identity.user_id, with_for_update=True)
    user.failed_logins, user.locked_until = 0, None
    session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == RESET)
        .where(EmailToken.used_at.is_(None))
        .values(used_at=now)
    )
    revoked = revoke_all(session, user_id=user.id, now=now)
    record(
        session, actor_id=user.id, action="user.password_reset", resource_type="user",
        resource_id=user.id, origin=origin, new={"sessions_revoked": revoked},
    )  # fmt: skip
    return revoked


def _mail_link(
    session: Session,
    outbox: Outbox,
    *,
    identity: Identity,
    purpose: str,
    now: datetime,
    context: dict[str, Any],
) -> None:
    token = new_opaque_token()
    ttl = outbox.policy.verify_ttl if purpose == VERIFY else outbox.policy.reset_ttl
    session.add(
        EmailToken(
            user_id=identity.user_id,
            purpose=purpose,
            token_hash=_hash(outbox.vault, purpose, token),
            email=identity.provider_id,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    path = VERIFY_PATH if purpose == VERIFY else RESET_PATH
    queue_mail(
        session, jobs=outbox.jobs, vault=outbox.vault, user_id=identity.user_id,
        to=identity.provider_id, template=purpose, now=now,
        context={**context, "display_name": identity.user.display_name,
                 "email": identity.provider_id, "link": outbox.policy.link(path, token)},
    )  # fmt: skip


def _wait_before_next(
    session: Session, *, user_id: uuid.UUID, purpose: str, outbox: Outbox, now: datetime
) -> int:
    """Seconds until another link of ``purpose`` may be mailed to the account (0: now)."""
    last = session.scalar(
        select(func.max(EmailToken.created_at)).where(
            EmailToken.user_id == user_id, EmailToken.purpose == purpose
        )
    )
    if last is None or now - last >= outbox.policy.resend_after:
        return 0
    return int((outbox.policy.resend_after - (now - last)).total_seconds()) + 1


def _spend(session: Session, *, vault: Vault, purpose: str, token: str, now: datetime) -> Identity:
    """Mark the token used and return the email identity it was sent to: 404 ``token_invalid``
    for a token we never gave out, 409 ``token_used``, 410 ``token_expired``, 409
    ``email_changed`` when the account no longer signs in with that address."""
    token_hash = _hash(vault, purpose, token)
    spent = session.execute(
        update(EmailToken)
        .where(EmailToken.token_hash == token_hash, EmailToken.used_at.is_(None))
        .where(EmailToken.expires_at > now)
        .values(used_at=now)
        .returning(EmailToken.user_id, EmailToken.email)
    ).first()
    if spent is None:
        known = session.scalar(select(EmailToken).where(EmailToken.token_hash == token_hash))
        if known is None:
            raise NotFound("This link is not one we sent.", code="token_invalid")
        if known.used_at is not None:
            raise Conflict("This link was used already.", code="token_used")
        raise Gone("This link has expired: ask for a new one.", code="token_expired")
    identity = session.scalar(
        select(Identity).where(
            Identity.user_id == spent.user_id,
            Identity.provider == "email",
            Identity.provider_id == spent.email,
        )
    )
    if identity is None:
        raise Conflict(
            "The account no longer signs in with this address.", code="email_changed", persist=True
        )
    return identity


def _hash(vault: Vault, purpose: str, token: str) -> str:
    return vault.keyed_hash(f"{purpose}:{token}")


def enqueue_password_reset(session: Session, *, jobs: Jobs, email: str) -> None:
    """The request side of a reset: it reads nothing and queues the lookup (the job runs
    ``request_password_reset``), so the answer is the same, in the same time, whether or not
    the address belongs to an account."""
    jobs.enqueue_after_commit(
        session, "notification_send", RESET_REQUEST_JOB, normalise_email(email)
    )
