"""Idempotency-Key: the first response to (scope, key) is kept and replayed; another body under
the same key is refused.

The claim is a row inserted with ON CONFLICT DO NOTHING inside the request's own transaction:
a concurrent request with the same key waits on the unique index until the first commits, then
reads the stored response, so however many arrive at once there is one effect. Redis keeps a
replay cache in front; without Redis the replay comes from PostgreSQL. Stored responses are
sealed by the vault: they may carry tokens or keys.

Views that call a provider cannot hold that transaction open while the provider answers
(blueprints/http.py ``idempotent(atomic=False)``): their claim commits first, so a concurrent
request with the key answers 409 ``idempotency_key_in_progress`` at once, and a claim whose
request died is taken over after ``IN_PROGRESS_LEASE``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from redis import Redis, RedisError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from player_platform.db import after_commit, insert_for
from player_platform.errors import Conflict, Invalid
from player_platform.idempotency.models import IdempotencyRecord
from player_platform.outage import degraded
from player_platform.security.vault import Vault

RETENTION = timedelta(hours=24)
# A claim committed before its request ran (views that call a provider) and still without a
# response this long after: its request died; the next one with the key takes it over.
IN_PROGRESS_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Request:
    scope: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, *, scope: str, key: str, method: str, path: str, body: bytes) -> Request:
        digest = hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()
        return cls(scope=scope, key=key, fingerprint=digest)

    @property
    def cache_key(self) -> str:
        return "pp:idem:" + hashlib.sha256(f"{self.scope}\n{self.key}".encode()).hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


def claim(
    session: Session, redis: Redis, vault: Vault, *, request: Request, now: datetime
) -> uuid.UUID | StoredResponse:
    """Own the key (returns the new record id) or get the response to replay."""
    cached = _cached(redis, request)
    if cached is not None:
        fingerprint, status, body = json.loads(vault.open(cached.decode(), context="idempotency"))
        _same_request(request, fingerprint)
        return StoredResponse(status, body)
    table = IdempotencyRecord.__table__
    record_id = session.execute(
        insert_for(session, table)
        .values(
            id=uuid.uuid4(),
            scope=request.scope,
            key=request.key,
            request_hash=request.fingerprint,
            created_at=now,
            expires_at=now + RETENTION,
        )
        .on_conflict_do_nothing(index_elements=["scope", "key"])
        .returning(table.c.id)
    ).scalar()
    if record_id is not None:
        return record_id
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == request.scope, IdempotencyRecord.key == request.key
        )
    )
    _same_request(request, record.request_hash)
    if record.response_status is None and record.created_at < now - IN_PROGRESS_LEASE:
        taken = session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.id == record.id,
                IdempotencyRecord.created_at == record.created_at,
                IdempotencyRecord.response_status.is_(None),
            )
            .values(created_at=now)
        )
        if taken.rowcount == 1:
            return record.id
    if record.response_status is None or record.response_body is None:
        raise Conflict(
            "A request with this Idempotency-Key is still in progress.",
            code="idempotency_key_in_progress",
        )
    return StoredResponse(
        record.response_status, json.loads(vault.open(record.response_body, context="idempotency"))
    )


def complete(
    session: Session,
    redis: Redis,
    vault: Vault,
    *,
    record_id: uuid.UUID,
    request: Request,
    status: int,
    body: Any,
) -> None:
    """Keep the response of a successful request; the cache is filled after commit."""
    record = session.get(IdempotencyRecord, record_id)
    record.response_status = status
    record.response_body = vault.seal(json.dumps(body), context="idempotency")
    cached = vault.seal(json.dumps([request.fingerprint, status, body]), context="idempotency")
    after_commit(session, lambda: _cache(redis, request, cached))


def _cached(redis: Redis, request: Request) -> bytes | None:
    try:
        return redis.get(request.cache_key)
    except RedisError as error:
        degraded("idempotency_cache", error)
        return None


def _cache(redis: Redis, request: Request, sealed: str) -> None:
    try:
        redis.set(request.cache_key, sealed, ex=int(RETENTION.total_seconds()))
    except RedisError as error:  # the record in PostgreSQL replays it all the same
        degraded("idempotency_cache", error)


def release(session: Session, *, record_id: uuid.UUID) -> None:
    """Forget a claim whose request failed, so that a retry runs again."""
    session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def purge_expired(session: Session, *, now: datetime) -> int:
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    return result.rowcount or 0


def _same_request(request: Request, fingerprint: str) -> None:
    if fingerprint != request.fingerprint:
        raise Invalid(
            "This Idempotency-Key was used with another request.", code="idempotency_key_reused"
        )
