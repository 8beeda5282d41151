"""Server API keys: created by an admin, shown once, stored as a SHA-256, scoped, revocable.

Game servers and partners send ``Authorization: ApiKey <key>``. A key is 256 random bits, so a
plain SHA-256 is the right hash (a slow password hash would add nothing but latency)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.errors import Forbidden, NotFound, Unauthorized
from player_platform.pagination import Page, Position
from player_platform.security.models import ApiKey
from player_platform.security.tokens import hash_token, new_opaque_token

SCOPES = ("leaderboards:write", "grants:write", "metrics:read", "keys:purchase")
KEY_PREFIX = "pp_"
LAST_USED_PRECISION = timedelta(minutes=1)  # last_used_at is written at most once a minute


@dataclass(frozen=True)
class ServerCaller:
    """A request made with a live API key."""

    key_id: uuid.UUID
    name: str
    scopes: tuple[str, ...]
    owner_id: uuid.UUID | None = None  # a reseller's key buys for this account

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"This API key lacks the {scope} scope.", code="missing_scope")


@dataclass(frozen=True)
class NewKey:
    api_key: ApiKey
    key: str  # the only time the key is seen in clear

    def __getattr__(self, name: str) -> object:  # the key's other attributes, for display
        return getattr(self.api_key, name)


def create_key(
    session: Session,
    *,
    actor_id: uuid.UUID,
    name: str,
    scopes: list[str],
    origin: Origin,
    now: datetime,
    owner_id: uuid.UUID | None = None,
) -> NewKey:
    key = KEY_PREFIX + new_opaque_token()
    api_key = ApiKey(
        name=name.strip(),
        prefix=key[:10],
        key_hash=hash_token(key),
        scopes=sorted(set(scopes)),
        owner_id=owner_id,
        created_by=actor_id,
        created_at=now,
    )
    session.add(api_key)
    session.flush()
    record(
        session,
        actor_id=actor_id,
        action="api_key.create",
        resource_type="api_key",
        resource_id=api_key.id,
        origin=origin,
        new={
            "name": api_key.name,
            "scopes": api_key.scopes,
            "prefix": api_key.prefix,
            "owner_id": str(owner_id) if owner_id else None,
        },
    )
    return NewKey(api_key, key)


def list_keys(session: Session, *, limit: int, cursor: str | None = None) -> Page[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc()).limit(limit + 1)
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(tuple_(ApiKey.created_at, ApiKey.id) < (after.created_at, after.id))
    keys = list(session.scalars(query))
    more = len(keys) > limit
    keys = keys[:limit]
    return Page(keys, Position(keys[-1].created_at, keys[-1].id).encode() if more else None)


def get_key(session: Session, *, key_id: uuid.UUID) -> ApiKey:
    api_key = session.get(ApiKey, key_id)
    if api_key is None:
        raise NotFound("No such API key.", code="api_key_not_found")
    return api_key


def revoke_key(
    session: Session, *, actor_id: uuid.UUID, key_id: uuid.UUID, origin: Origin, now: datetime
) -> ApiKey:
    """Revoke at once; revoking a revoked key changes nothing."""
    api_key = get_key(session, key_id=key_id)
    if api_key.revoked_at is None:
        api_key.revoked_at = now
        record(
            session,
            actor_id=actor_id,
            action="api_key.revoke",
            resource_type="api_key",
            resource_id=api_key.id,
            origin=origin,
            old={"revoked_at": None},
            new={"revoked_at": now.isoformat()},
        )
    return api_key


def authenticate(session: Session, *, key: str, now: datetime) -> ServerCaller:
    row = session.execute(
        select(ApiKey.id, ApiKey.name, ApiKey.scopes, ApiKey.owner_id, ApiKey.last_used_at).where(
            ApiKey.key_hash == hash_token(key), ApiKey.revoked_at.is_(None)
        )
    ).first()
    if row is None:
        raise Unauthorized("The API key is invalid or revoked.", code="invalid_api_key")
    if row.last_used_at is None or row.last_used_at < now - LAST_USED_PRECISION:
        session.execute(update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=now))
    return ServerCaller(
        key_id=row.id, name=row.name, scopes=tuple(row.scopes), owner_id=row.owner_id
    )
