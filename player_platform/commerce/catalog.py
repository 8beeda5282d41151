"""The catalog: SKUs, their prices per currency, search, and admin changes (audited)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.commerce import wishlists
from player_platform.commerce.models import Sku
from player_platform.db import contains_pattern
from player_platform.errors import Conflict, Invalid, NotFound
from player_platform.jobs import Jobs
from player_platform.pagination import Page

SORTS = {
    "name": (Sku.name.asc(), Sku.id.asc()),
    "-name": (Sku.name.desc(), Sku.id.desc()),
    "created_at": (Sku.created_at.asc(), Sku.id.asc()),
    "-created_at": (Sku.created_at.desc(), Sku.id.desc()),
}
AUDITED = (
    "type",
    "name",
    "description",
    "prices",
    "platforms",
    "tags",
    "contents",
    "steam_item_id",
    "epic_catalog_item_ids",
    "active",
    "margin_floor",
    "publisher_id",
)


def get_sku(session: Session, sku_id: str, *, active_only: bool = False) -> Sku:
    sku = session.scalar(select(Sku).where(Sku.sku_id == sku_id))
    if sku is None or (active_only and not sku.active):
        raise NotFound(f"No SKU {sku_id!r}.", code="sku_not_found")
    return sku


def margin_floor(session: Session, sku_id: str) -> int | None:
    """The highest supplier price (EUR cents per key) at which ``sku_id`` may be bought."""
    return session.scalar(select(Sku.margin_floor).where(Sku.sku_id == sku_id))


def search(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    q: str | None = None,
    type: str | None = None,
    platform: str | None = None,
    tag: str | None = None,
    sort: str = "name",
    include_inactive: bool = False,
    publisher_id: uuid.UUID | None = None,
) -> Page[Sku]:
    """Active SKUs matching the filters (one publisher's when ``publisher_id`` is given).
    ``q`` is full-text on PostgreSQL (name and description, plus a substring match on the
    name), a substring match elsewhere."""
    query = select(Sku).order_by(*SORTS[sort])
    if publisher_id is not None:
        query = query.where(Sku.publisher_id == publisher_id)
    if not include_inactive:
        query = query.where(Sku.active.is_(True))
    if type is not None:
        query = query.where(Sku.type == type)
    if q:
        query = query.where(_matches(session, q))
    skus = list(session.scalars(query))
    # platforms and tags are JSON lists: filtered here, which keeps one query for both dialects.
    if platform is not None:
        skus = [s for s in skus if platform in s.platforms]
    if tag is not None:
        skus = [s for s in skus if tag in s.tags]
    offset = _offset(cursor)
    page = skus[offset : offset + limit]
    more = len(skus) > offset + limit
    return Page(page, _encode_offset(offset + limit) if more else None)


def _matches(session: Session, q: str) -> Any:
    pattern = contains_pattern(q)
    like = or_(Sku.name.ilike(pattern, escape="\\"), Sku.description.ilike(pattern, escape="\\"))
    if session.get_bind().dialect.name != "postgresql":
        return like
    document = func.to_tsvector("simple", Sku.name + " " + Sku.description)
    return or_(document.op("@@")(func.plainto_tsquery("simple", q)), like)


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = value.partition(":")
        if kind != "o" or not number.isdigit():
            raise ValueError(value)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(
            "The cursor is not one this API gave out.",
            code="invalid_cursor",
            errors={"cursor": ["invalid"]},
        ) from None


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def create_sku(
    session: Session, *, actor_id: uuid.UUID, origin: Origin, now: datetime, **values: Any
) -> Sku:
    _check_contents(session, values)
    sku = Sku(**values, created_at=now, updated_at=now)
    session.add(sku)
    _flush_unique(session)
    record(
        session,
        actor_id=actor_id,
        action="sku.create",
        resource_type="sku",
        resource_id=sku.sku_id,
        origin=origin,
        new=_snapshot(sku),
    )
    return sku


def update_sku(
    session: Session,
    *,
    sku_id: str,
    actor_id: uuid.UUID,
    origin: Origin,
    jobs: Jobs,
    now: datetime,
    **changes: Any,
) -> Sku:
    """Change a SKU (audited); wishlisters hear of a price drop or its return to sale."""
    sku = get_sku(session, sku_id)
    old = _snapshot(sku)
    _check_contents(session, {"type": changes.get("type", sku.type), **changes})
    for name, value in changes.items():
        setattr(sku, name, value)
    sku.updated_at = now
    _flush_unique(session)
    new = _snapshot(sku)
    changed = [k for k in AUDITED if old[k] != new[k]]
    record(
        session,
        actor_id=actor_id,
        action="sku.update",
        resource_type="sku",
        resource_id=sku.sku_id,
        origin=origin,
        old={k: old[k] for k in changed},
        new={k: new[k] for k in changed},
    )
    wishlists.sku_changed(session, jobs=jobs, sku=sku, old=old)
    return sku


def _check_contents(session: Session, values: dict[str, Any]) -> None:
    """Bundles list existing, non-bundle SKUs; other types have no contents."""
    contents = values.get("contents")
    if values.get("type") != "bundle":
        if contents:
            raise Invalid("Only bundles have contents.", errors={"contents": ["Not a bundle."]})
        return
    if not contents and "contents" in values:
        raise Invalid("A bundle needs contents.", errors={"contents": ["Required."]})
    wanted = {line["sku_id"] for line in contents or []}
    found = dict(session.execute(select(Sku.sku_id, Sku.type).where(Sku.sku_id.in_(wanted))).all())
    if set(found) != wanted or "bundle" in found.values():
        raise Invalid(
            "Bundle contents must be existing SKUs that are not bundles.",
            code="invalid_bundle",
            errors={"contents": sorted(wanted - set(found)) or ["Nested bundle."]},
        )


def _flush_unique(session: Session) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("Another SKU has this sku_id or steam_item_id.", code="sku_exists") from None


def _snapshot(sku: Sku) -> dict[str, Any]:
    values = {k: getattr(sku, k) for k in AUDITED}
    values["publisher_id"] = str(sku.publisher_id) if sku.publisher_id else None  # JSON
    return values


def expand(session: Session, sku: Sku, quantity: int) -> list[tuple[Sku, int]]:
    """What a purchase of ``quantity`` x ``sku`` delivers: bundles open into their contents."""
    if sku.type != "bundle":
        return [(sku, quantity)]
    lines = []
    for line in sku.contents or []:
        lines.append((get_sku(session, line["sku_id"]), line["quantity"] * quantity))
    return lines
