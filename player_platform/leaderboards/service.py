"""Seasons, score submission and moderation of entries.

PostgreSQL holds every score (one INSERT ... ON CONFLICT DO UPDATE per submission applies the
season's operator); the Redis index (index.py) is updated once that commit is done (a rollback
leaves nothing in it), with the entry's version so that it converges on PostgreSQL whatever
order writes arrive in.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.db import after_commit
from player_platform.errors import Conflict, Forbidden, Invalid, InvalidState, NotFound
from player_platform.identity.models import User
from player_platform.identity.sessions import Actor
from player_platform.leaderboards import lifecycle, names, reads  # noqa: F401  (names: listeners)
from player_platform.leaderboards.batch import GroupCommit, Pending
from player_platform.leaderboards.index import (
    SCORE_MAX,
    SCORE_MIN,
    Change,
    LeaderboardIndex,
    encode_info,
)
from player_platform.leaderboards.models import LeaderboardEntry, Season
from player_platform.leaderboards.reads import board_of, get_season
from player_platform.leaderboards.seasons import SeasonRules, season_changed
from player_platform.leaderboards.upsert import refuse, upsert_statement
from player_platform.pagination import Page, Position
from player_platform.security.api_keys import ServerCaller

WRITE_SCOPE = "leaderboards:write"
SEASON_FIELDS = (
    "name",
    "start_date",
    "end_date",
    "reset_rule",
    "min_score",
    "max_score",
    "max_increase",
    "authoritative",
    "rewards",
)


@dataclass(frozen=True)
class Submission:
    score: int  # as submitted
    best: int  # the score on the board now
    rank: int
    previous: int | None  # the score on the board before, None for a first submission


# Seasons -----------------------------------------------------------------------------------


def create_season(
    session: Session,
    index: LeaderboardIndex,
    *,
    actor: Actor,
    values: dict[str, Any],
    origin: Origin,
    now: datetime,
) -> Season:
    if session.scalar(select(Season.id).where(Season.season_id == values["season_id"])):
        raise Conflict("A season with this season_id exists.", code="season_exists")
    season = Season(**values, created_at=now, updated_at=now)
    _check_season(season)
    session.add(season)
    session.flush()
    record(
        session,
        actor_id=actor.id,
        action="season.create",
        resource_type="season",
        resource_id=season.season_id,
        origin=origin,
        new=_audited(season),
    )
    index.mark_ready_after_commit(session, season.id)  # a new season's empty index is complete
    return season


def update_season(
    session: Session,
    *,
    actor: Actor,
    season_id: str,
    values: dict[str, Any],
    origin: Origin,
    now: datetime,
) -> Season:
    season = session.scalar(
        select(Season).where(Season.season_id == season_id).with_for_update()
    ) or get_season(session, season_id=season_id)
    if season.closed_at is not None:
        raise Conflict("This season is closed; it cannot change.", code="season_closed")
    old = _audited(season)
    for name in SEASON_FIELDS:
        if name in values:
            setattr(season, name, values[name])
    _check_season(season)
    season.updated_at = now
    after_commit(session, season_changed)
    new = _audited(season)
    changed = {k for k in new if new[k] != old[k]}
    if changed:
        record(
            session,
            actor_id=actor.id,
            action="season.update",
            resource_type="season",
            resource_id=season.season_id,
            origin=origin,
            old={k: old[k] for k in changed},
            new={k: new[k] for k in changed},
        )
    return season


def list_seasons(
    session: Session, *, since: datetime, limit: int, cursor: str | None = None
) -> Page[Season]:
    """Seasons that have not ended before ``since``, newest first."""
    query = (
        select(Season)
        .where(Season.end_date >= since)
        .order_by(Season.created_at.desc(), Season.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(tuple_(Season.created_at, Season.id) < (after.created_at, after.id))
    seasons = list(session.scalars(query))
    more = len(seasons) > limit
    seasons = seasons[:limit]
    return Page(
        seasons, Position(seasons[-1].created_at, seasons[-1].id).encode() if more else None
    )


def _check_season(season: Season) -> None:
    problems: dict[str, list[str]] = {}
    if season.end_date <= season.start_date:
        problems["end_date"] = ["must be after start_date"]
    if (
        season.min_score is not None
        and season.max_score is not None
        and season.min_score > season.max_score
    ):
        problems["max_score"] = ["must not be below min_score"]
    bands = sorted((b["from_rank"], b["to_rank"]) for b in season.rewards or [])
    if any(b[0] > b[1] for b in bands):
        problems["rewards"] = ["from_rank must not be above to_rank"]
    if any(prev[1] >= cur[0] for prev, cur in itertools.pairwise(bands)):
        problems["rewards"] = ["reward bands must not overlap"]
    if problems:
        raise Invalid("The season is not valid: see errors.", errors=problems)


def _audited(season: Season) -> dict[str, Any]:
    values = {name: getattr(season, name) for name in ("type", "sort", "operator", *SEASON_FIELDS)}
    for name in ("start_date", "end_date"):
        values[name] = values[name].isoformat()
    return values


# Submission --------------------------------------------------------------------------------


def submit_score(
    session: Session,
    index: LeaderboardIndex,
    *,
    caller: Actor | ServerCaller,
    season_id: str,
    score: int,
    user_id: uuid.UUID | None,
    metadata: dict[str, Any] | None,
    now: datetime,
    group: GroupCommit | None = None,
) -> Submission:
    """Apply the season's operator to the caller's entry and answer the rank it gives.

    A ``best`` submission that does not beat the entry the index holds writes nothing (no row
    version, no commit): the entry's rank and score answer it, as a write that kept the old
    score would have. The index is never ahead of PostgreSQL for a score (it is written after
    the commit), so what it holds is a committed best; when it cannot tell, the write decides.
    With ``group`` the write is committed by the process's group commit (batch.py) before this
    returns; without, it is part of ``session``'s unit of work (Idempotency-Key requests, tests)."""
    season = index.seasons.get(session, season_id)
    user, region = _submitter(session, caller, season, user_id)
    if season.closed_at is not None or not season.start_date <= now < season.end_date:
        raise Conflict("This season is not open for scores.", code="season_closed")
    _check_bounds(season, score)
    if season.operator == "best":
        unchanged = index.standing_unless_better(board_of(season, region), user.id, score)
        if unchanged is not None:  # nothing to write: the board as it stands answers
            best = unchanged.score
            return Submission(score=score, best=best, rank=unchanged.rank, previous=best)
    pending = Pending(season, user.id, region, score, metadata, user.display_name, now)
    if group is not None:
        row, rank = group.submit(pending).row, pending.rank
    else:
        row = session.execute(upsert_statement(session, season).values(**pending.values())).first()
        if row is None:
            refuse(session, season, user.id)
        board = board_of(season, row.region)
        info = encode_info(user.display_name, row.details)
        change = Change(user.id, row.version, row.score, row.reached_at, info)
        rank = index.rank_of(board, change)
        lifecycle.index_after_commit(
            session, index, season_id=season.id, now=now, write=lambda: index.apply(board, change)
        )
    if rank is None:
        rank = reads.rank_in_database(
            session,
            season,
            board_of(season, row.region),
            user_id=user.id,
            score=row.score,
            reached_at=row.reached_at,
        )
        index.schedule_rebuild(session, season.id)
    return Submission(score=score, best=row.score, rank=rank, previous=row.previous_score)


def _submitter(
    session: Session, caller: Actor | ServerCaller, season: SeasonRules, user_id: uuid.UUID | None
) -> tuple[User, str]:
    """Whose score it is, and the board (region) it goes to."""
    if isinstance(caller, ServerCaller):
        caller.require_scope(WRITE_SCOPE)
        if user_id is None:
            raise Invalid(
                "A server submission names the player: send user_id.",
                code="user_id_required",
                errors={"user_id": ["required for server API keys"]},
            )
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("No such player.", code="user_not_found")
    else:
        if season.authoritative:
            raise Forbidden("Only game servers submit scores to this season.", code="server_only")
        if user_id is not None and user_id != caller.id:
            raise Invalid(
                "Players submit their own scores only.",
                code="user_id_not_allowed",
                errors={"user_id": ["only server API keys may name a player"]},
            )
        user = caller.user
    if season.type != "regional":
        return user, ""
    if not user.region:
        raise InvalidState(
            "This is a regional season: the player needs a region (PATCH /v1/me).",
            code="region_required",
        )
    return user, user.region


def _check_bounds(season: SeasonRules, score: int) -> None:
    low = season.min_score if season.min_score is not None else SCORE_MIN
    high = season.max_score if season.max_score is not None else SCORE_MAX
    too_big_a_step = (
        season.operator == "increment"
        and season.max_increase is not None
        and score > season.max_increase
    )
    if not low <= score <= high or too_big_a_step:
        raise Invalid(
            "The score is outside the bounds of this season.",
            code="score_out_of_bounds",
            min_score=season.min_score,
            max_score=season.max_score,
            max_increase=season.max_increase,
        )


# Moderation --------------------------------------------------------------------------------


def remove_entry(
    session: Session,
    index: LeaderboardIndex,
    *,
    actor: Actor,
    season_id: str,
    user_id: uuid.UUID,
    reason: str,
    origin: Origin,
    now: datetime,
) -> LeaderboardEntry:
    """Take a player off a season's board for good (until restored). Removing twice is a no-op."""
    season, entry = _entry_for_update(session, season_id, user_id)
    if entry.removed_at is None:
        entry.removed_at, entry.removed_by, entry.removal_reason = now, actor.id, reason
        _changed(session, index, season, entry, on_board=False, now=now)
        record(
            session,
            actor_id=actor.id,
            action="leaderboard.entry.remove",
            resource_type="leaderboard_entry",
            resource_id=entry.id,
            origin=origin,
            old={"season_id": season.season_id, "user_id": str(user_id), "score": entry.score},
            new={"removed": True, "reason": reason},
        )
    return entry


def restore_entry(
    session: Session,
    index: LeaderboardIndex,
    *,
    actor: Actor,
    season_id: str,
    user_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> LeaderboardEntry:
    season, entry = _entry_for_update(session, season_id, user_id)
    if entry.removed_at is not None:
        old = {"removed": True, "reason": entry.removal_reason}
        entry.removed_at = entry.removed_by = entry.removal_reason = None
        _changed(session, index, season, entry, on_board=True, now=now)
        record(
            session,
            actor_id=actor.id,
            action="leaderboard.entry.restore",
            resource_type="leaderboard_entry",
            resource_id=entry.id,
            origin=origin,
            old=old,
            new={"removed": False, "score": entry.score},
        )
    return entry


def _entry_for_update(
    session: Session, season_id: str, user_id: uuid.UUID
) -> tuple[Season, LeaderboardEntry]:
    season = get_season(session, season_id=season_id)
    entry = session.scalar(
        select(LeaderboardEntry)
        .where(LeaderboardEntry.season_id == season.id, LeaderboardEntry.user_id == user_id)
        .with_for_update()
    )
    if entry is None:
        raise NotFound("This player has no entry in this season.", code="entry_not_found")
    return season, entry


def _changed(
    session: Session,
    index: LeaderboardIndex,
    season: Season,
    entry: LeaderboardEntry,
    *,
    on_board: bool,
    now: datetime,
) -> None:
    entry.version += 1
    entry.updated_at = now
    session.flush()
    change = Change(
        entry.user_id,
        entry.version,
        entry.score if on_board else None,
        entry.reached_at if on_board else None,
    )
    board = board_of(season, entry.region)
    lifecycle.index_after_commit(
        session, index, season_id=season.id, now=now, write=lambda: index.apply(board, change)
    )
