"""Leaderboard jobs: rebuild a missing index, repair indexes that missed writes while Redis was
down, close ended seasons (periodic)."""

from __future__ import annotations

import logging
import uuid

from player_platform import platform
from player_platform.db import utcnow
from player_platform.leaderboards import lifecycle

log = logging.getLogger(__name__)


def rebuild_index(season_id: str) -> int:
    p = platform.current()
    with p.db.unit_of_work() as session:
        return lifecycle.rebuild_index(session, p.leaderboards, season_id=uuid.UUID(season_id))


def repair_stale_indexes() -> list[str]:
    """Drop and rebuild every index marked stale (it runs only when Redis is back: its queue is
    there). Safe to repeat and to run concurrently: a rebuild is idempotent."""
    p = platform.current()
    with p.db.unit_of_work() as session:
        repaired = lifecycle.repair_stale_indexes(session, p.leaderboards)
    if repaired:
        log.info("stale leaderboard indexes dropped", extra={"seasons": [str(s) for s in repaired]})
    return [str(s) for s in repaired]


def close_ended_seasons() -> list[str]:
    """Close every season past its end, each in its own transaction. Safe to run concurrently
    and any number of times: a season closes once."""
    p = platform.current()
    index = p.leaderboards
    now = utcnow()
    with p.db.unit_of_work() as session:
        due = lifecycle.due_seasons(session, now=now)
    closed = []
    for season_id in due:
        with p.db.unit_of_work() as session:
            if lifecycle.close_season(session, index, season_id=season_id, now=now):
                closed.append(str(season_id))
    if closed:
        log.info("seasons closed", extra={"seasons": closed})
    return closed
