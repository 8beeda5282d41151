"""Finding players for staff: by email, display name, id or a provider's id."""

from __future__ import annotations

import contextlib
import uuid

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session, selectinload

from player_platform.db import json_array_holds_any
from player_platform.identity.models import STAFF_ROLES, Identity, User
from player_platform.pagination import Page, Position

PROVIDERS = ("email", "steam", "epic", "twitch")


def search_users(
    session: Session, *, q: str | None, limit: int, cursor: str | None = None
) -> Page[User]:
    """Newest first. ``q`` matches an id exactly, an identity's provider id or email exactly
    (emails are stored normalised), or a display name by its beginning, case-insensitively."""
    query = (
        select(User)
        .options(selectinload(User.identities))
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(limit + 1)
    )
    if q:
        query = query.where(_matches(q.strip()))
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(tuple_(User.created_at, User.id) < (after.created_at, after.id))
    users = list(session.scalars(query))
    more, users = len(users) > limit, users[:limit]
    return Page(users, Position(users[-1].created_at, users[-1].id).encode() if more else None)


def staff_members(session: Session, *, limit: int = 200) -> list[User]:
    """Moderators and admins by display name (whom a report can be assigned to)."""
    query = (
        select(User)
        .where(json_array_holds_any(session, User.roles, STAFF_ROLES))
        .order_by(User.display_name, User.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _matches(q: str):
    # (provider, provider_id) is unique and indexed: name each provider so the index is used.
    keys = [(p, q) for p in PROVIDERS] + [("email", q.lower())]
    by_identity = select(Identity.user_id).where(
        tuple_(Identity.provider, Identity.provider_id).in_(keys)
    )
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    conditions = [User.id.in_(by_identity), User.display_name.ilike(escaped + "%", escape="\\")]
    with contextlib.suppress(ValueError):
        conditions.append(User.id == uuid.UUID(q))
    return or_(*conditions)
