"""The moderation queue: what waits for a moderator, oldest first, in one keyset-paged list.

Three kinds of entry: ``ugc`` (an item pending_review or flagged, waiting since its last
change), ``report`` (an open report) and ``appeal`` (an open appeal). One UNION ALL ordered by
(waiting_since, id) so the cursor is the common ``pagination.Position``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, literal, null, select, tuple_, union_all
from sqlalchemy.orm import Session

from player_platform.pagination import Page, Position
from player_platform.ugc.models import UgcAppeal, UgcItem, UgcReport

KINDS = ("ugc", "report", "appeal")
WAITING = ("pending_review", "flagged")


@dataclass(frozen=True)
class Entry:
    kind: str
    id: uuid.UUID
    ugc: UgcItem
    reason: str | None
    text: str | None
    by: uuid.UUID | None  # the reporter or the appellant
    waiting_since: datetime


@dataclass(frozen=True)
class QueueFilters:
    kind: str | None = None
    type: str | None = None
    reason: str | None = None


def queue(
    session: Session, *, filters: QueueFilters, limit: int, cursor: str | None
) -> Page[Entry]:
    parts = [
        part
        for kind, part in (("ugc", _items), ("report", _reports), ("appeal", _appeals))
        if filters.kind in (None, kind) and not (kind == "appeal" and filters.reason)
    ]
    waiting = union_all(*(part(filters) for part in parts)).subquery()
    query = select(waiting).order_by(waiting.c.waiting_since, waiting.c.id).limit(limit + 1)
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(
            tuple_(waiting.c.waiting_since, waiting.c.id) > tuple_(after.created_at, after.id)
        )
    rows = session.execute(query).all()
    ugc_ids = {row.ugc_id for row in rows[:limit]}
    items = {i.id: i for i in session.scalars(select(UgcItem).where(UgcItem.id.in_(ugc_ids)))}
    entries = [
        Entry(row.kind, row.id, items[row.ugc_id], row.reason, row.text, row.by,
              row.waiting_since)
        for row in rows[:limit]
    ]  # fmt: skip
    more = len(rows) > limit
    last = entries[-1] if more else None
    return Page(entries, Position(last.waiting_since, last.id).encode() if last else None)


def _items(filters: QueueFilters) -> Select:
    query = select(
        literal("ugc").label("kind"),
        UgcItem.id.label("id"),
        UgcItem.id.label("ugc_id"),
        UgcItem.status_reason.label("reason"),
        null().label("text"),
        null().label("by"),
        UgcItem.updated_at.label("waiting_since"),
    ).where(UgcItem.status.in_(WAITING))
    if filters.type:
        query = query.where(UgcItem.type == filters.type)
    if filters.reason:
        query = query.where(
            exists().where(
                UgcReport.ugc_id == UgcItem.id,
                UgcReport.status == "open",
                UgcReport.reason == filters.reason,
            )
        )
    return query


def _reports(filters: QueueFilters) -> Select:
    query = select(
        literal("report").label("kind"),
        UgcReport.id.label("id"),
        UgcReport.ugc_id.label("ugc_id"),
        UgcReport.reason.label("reason"),
        UgcReport.description.label("text"),
        UgcReport.reporter_id.label("by"),
        UgcReport.created_at.label("waiting_since"),
    ).where(UgcReport.status == "open")
    if filters.type:
        query = query.join(UgcItem, UgcItem.id == UgcReport.ugc_id).where(
            UgcItem.type == filters.type
        )
    if filters.reason:
        query = query.where(UgcReport.reason == filters.reason)
    return query


def _appeals(filters: QueueFilters) -> Select:
    query = select(
        literal("appeal").label("kind"),
        UgcAppeal.id.label("id"),
        UgcAppeal.ugc_id.label("ugc_id"),
        null().label("reason"),
        UgcAppeal.message.label("text"),
        UgcAppeal.user_id.label("by"),
        UgcAppeal.created_at.label("waiting_since"),
    ).where(UgcAppeal.status == "open")
    if filters.type:
        query = query.join(UgcItem, UgcItem.id == UgcAppeal.ugc_id).where(
            UgcItem.type == filters.type
        )
    return query
