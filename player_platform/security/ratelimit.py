"""Sliding-window rate limits in Redis (a weighted two-window counter: one round trip per hit).

They fail open: while Redis is unreachable a hit lets the request through, counted and logged
once a minute (outage.py). What must hold without Redis does not live here: the per-account
sign-in lockout is in PostgreSQL (identity/service.py)."""

from __future__ import annotations

import math

from redis import Redis, RedisError

from player_platform.errors import RateLimited
from player_platform.outage import degraded

WINDOW_SECONDS = 60


class RateLimiter:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def hit(self, bucket: str, *, limit: int, now: float, window: int = WINDOW_SECONDS) -> None:
        """Count one request in ``bucket``; raise RateLimited when the last ``window`` is full.

        The estimate weights the previous fixed window by how much of it still overlaps the
        sliding one, so a burst at a window boundary cannot double the limit.
        """
        slot, elapsed = divmod(now, window)
        # Both windows of a bucket share a hash tag: one slot of a Redis Cluster, one node.
        current_key = f"pp:{{rl:{bucket}}}:{int(slot)}"
        previous_key = f"pp:{{rl:{bucket}}}:{int(slot) - 1}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.incr(current_key)
        pipe.expire(current_key, window * 2)
        pipe.get(previous_key)
        try:
            current, _, previous = pipe.execute()
        except RedisError as error:
            degraded("rate_limit", error)
            return
        previous = int(previous or 0)
        weight = 1 - elapsed / window
        if current + previous * weight <= limit:
            return
        raise RateLimited(
            f"Too many requests: the limit is {limit} per {window} seconds.",
            retry_after=_seconds_until_free(current, previous, limit, elapsed, window),
        )


def _seconds_until_free(
    current: int, previous: int, limit: int, elapsed: float, window: int
) -> int:
    if current >= limit or previous == 0:
        return math.ceil(window - elapsed)
    # previous * (1 - (elapsed + wait) / window) + current <= limit
    wait = window * (1 - (limit - current) / previous) - elapsed
    return max(1, math.ceil(wait))
