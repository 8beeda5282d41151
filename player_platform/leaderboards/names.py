"""Cached display names follow display-name changes.

The index keeps what a read shows beside each rank in a names hash per season (index.py). When a
user's display name changes (PATCH /v1/me, erasure, anything that sets ``User.display_name``),
the seasons where the user has an entry are looked up before the commit, and once the commit
succeeded their fields are dropped from those hashes; the next read loads them again.

The listeners are registered when this module is imported (service.py and lifecycle.py import
it, so the web app and the workers both have them).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from redis import Redis, RedisError
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from player_platform.db import after_commit
from player_platform.identity.models import User
from player_platform.leaderboards.index import Board
from player_platform.leaderboards.models import LeaderboardEntry, Season

log = logging.getLogger(__name__)
RENAMED = "leaderboards.renamed"


@event.listens_for(User.display_name, "set")
def _note_rename(target: User, value: Any, oldvalue: Any, _initiator: Any) -> None:
    state = inspect(target)
    if value == oldvalue or not state.persistent or state.session is None:
        return  # a new user has no entries yet
    state.session.info.setdefault(RENAMED, set()).add(target.id)


@event.listens_for(Session, "before_commit")
def _forget_after_commit(session: Session) -> None:
    renamed = session.info.pop(RENAMED, None)
    if not renamed:
        return
    seasons = list(
        session.scalars(
            select(LeaderboardEntry.season_id)
            .join(Season, Season.id == LeaderboardEntry.season_id)
            .where(LeaderboardEntry.user_id.in_(renamed), Season.closed_at.is_(None))
            .distinct()
        )
    )
    if seasons:
        users = sorted(renamed)
        after_commit(session, lambda: forget_names(_redis(), seasons, users))


def forget_names(redis: Redis, seasons: list[uuid.UUID], user_ids: list[uuid.UUID]) -> None:
    pipe = redis.pipeline(transaction=False)
    for season in seasons:
        pipe.hdel(Board(season, "", True).names, *[u.bytes for u in user_ids])
    try:
        pipe.execute()
    except RedisError:  # the hash expires within a day anyway; say so
        log.exception("could not drop cached leaderboard names", extra={"users": len(user_ids)})


def _redis() -> Redis:
    """The Redis of the app serving this request, or of this worker process."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.extensions["player_platform"].redis
    from player_platform.platform import current

    return current().redis
