"""Season definitions cached in-process for the hot paths (submit, top, around, me).

A season row almost never changes, yet every request needs it: reading it costs a query, a
quarter of a top-10 read. Each app keeps copies for SEASON_CACHE_SECONDS; the process that
changes a season (admin PATCH, close) drops its copies at once (``season_changed``), the others
within the TTL. Admin code and season close always read the row itself.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from player_platform.errors import NotFound
from player_platform.leaderboards.models import Season

SEASON_CACHE_SECONDS = 2.0  # how long another process may act on a season before an admin PATCH


@dataclass(frozen=True)
class SeasonRules:
    """A read-only copy of a season's row: what submissions and reads check."""

    id: uuid.UUID
    season_id: str
    type: str
    sort: str
    operator: str
    start_date: datetime
    end_date: datetime
    reset_rule: str
    min_score: int | None
    max_score: int | None
    max_increase: int | None
    authoritative: bool
    closed_at: datetime | None

    @classmethod
    def of(cls, season: Season) -> SeasonRules:
        return cls(**{f.name: getattr(season, f.name) for f in fields(cls)})


_generation = 0  # bumped when this process changes a season: its caches drop what they hold


def season_changed() -> None:
    """A season changed (admin PATCH, close): this process stops using its cached copies now;
    other processes within SEASON_CACHE_SECONDS."""
    global _generation
    _generation += 1


class SeasonCache:
    """Season definitions by ``season_id`` for a couple of seconds: the hot paths (submit, top,
    around, me) would otherwise spend a query per request on a row that almost never changes.
    Unknown seasons are not cached, so a new season is usable at once everywhere."""

    def __init__(self, seconds: float = SEASON_CACHE_SECONDS) -> None:
        self.seconds = seconds
        self._found: dict[str, tuple[float, int, SeasonRules]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, season_id: str) -> SeasonRules:
        cached = self._found.get(season_id)
        now = time.monotonic()
        if cached is not None and cached[0] > now and cached[1] == _generation:
            return cached[2]
        generation = _generation
        rules = SeasonRules.of(_load(session, season_id))
        with self._lock:
            if len(self._found) > 10_000:
                self._found.clear()
            self._found[season_id] = (now + self.seconds, generation, rules)
        return rules


def _load(session: Session, season_id: str) -> Season:
    season = session.scalar(select(Season).where(Season.season_id == season_id))
    if season is None:
        raise NotFound(f"No season {season_id!r}.", code="season_not_found")
    return season
