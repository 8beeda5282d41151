"""Serving through a Redis outage: a circuit breaker in front of the service's Redis clients, and
the count of what was served without Redis.

PostgreSQL is the source of truth and Redis holds what can be rebuilt (DESIGN.md), so no request
fails because Redis does. Each caller decides what it does without Redis (a rate limit lets the
request through, a leaderboard read goes to PostgreSQL, ...) and calls ``degraded(feature)``:
counted for /metrics (``pp_redis_degraded_total``) and logged once a minute per feature, not
once per request (``Throttle``, which also keeps the HTTP edge's "database unreachable" to one
line a minute while PostgreSQL is down).

The breaker keeps requests from waiting on Redis while it is down: a command that fails to reach
it (refused, reset, timed out) opens the circuit for ``COOLDOWN_SECONDS``, during which every
command fails at once with ``CircuitOpen``; then one command probes (the others still fail fast)
and its success closes the circuit. redis-py's own retries are cut to one immediate retry (a
pooled connection that went stale when Redis restarted), not ten with backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from redis import Redis
from redis.backoff import NoBackoff
from redis.client import Pipeline
from redis.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import ConnectionError, TimeoutError
from redis.retry import Retry

log = logging.getLogger(__name__)
COOLDOWN_SECONDS = 1.0
LOG_EVERY_SECONDS = 60.0
T = TypeVar("T")


class CircuitOpen(ConnectionError):
    """Redis failed a moment ago: this command was not sent."""


class Breaker:
    def __init__(self, *, cooldown: float = COOLDOWN_SECONDS) -> None:
        self.cooldown = cooldown
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._failing = False

    def call(self, command: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self._admit()
        try:
            result = command(*args, **kwargs)
        except (ConnectionError, TimeoutError) as error:
            self._trip(error)
            raise
        except Exception:
            self._close()  # an error reply (NOSCRIPT after a restart, say) is still an answer
            raise
        self._close()
        return result

    def _admit(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._open_until:
                raise CircuitOpen("Redis is unreachable (circuit open).")
            if self._failing:  # half-open: this command probes, the others keep failing fast
                self._open_until = now + self.cooldown

    def _trip(self, error: Exception) -> None:
        with self._lock:
            self._open_until = time.monotonic() + self.cooldown
            first, self._failing = not self._failing, True
        if first:
            log.warning("redis unreachable: failing fast", extra={"error": repr(error)})

    def _close(self) -> None:
        if not self._failing:
            return
        with self._lock:
            was_failing, self._failing, self._open_until = self._failing, False, 0.0
        if was_failing:
            log.warning("redis reachable again")


class GuardedRedis(Redis):
    """A Redis client whose commands and pipelines go through its ``breaker``."""

    breaker: Breaker

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return self.breaker.call(super().execute_command, *args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        pipe = GuardedPipeline(
            self.connection_pool, self.response_callbacks, transaction, shard_hint
        )
        pipe.breaker = self.breaker
        return pipe


class GuardedPipeline(Pipeline):
    breaker: Breaker

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        return self.breaker.call(super().execute, raise_on_error)


class GuardedRedisCluster(RedisCluster):
    """A Redis Cluster client whose commands and pipelines go through its ``breaker``: one
    breaker for the whole cluster, since any node down fails the requests that need it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.breaker = Breaker()  # before the parent's start, which already sends commands
        super().__init__(*args, **kwargs)

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        return self.breaker.call(super().execute_command, *args, **kwargs)

    def pipeline(self, transaction: bool | None = None, shard_hint: Any = None) -> ClusterPipeline:
        pipe = super().pipeline(transaction=transaction, shard_hint=shard_hint)
        pipe.__class__ = GuardedClusterPipeline  # built by the parent, with all its settings
        pipe.breaker = self.breaker
        return pipe


class GuardedClusterPipeline(ClusterPipeline):
    breaker: Breaker

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        return self.breaker.call(super().execute, raise_on_error)


def guarded_client(url: str, *, cluster: bool = False, **options: Any) -> Redis | RedisCluster:
    """A client of the Redis at ``url`` (of the cluster ``url`` is a node of, with
    ``cluster``) behind a breaker of its own."""
    if cluster:
        # Cluster retries are its own (MOVED, ASK, a failover): one, without backoff.
        return GuardedRedisCluster.from_url(url, retry=Retry(NoBackoff(), 1), **options)
    client = GuardedRedis.from_url(url, retry=Retry(NoBackoff(), 1), **options)
    client.breaker = Breaker()
    return client


class Throttle:
    """Counts what keeps happening during an outage, by kind, and says when to log it: the
    first time, then once a minute per kind, not once per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self._logged: dict[str, float] = {}

    def note(self, kind: str) -> int | None:
        """Count one more ``kind``; its count so far when a log line is due, else None."""
        now = time.monotonic()
        with self._lock:
            self.counts[kind] += 1
            last = self._logged.get(kind)
            if last is not None and now - last < LOG_EVERY_SECONDS:
                return None
            self._logged[kind] = now
            return self.counts[kind]


DEGRADATIONS = Throttle()  # by feature served without Redis


def degraded(feature: str, error: Exception) -> None:
    """``feature`` went on without Redis: count it, log it (once a minute per feature)."""
    count = DEGRADATIONS.note(feature)
    if count is not None:
        log.warning(
            "served without redis",
            extra={"feature": feature, "error": repr(error), "count": count},
        )
