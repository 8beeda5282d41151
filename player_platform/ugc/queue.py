"""The moderation queue: what waits for a moderator, oldest first, in one keyset-paged list.

Three kinds of entry: ``ugc`` (an item pending_review or flagged, waiting since its last
change), ``report`` (an open report) and ``appeal`` (an open appeal). One UNION ALL ordered by
(waiting_since, id) so the cursor is the common ``pagination.Position``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, exists, func, literal, null, select, tuple_, union_all
from sqlalchemy.orm import Session

from player_platform.errors import NotFound
from player_platform.identity.models import User
from player_platform.pagination import Page, Position
from player_platform.ugc.models import UgcAppeal, UgcItem, UgcReport, UgcTransition

KINDS = ("ugc", "report", "appeal")
WAITING = ("pending_review", "flagged")
CASE_ROWS = 50  # reports and history lines shown with an item


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


@dataclass(frozen=True)
class Case:
    """One item as a moderator weighs it: its open reports, appeal, history and who is who."""

    item: UgcItem
    reports: list[UgcReport]
    appeal: UgcAppeal | None
    history: list[UgcTransition]
    names: dict[uuid.UUID, str]  # display names of the owner, claimant, proposer, reporters


def case(session: Session, *, ugc_id: uuid.UUID) -> Case:
    item = session.get(UgcItem, ugc_id)
    if item is None:
        raise NotFound("No such item.", code="ugc_not_found")
    reports = list(
        session.scalars(
            select(UgcReport)
            .where(UgcReport.ugc_id == ugc_id)
            .order_by(UgcReport.created_at.desc())
            .limit(CASE_ROWS)
        )
    )
    appeal = session.scalar(select(UgcAppeal).where(UgcAppeal.ugc_id == ugc_id))
    history = list(
        session.scalars(
            select(UgcTransition)
            .where(UgcTransition.ugc_id == ugc_id)
            .order_by(UgcTransition.created_at.desc())
            .limit(CASE_ROWS)
        )
    )
    people = {item.creator_id, item.claimed_by, item.removal_proposed_by}
    people |= {r.reporter_id for r in reports} | {t.actor_id for t in history}
    return Case(item, reports, appeal, history, display_names(session, people))


def display_names(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {row.id: row.display_name for row in rows}


def waiting_by_type(session: Session) -> dict[str, dict[str, int]]:
    """Queue depth: items waiting per type and status, and open reports and appeals."""
    depth: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(UgcItem.type, UgcItem.status, func.count())
        .where(UgcItem.status.in_(WAITING))
        .group_by(UgcItem.type, UgcItem.status)
    )
    for type_, status, count in rows:
        depth.setdefault(type_, {})[status] = count
    return depth


def open_counts(session: Session) -> dict[str, int]:
    reports = session.scalar(
        select(func.count()).select_from(UgcReport).where(UgcReport.status == "open")
    )
    appeals = session.scalar(
        select(func.count()).select_from(UgcAppeal).where(UgcAppeal.status == "open")
    )
    return {"reports": reports or 0, "appeals": appeals or 0}
