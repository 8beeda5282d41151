"""GDPR: everything stored about a player (access), and erasure.

The export never holds secrets: no password hash, TOTP seed, provider tokens or refresh-token
hashes. Erasure anonymises the account, removes its identities and personal data, ends its
sessions and keeps the audit trail (the legitimate-interest record of what happened).
This is the account's own part: other domains' parts join it in the use case,
player_platform/usecases/accounts.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from player_platform.audit.models import AuditLog
from player_platform.audit.service import Origin, record
from player_platform.db import iso_or_none
from player_platform.identity.models import AccountLink, Identity, RefreshToken, User
from player_platform.identity.sessions import revoke_all

ERASED_NAME = "Deleted player"


def export(session: Session, *, user: User, now: datetime) -> dict[str, Any]:
    return {
        "exported_at": now,
        "user": {
            "id": str(user.id),
            "display_name": user.display_name,
            "roles": list(user.roles),
            "status": user.status,
            "status_reason": user.status_reason,
            "status_until": iso_or_none(user.status_until),
            "mfa_enabled": user.totp_enabled_at is not None,
            "created_at": iso_or_none(user.created_at),
        },
        "identities": [
            {
                "provider": i.provider,
                "provider_id": i.provider_id,
                "email": i.provider_email,
                "linked_at": iso_or_none(i.linked_at),
                "details": i.details or {},
            }
            for i in user.identities
        ],
        "account_links": [
            {
                "action": link.action,
                "provider": link.provider,
                "created_at": iso_or_none(link.created_at),
            }
            for link in session.scalars(
                select(AccountLink)
                .where(AccountLink.user_id == user.id)
                .order_by(AccountLink.created_at)
            )
        ],
        "sessions": [
            {
                "ip": t.ip,
                "user_agent": t.user_agent,
                "created_at": iso_or_none(t.created_at),
                "expires_at": iso_or_none(t.expires_at),
                "revoked_at": iso_or_none(t.revoked_at),
            }
            for t in session.scalars(
                select(RefreshToken)
                .where(RefreshToken.user_id == user.id)
                .order_by(RefreshToken.created_at)
            )
        ],
        "activity": [
            {
                "action": e.action,
                "ip": e.ip,
                "user_agent": e.user_agent,
                "created_at": iso_or_none(e.created_at),
            }
            for e in session.scalars(
                select(AuditLog)
                .where(or_(AuditLog.actor_id == user.id, AuditLog.resource_id == str(user.id)))
                .order_by(AuditLog.created_at)
            )
        ],
    }


def erase(session: Session, *, user: User, origin: Origin, now: datetime) -> None:
    """Anonymise the account: it can never sign in again and holds no personal data."""
    revoke_all(session, user_id=user.id, now=now)
    session.execute(delete(RefreshToken).where(RefreshToken.user_id == user.id))
    session.execute(delete(Identity).where(Identity.user_id == user.id))
    session.execute(update(AccountLink).where(AccountLink.user_id == user.id).values(details=None))
    user.display_name = ERASED_NAME
    user.status, user.status_reason, user.status_until = "deleted", None, None
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    user.deleted_at = user.updated_at = now
    session.expire(user, ["identities"])
    record(
        session,
        actor_id=user.id,
        action="user.erase",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
    )
