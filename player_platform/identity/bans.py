"""Bans and suspensions, set by moderators. They take effect at once: every authenticated
request and every refresh checks the account's standing (sessions.ensure_active)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.errors import Forbidden, Invalid, InvalidState, NotFound
from player_platform.identity.models import User
from player_platform.identity.sessions import CLOSED_STATUSES, Actor, revoke_all


def ban(
    session: Session,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    reason: str,
    until: datetime | None,
    origin: Origin,
    now: datetime,
) -> User:
    """Ban ``user_id`` for good (no ``until``) or suspend it until ``until``."""
    if until is not None and until <= now:
        raise Invalid(
            "until must be in the future.",
            code="validation_error",
            errors={"until": ["Must be in the future."]},
        )
    user = _target(session, actor=actor, user_id=user_id)
    old = _standing(user)
    user.status = "banned" if until is None else "suspended"
    user.status_reason, user.status_until, user.updated_at = reason, until, now
    record(
        session,
        actor_id=actor.id,
        action="user.ban",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
        old=old,
        new=_standing(user),
    )
    return user


def unban(
    session: Session,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    reason: str | None,
    origin: Origin,
    now: datetime,
) -> User:
    user = _target(session, actor=actor, user_id=user_id)
    if user.status == "active":
        return user
    old = _standing(user)
    user.status, user.status_reason, user.status_until, user.updated_at = "active", None, None, now
    record(
        session,
        actor_id=actor.id,
        action="user.unban",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
        old=old,
        new={**_standing(user), "reason": reason},
    )
    return user


def _target(session: Session, *, actor: Actor, user_id: uuid.UUID) -> User:
    actor.require_role("moderator")
    user = session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    if user.id == actor.id:
        raise Forbidden("Staff cannot ban themselves.", code="forbidden")
    if user.is_staff and not actor.user.has_role("admin"):
        raise Forbidden("Only an admin can ban staff.", code="forbidden")
    if user.status in CLOSED_STATUSES:
        raise InvalidState("This account is closed.", code="account_closed")
    return user


def _standing(user: User) -> dict[str, str | None]:
    return {
        "status": user.status,
        "reason": user.status_reason,
        "until": user.status_until.isoformat() if user.status_until else None,
    }


def sign_out_everywhere(
    session: Session, *, actor: Actor, user_id: uuid.UUID, origin: Origin, now: datetime
) -> int:
    """A moderator ends every session of ``user_id``; how many were open."""
    user = _target(session, actor=actor, user_id=user_id)
    ended = revoke_all(session, user_id=user.id, now=now)
    record(
        session,
        actor_id=actor.id,
        action="user.sign_out_everywhere",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
        new={"sessions_ended": ended},
    )
    return ended
