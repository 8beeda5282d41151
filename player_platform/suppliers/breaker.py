"""A circuit breaker per supplier, kept in Redis so every web process and worker sees the same
state: after enough failed or slow calls a supplier is skipped for ``open_seconds``, then one
trial call (half-open) decides whether it is back.

Closed: calls go through; each outcome and latency joins a window of the last ``window`` calls.
Open: once at least ``min_calls`` are in the window and ``failure_rate`` of them failed (a
call slower than ``slow_seconds`` counts as failed). Half-open: ``open_seconds`` later, one
caller at a time gets a trial; success closes the breaker (a fresh window), failure re-opens it.

Redis down: the breaker answers closed and records nothing, so purchases still go out, each
bounded by its timeout (docs/DECISIONS.md, Game keys)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from redis import Redis, RedisError

log = logging.getLogger(__name__)
State = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class BreakerPolicy:
    window: int = 20
    min_calls: int = 5
    failure_rate: float = 0.5
    slow_seconds: float = 5.0
    open_seconds: float = 30.0


@dataclass(frozen=True)
class BreakerStatus:
    state: State
    calls: int
    success_rate: float | None
    latency_ms: float | None


class Breakers:
    def __init__(self, redis: Redis, policy: BreakerPolicy) -> None:
        self.redis = redis
        self.policy = policy

    def allow(self, name: str, *, now: float) -> bool:
        """Whether a call to ``name`` may go out now (a half-open breaker lets one through)."""
        try:
            state = self._state(name, now)
            if state == "half_open":
                ttl = max(int(self.policy.open_seconds), 1)
                return bool(self.redis.set(self._key(name, "trial"), 1, nx=True, ex=ttl))
            return state == "closed"
        except RedisError:
            log.warning("supplier breaker unreadable: calling", extra={"supplier": name})
            return True

    def record(self, name: str, *, ok: bool, seconds: float, now: float) -> None:
        ok = ok and seconds < self.policy.slow_seconds
        try:
            state = self._state(name, now)
            calls = self._key(name, "calls")
            pipe = self.redis.pipeline()
            pipe.lpush(calls, f"{int(ok)}:{seconds * 1000:.1f}")
            pipe.ltrim(calls, 0, self.policy.window - 1)
            pipe.lrange(calls, 0, -1)
            outcomes = pipe.execute()[-1]
            if state == "half_open":
                self._after_trial(name, ok=ok, now=now)
            elif state == "closed" and self._tripped(outcomes):
                self._open(name, now)
        except RedisError:
            log.warning("supplier breaker not updated", extra={"supplier": name})

    def status(self, name: str, *, now: float) -> BreakerStatus:
        outcomes = [
            o.decode().split(":") for o in self.redis.lrange(self._key(name, "calls"), 0, -1)
        ]
        if not outcomes:
            return BreakerStatus(self._state(name, now), 0, None, None)
        successes = sum(ok == "1" for ok, _ in outcomes)
        latency = sum(float(ms) for _, ms in outcomes) / len(outcomes)
        return BreakerStatus(
            self._state(name, now), len(outcomes), successes / len(outcomes), round(latency, 1)
        )

    def _state(self, name: str, now: float) -> State:
        open_until = self.redis.get(self._key(name, "open_until"))
        if open_until is None:
            return "closed"
        return "open" if float(open_until) > now else "half_open"

    def _tripped(self, outcomes: list[bytes]) -> bool:
        if len(outcomes) < self.policy.min_calls:
            return False
        failures = sum(o.startswith(b"0:") for o in outcomes)
        return failures / len(outcomes) >= self.policy.failure_rate

    def _open(self, name: str, now: float) -> None:
        self.redis.set(self._key(name, "open_until"), now + self.policy.open_seconds)
        self.redis.delete(self._key(name, "trial"))
        log.warning("supplier breaker opened", extra={"supplier": name})

    def _after_trial(self, name: str, *, ok: bool, now: float) -> None:
        if not ok:
            self._open(name, now)
            return
        pipe = self.redis.pipeline()
        pipe.delete(self._key(name, "open_until"), self._key(name, "trial"))
        pipe.ltrim(self._key(name, "calls"), 0, 0)  # a fresh window: this one success
        pipe.execute()
        log.info("supplier breaker closed", extra={"supplier": name})

    @staticmethod
    def _key(name: str, part: str) -> str:
        return f"pp:supplier:{name}:{part}"
