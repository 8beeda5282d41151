"""GET /v1/ugc: published public items, filtered and sorted, with keyset cursors; the first page
of each type and sort served through hot lists in Redis.

PostgreSQL decides what is listed. A hot list (``pp:{ugc-hot}:{type|all}:{sort}``, a capped Redis
list of ids with a short TTL) only saves the ORDER BY: the rows of a page are always read back
from PostgreSQL by id *with* the public-and-published condition, so a stale list can never show
an item that was removed, flagged, made private or deleted. When that filter drops an id, the
page is answered by the plain query instead and the list is dropped (rebuilt by the next read);
moderation drops the lists of a type after every commit that moves an item in or out of
``published``, and the TTL bounds how long a newly published item may wait to appear.
Redis emptied or unreachable: the list is rebuilt, or the query answers alone.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis import Redis, RedisError
from sqlalchemy import ColumnElement, Select, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from player_platform.db import contains_pattern
from player_platform.errors import Invalid
from player_platform.pagination import Page
from player_platform.ugc.models import UgcItem

log = logging.getLogger(__name__)

HOT_SIZE = 100  # the longest page a hot list serves
HOT_TTL_SECONDS = 60
SORTS: dict[str, Any] = {
    "recent": UgcItem.published_at,
    "top": UgcItem.rating_score,
    "downloads": UgcItem.download_count,
}
PUBLIC = (UgcItem.status == "published", UgcItem.visibility == "public")


@dataclass(frozen=True)
class Filters:
    type: str | None = None
    tag: str | None = None
    q: str | None = None
    creator: uuid.UUID | None = None
    sort: str = "recent"

    @property
    def hot(self) -> bool:
        """Whether a hot list holds this listing's first page (only type and sort given)."""
        return self.tag is None and not self.q and self.creator is None


class HotLists:
    """The capped id lists in Redis; every failure of Redis degrades to 'no list'."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    @staticmethod
    def key(type_: str | None, sort: str) -> str:
        # One hash tag for all of them: ``invalidate`` deletes several in one command.
        return f"pp:{{ugc-hot}}:{type_ or 'all'}:{sort}"

    def read(self, type_: str | None, sort: str) -> list[uuid.UUID] | None:
        try:
            raw = self.redis.lrange(self.key(type_, sort), 0, HOT_SIZE)
        except RedisError:
            log.warning("ugc hot list unreadable", exc_info=True)
            return None
        if not raw:
            return None
        return [uuid.UUID(value.decode()) for value in raw[1:]]  # raw[0] marks a built list

    def store(self, type_: str | None, sort: str, ids: list[uuid.UUID]) -> None:
        key = self.key(type_, sort)
        try:
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                pipe.rpush(key, "built", *(str(i) for i in ids[: HOT_SIZE + 1]))
                pipe.expire(key, HOT_TTL_SECONDS)
                pipe.execute()
        except RedisError:
            log.warning("ugc hot list not stored", exc_info=True)

    def invalidate(self, type_: str | None) -> None:
        """Drop the lists an item of ``type_`` may be in (its type's and the all-types ones)."""
        keys = [self.key(t, sort) for t in {type_, None} for sort in SORTS]
        try:
            self.redis.delete(*keys)
        except RedisError:
            log.warning("ugc hot lists not dropped", exc_info=True)


def list_public(
    session: Session, hot: HotLists, *, filters: Filters, limit: int, cursor: str | None
) -> Page[UgcItem]:
    """A page of published public items; the first page of a plain listing via its hot list."""
    if cursor is None and filters.hot and limit <= HOT_SIZE:
        page = _from_hot_list(session, hot, filters=filters, limit=limit)
        if page is not None:
            return page
    return search(session, filters=filters, limit=limit, cursor=cursor)


def _from_hot_list(
    session: Session, hot: HotLists, *, filters: Filters, limit: int
) -> Page[UgcItem] | None:
    ids = hot.read(filters.type, filters.sort)
    if ids is None:
        ids = list(session.scalars(_query(session, filters).with_only_columns(UgcItem.id)
                                   .limit(HOT_SIZE + 1)))  # fmt: skip
        hot.store(filters.type, filters.sort, ids)
    wanted = ids[: limit + 1]
    # By primary key only, then checked here: the partial indexes' condition in the WHERE could
    # tempt the planner into scanning a whole listing index.
    rows = {
        item.id: item
        for item in session.scalars(select(UgcItem).where(UgcItem.id.in_(wanted)))
        if item.status == "published" and item.visibility == "public"
    }
    if len(rows) < len(wanted):  # something left the listing since the list was built
        hot.invalidate(filters.type)
        return None
    items = [rows[i] for i in wanted]
    return _page(items, limit=limit, sort=filters.sort)


def search(
    session: Session, *, filters: Filters, limit: int, cursor: str | None = None
) -> Page[UgcItem]:
    query = _query(session, filters)
    if cursor is not None:
        value, last_id = decode_cursor(cursor, sort=filters.sort)
        query = query.where(tuple_(SORTS[filters.sort], UgcItem.id) < tuple_(value, last_id))
    items = list(session.scalars(query.limit(limit + 1)))
    return _page(items, limit=limit, sort=filters.sort)


def _query(session: Session, filters: Filters) -> Select[tuple[UgcItem]]:
    column = SORTS[filters.sort]
    query = select(UgcItem).where(*PUBLIC).order_by(column.desc(), UgcItem.id.desc())
    if filters.type is not None:
        query = query.where(UgcItem.type == filters.type)
    if filters.creator is not None:
        query = query.where(UgcItem.creator_id == filters.creator)
    if filters.tag is not None:
        query = query.where(_has_tag(session, filters.tag))
    if filters.q:
        pattern = contains_pattern(filters.q)
        query = query.where(
            or_(
                UgcItem.name.ilike(pattern, escape="\\"),
                UgcItem.description.ilike(pattern, escape="\\"),
            )
        )
    return query


def _has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return UgcItem.tags.op("@>")(func.jsonb_build_array(tag))  # served by the GIN index
    each = func.json_each(UgcItem.tags).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == tag))


def _page(items: list[UgcItem], *, limit: int, sort: str) -> Page[UgcItem]:
    if len(items) <= limit:
        return Page(items, None)
    items = items[:limit]
    return Page(items, encode_cursor(items[-1], sort=sort))


def encode_cursor(item: UgcItem, *, sort: str) -> str:
    value = getattr(item, SORTS[sort].key)
    value = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([sort, value, str(item.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, sort: str) -> tuple[Any, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, last_id = json.loads(raw)
        if cursor_sort != sort:
            raise ValueError("another sort")
        if sort == "recent":
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError("naive")
        elif type(value) is not int or not 0 <= value < 2**63:
            raise ValueError("not a counter")
        return value, uuid.UUID(last_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid(
            "The cursor is not one this API gave out for this sort.",
            code="invalid_cursor",
            errors={"cursor": ["invalid"]},
        ) from None
