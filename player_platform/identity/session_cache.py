"""The open-session and standing check of a read-only caller, answered from Redis.

PostgreSQL stays the truth; Redis holds, per user, what ``authenticate_view`` last read there:
the ``UserView`` and which sessions (refresh-token families) were open. A hit costs one Redis
round trip instead of a pool checkout, BEGIN, SELECT and COMMIT.

Never stale, by three rules:

- Whatever can end a session or change the user is followed, once committed, by ``invalidate``
  (``mark_stale`` registers it on the unit of work): revoking a family or every session
  (sign-out, reuse of a refresh token, password reset, merge, erasure) and any flush that
  changes a ``User`` row (ban, suspension, unban, role, name, region, closure). It deletes
  the entry and bumps the user's generation.
- A miss is filled only under the generation read before PostgreSQL was asked: a fill that
  raced with a revocation (read "open", the revocation committed and invalidated, then the fill)
  finds another generation and is dropped, so it cannot bring the session back. A missing
  generation is created with a random value, so a flush or an expiry between the read and the
  fill cannot look like "nothing happened" either.
- Without Redis (an error, the circuit open) the check goes to PostgreSQL and nothing is
  filled (outage.py).

Every key of a user carries its hash tag (``pp:{u:<id>}:...``) and each script touches the keys
of one user only, so it works on Redis Cluster.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass

import orjson
from redis import Redis, RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from player_platform.db import after_commit
from player_platform.identity.models import User
from player_platform.outage import degraded

# KEYS: entry, generation; ARGV: session field, a fresh generation, ttl.
# -> {generation, user JSON or false, session flag or false}
_READ = """
local generation = redis.call('GET', KEYS[2])
if not generation then
  generation = ARGV[2]
  redis.call('SET', KEYS[2], generation, 'EX', ARGV[3])
end
local found = redis.call('HMGET', KEYS[1], 'user', ARGV[1])
return {generation, found[1], found[2]}
"""

# KEYS: entry, generation; ARGV: generation read, session field, user JSON, ttl.
_FILL = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'user', ARGV[3], ARGV[2], '1')
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""

# KEYS: entry, generation; ARGV: ttl.
_INVALIDATE = """
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1
"""


@dataclass(frozen=True, slots=True)
class Lookup:
    """What Redis answered for one caller: the user's generation, and the cached user (a dict
    of ``UserView`` fields) when both it and the caller's session are cached."""

    generation: bytes
    user: dict | None


class SessionCache:
    def __init__(self, redis: Redis, *, ttl_seconds: int) -> None:
        self.redis = redis
        # An entry lives no longer than an access token: a family whose rows are purged (its
        # refresh tokens expired) has no live access token left by then.
        self.ttl_seconds = ttl_seconds
        self._read = redis.register_script(_READ)
        self._fill = redis.register_script(_FILL)
        self._invalidate = redis.register_script(_INVALIDATE)
        self._lock = threading.Lock()
        self._pending: set[uuid.UUID] = set()  # invalidations Redis did not take yet

    def lookup(self, user_id: uuid.UUID, session_id: uuid.UUID) -> Lookup | None:
        """The cached answer for this caller; None when Redis cannot be asked."""
        if self._pending:
            self._retry_pending()
        try:
            generation, user, open_ = self._read(
                keys=_keys(user_id),
                args=[_field(session_id), _fresh_generation(), self.ttl_seconds],
            )
        except RedisError as error:
            degraded("session_cache", error)
            return None
        cached = orjson.loads(user) if user and open_ else None
        return Lookup(generation=generation, user=cached)

    def fill(self, lookup: Lookup, user_id: uuid.UUID, session_id: uuid.UUID, user: dict) -> None:
        """Cache what PostgreSQL said (the session open, the user in good standing), unless the
        user was invalidated since ``lookup``."""
        try:
            self._fill(
                keys=_keys(user_id),
                args=[lookup.generation, _field(session_id), orjson.dumps(user), self.ttl_seconds],
            )
        except RedisError as error:
            degraded("session_cache", error)

    def invalidate(self, user_id: uuid.UUID) -> None:
        """Drop the user's entry and bump its generation. Without Redis, the user is kept and
        invalidated again before this process next reads the cache (DECISIONS.md, Sessions and
        tokens: an entry Redis kept through its outage is stale until then)."""
        try:
            self._invalidate(keys=_keys(user_id), args=[self.ttl_seconds])
        except RedisError as error:
            degraded("session_cache", error)
            with self._lock:
                self._pending.add(user_id)

    def _retry_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, set()
        for user_id in pending:
            self.invalidate(user_id)


def _keys(user_id: uuid.UUID) -> list[str]:
    return [f"pp:{{u:{user_id}}}:auth", f"pp:{{u:{user_id}}}:auth:generation"]


def _field(session_id: uuid.UUID) -> str:
    return f"s:{session_id}"


def _fresh_generation() -> int:
    return secrets.randbits(52)  # an integer, so INCR can bump it


def cache_of(session: Session) -> SessionCache | None:
    """The session cache of the unit of work's platform (None: not configured)."""
    return session.info.get("session_cache")


def mark_stale(session: Session, user_id: uuid.UUID) -> None:
    """Invalidate ``user_id``'s entry once the unit of work that owns ``session`` commits."""
    cache = cache_of(session)
    if cache is None:
        return
    stale = session.info.setdefault("stale_users", set())
    if not stale:
        after_commit(session, lambda: _invalidate_all(cache, stale))
    stale.add(user_id)


def _invalidate_all(cache: SessionCache, user_ids: set[uuid.UUID]) -> None:
    for user_id in user_ids:
        cache.invalidate(user_id)


def _changed_user(_mapper: object, _connection: object, user: User) -> None:
    """Any flushed change of a user (status, roles, name, closure, ...) makes its entry stale:
    a mapper event, so it costs nothing to flushes that change no user."""
    session = object_session(user)
    if session is not None:
        mark_stale(session, user.id)


event.listen(User, "after_update", _changed_user)
event.listen(User, "after_delete", _changed_user)
