"""The one way to write the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from player_platform.audit.models import AuditLog
from player_platform.pagination import Page, Position


@dataclass(frozen=True)
class Origin:
    """Where an action came from: the request's IP, user agent and id (none for the system)."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


SYSTEM = Origin(user_agent="system")


def record(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    resource_type: str,
    resource_id: object,
    origin: Origin,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(
        actor_id=actor_id,
        action=action,
        resource_type=resource_type,
        resource_id=None if resource_id is None else str(resource_id),
        old_values=old,
        new_values=new,
        ip=origin.ip,
        user_agent=(origin.user_agent or "")[:255] or None,
        request_id=origin.request_id,
    )
    session.add(entry)
    return entry


def list_entries(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    actor_id: uuid.UUID | None = None,
    action: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[AuditLog]:
    """Newest first, filtered (``since`` inclusive, ``until`` exclusive); ``cursor`` resumes
    after the last entry of the previous page."""
    query = (
        select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit + 1)
    )
    filters = {
        AuditLog.actor_id: actor_id,
        AuditLog.action: action,
        AuditLog.resource_type: resource_type,
        AuditLog.resource_id: resource_id,
    }
    query = query.where(
        *(column == value for column, value in filters.items() if value is not None)
    )
    if since is not None:
        query = query.where(AuditLog.created_at >= since)
    if until is not None:
        query = query.where(AuditLog.created_at < until)
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(tuple_(AuditLog.created_at, AuditLog.id) < (after.created_at, after.id))
    entries = list(session.scalars(query))
    more = len(entries) > limit
    entries = entries[:limit]
    next_cursor = Position(entries[-1].created_at, entries[-1].id).encode() if more else None
    return Page(entries, next_cursor)
