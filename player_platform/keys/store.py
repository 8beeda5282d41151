"""Keys once they are in the warehouse: claimed once, shown masked, revealed to their owner
only (audited), revoked for good."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.db import iso_or_none
from player_platform.errors import Conflict, NotFound
from player_platform.keys import codes, inventory
from player_platform.keys.models import GameKey
from player_platform.pagination import Page, Position
from player_platform.security.vault import Vault


def claim(
    session: Session,
    *,
    sku_id: str,
    quantity: int,
    owner_id: uuid.UUID,
    now: datetime,
    order_id: uuid.UUID | None = None,
    grant_key: str | None = None,
) -> list[GameKey]:
    """Take up to ``quantity`` available keys of ``sku_id`` for their owner, in one statement:
    ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) RETURNING``. Concurrent
    claims skip each other's rows instead of waiting, and each key is taken once (SQLite, which
    has no row locks, serialises writers). Fewer come back when the pool runs short."""
    if quantity <= 0:
        return []
    chosen = (
        select(GameKey.id)
        .where(GameKey.sku_id == sku_id, GameKey.status == "available")
        .order_by(GameKey.created_at)
        .limit(quantity)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(GameKey)
        .where(GameKey.id.in_(chosen.scalar_subquery()), GameKey.status == "available")
        .values(
            status="assigned",
            user_id=owner_id,
            order_id=order_id,
            grant_key=grant_key,
            assigned_at=now,
            updated_at=now,
        )
        .returning(GameKey)
        .execution_options(synchronize_session=False)
    ).all()
    return list(claimed)


def shown_status(key: GameKey) -> str:
    """A key revoked after its owner saw the code is ``burned``: it may be in use somewhere."""
    if key.status == "revoked" and key.revealed_at is not None:
        return "burned"
    return key.status


def view(key: GameKey) -> dict[str, Any]:
    """A key as lists show it: masked, never the code."""
    return {
        "id": key.id,
        "sku_id": key.sku_id,
        "platform": key.platform,
        "masked_code": codes.mask(key.hint),
        "status": shown_status(key),
        "order_id": key.order_id,
        "source": key.source,
        "assigned_at": key.assigned_at,
        "delivered_at": key.delivered_at,
        "revealed_at": key.revealed_at,
    }


def admin_view(key: GameKey) -> dict[str, Any]:
    return {
        **view(key),
        "pool_id": key.pool_id,
        "user_id": key.user_id,
        "vault_kid": key.vault_kid,
        "revoked_at": key.revoked_at,
        "revocation_reason": key.revocation_reason,
        "created_at": key.created_at,
    }


def owned(session: Session, *, user_id: uuid.UUID, limit: int, cursor: str | None) -> Page:
    """The player's delivered keys, newest first (revoked ones included: they show why). A key
    claimed for a line still short of keys shows once the line is complete."""
    return _page(
        session,
        select(GameKey).where(GameKey.user_id == user_id, GameKey.delivered_at.is_not(None)),
        limit=limit,
        cursor=cursor,
    )


def of_order(session: Session, *, order_id: uuid.UUID) -> list[GameKey]:
    return list(
        session.scalars(
            select(GameKey)
            .where(GameKey.order_id == order_id, GameKey.delivered_at.is_not(None))
            .order_by(GameKey.sku_id, GameKey.assigned_at, GameKey.id)
        )
    )


def listing(
    session: Session,
    *,
    limit: int,
    cursor: str | None,
    sku_id: str | None = None,
    status: str | None = None,
) -> Page:
    query = select(GameKey)
    if sku_id is not None:
        query = query.where(GameKey.sku_id == sku_id)
    if status == "burned":
        query = query.where(GameKey.status == "revoked", GameKey.revealed_at.is_not(None))
    elif status is not None:
        query = query.where(GameKey.status == status)
    return _page(session, query, limit=limit, cursor=cursor)


def _page(session: Session, query: Any, *, limit: int, cursor: str | None) -> Page:
    query = query.order_by(GameKey.created_at.desc(), GameKey.id.desc()).limit(limit + 1)
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(tuple_(GameKey.created_at, GameKey.id) < (after.created_at, after.id))
    keys = list(session.scalars(query))
    more = len(keys) > limit
    keys = keys[:limit]
    return Page(keys, Position(keys[-1].created_at, keys[-1].id).encode() if more else None)


def get(session: Session, key_id: uuid.UUID, *, lock: bool = False) -> GameKey:
    query = select(GameKey).where(GameKey.id == key_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    key = session.scalars(query).one_or_none()
    if key is None:
        raise NotFound("No such key.", code="key_not_found")
    return key


def reveal(
    session: Session,
    *,
    vault: Vault,
    user_id: uuid.UUID,
    key_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> tuple[GameKey, str]:
    """The code of the caller's own key; the first reveal is stamped, every one audited with
    the caller's IP. A revoked key is not shown (409 ``key_revoked``)."""
    key = get(session, key_id, lock=True)
    if key.user_id != user_id or key.delivered_at is None:
        raise NotFound("No such key.", code="key_not_found")
    if key.status == "revoked":
        raise Conflict("This key was revoked.", code="key_revoked")
    key.revealed_at = key.revealed_at or now
    record(
        session,
        actor_id=user_id,
        action="key.reveal",
        resource_type="game_key",
        resource_id=key.id,
        origin=origin,
        new={"sku_id": key.sku_id, "ip": origin.ip},
    )
    return key, vault.open(key.sealed_code, context=codes.context(key.id))


def revoke(key: GameKey, *, reason: str, now: datetime) -> None:
    key.status, key.revoked_at, key.revocation_reason = "revoked", now, reason
    key.updated_at = now


def release(key: GameKey, *, now: datetime) -> None:
    """Back to its pool, unrevealed (a refund under PP_KEYS_RETURN_UNREVEALED)."""
    key.status, key.user_id, key.order_id, key.grant_key = "available", None, None, None
    key.assigned_at = key.delivered_at = None
    key.updated_at = now


def admin_revoke(
    session: Session, *, key_id: uuid.UUID, actor_id: uuid.UUID, origin: Origin, now: datetime
) -> GameKey:
    """Revoke one key for good (a leaked or faulty code): it is never sold again. Audited."""
    key = get(session, key_id, lock=True)
    old = shown_status(key)
    if key.status != "revoked":
        revoke(key, reason="admin", now=now)
    _audit(session, key, "key.revoke", actor_id, origin, old={"status": old})
    return key


def admin_update(
    session: Session,
    *,
    key_id: uuid.UUID,
    platform: str,
    actor_id: uuid.UUID,
    origin: Origin,
    now: datetime,
    threshold: int,
) -> GameKey:
    """Move an unsold key to the pool of another platform of its SKU (it was imported under
    the wrong one). Audited."""
    key = get(session, key_id, lock=True)
    if key.status != "available":
        raise Conflict("Only an available key can move.", code="key_not_available")
    old = {"platform": key.platform}
    pool = inventory.ensure_pool(
        session, sku_id=key.sku_id, platform=platform, threshold=threshold, now=now
    )
    key.platform, key.pool_id, key.updated_at = platform, pool.id, now
    _audit(session, key, "key.update", actor_id, origin, old=old)
    return key


def _audit(session: Session, key: GameKey, action: str, actor_id, origin, *, old) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        resource_type="game_key",
        resource_id=key.id,
        origin=origin,
        old=old,
        new={
            "status": shown_status(key),
            "platform": key.platform,
            "revoked_at": iso_or_none(key.revoked_at),
        },
    )
