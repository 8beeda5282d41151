"""Reading boards: from the Redis index in one round trip, or from PostgreSQL while the index
is being rebuilt. Either way the ranks are the same (index.py explains the order). Display
names and metadata come with the ranks from the index's names hash; what it misses comes from
one batched query (and is put back). Season definitions are cached in-process (SeasonCache), so
a warm read runs no query at all."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis import Redis, RedisError
from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from player_platform.errors import Invalid, NotFound
from player_platform.identity.models import Identity, User
from player_platform.identity.steam import SteamWebApi
from player_platform.leaderboards.index import (
    Board,
    LeaderboardIndex,
    Placing,
    decode_info,
    encode_info,
)
from player_platform.leaderboards.models import LeaderboardEntry, Season, SeasonStanding
from player_platform.leaderboards.seasons import SeasonRules
from player_platform.outage import degraded
from player_platform.pagination import Page

E = LeaderboardEntry
FRIENDS_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Standing:
    rank: int
    user_id: uuid.UUID
    display_name: str
    score: int
    metadata: dict[str, Any] | None


def get_season(session: Session, *, season_id: str) -> Season:
    season = session.scalar(select(Season).where(Season.season_id == season_id))
    if season is None:
        raise NotFound(f"No season {season_id!r}.", code="season_not_found")
    return season


def board_of(season: Season | SeasonRules, region: str = "") -> Board:
    return Board(season.id, region, season.sort == "desc")


def board_for_read(season: Season | SeasonRules, region: str | None) -> Board:
    """A regional season has one board per region, and a read names it."""
    if season.type != "regional":
        return board_of(season)
    if not region:
        raise Invalid(
            "This season is regional: say which board with ?region=.",
            code="region_required",
            errors={"region": ["required for a regional season"]},
        )
    return board_of(season, region)


def top(
    session: Session,
    index: LeaderboardIndex,
    *,
    season_id: str,
    region: str | None,
    limit: int,
    cursor: str | None,
) -> Page[Standing]:
    season = index.seasons.get(session, season_id)
    board = board_for_read(season, region)
    offset = _decode(cursor)
    found = index.top(board, offset=offset, limit=limit + 1)
    if found is None:
        index.schedule_rebuild(session, season.id)
        rows = session.execute(_ranked(season, board).offset(offset).limit(limit + 1)).all()
        placings = [Placing(offset + i + 1, r.user_id, r.score) for i, r in enumerate(rows)]
        page = named(session, season, placings[:limit])
    else:
        placings, infos = found
        page = _with_infos(session, index, season, board, placings[:limit], infos[:limit])
    more = len(placings) > limit
    return Page(page, _encode(offset + limit) if more else None)


def around(
    session: Session,
    index: LeaderboardIndex,
    *,
    season_id: str,
    user_id: uuid.UUID,
    region: str | None,
    radius: int,
) -> list[Standing]:
    """``user_id``'s standing with ``radius`` neighbours above and below (radius 0: just it)."""
    season = index.seasons.get(session, season_id)
    board = board_for_read(season, region)
    found = index.around(board, user_id, radius=radius)
    if found is None:
        index.schedule_rebuild(session, season.id)
        placings = _around_in_database(session, season, board, user_id, radius)
        standings = named(session, season, placings)
    else:
        placings, infos = found
        standings = _with_infos(session, index, season, board, placings, infos)
    if not placings:
        raise NotFound("This player has no score on this board.", code="not_ranked")
    return standings


def friends(
    session: Session,
    index: LeaderboardIndex,
    steam: SteamWebApi,
    *,
    season_id: str,
    user: User,
    region: str | None,
) -> list[Standing]:
    """The board among ``user`` and their Steam friends who play here, ranked 1..n."""
    season = index.seasons.get(session, season_id)
    board = board_for_read(season, region)
    circle = [user.id, *_steam_friends(session, index.redis, steam, user.id)]
    members = index.members(board, circle)
    if members is None:
        index.schedule_rebuild(session, season.id)
        rows = session.execute(
            select(E.user_id, E.score)
            .where(*_live(season, board), E.user_id.in_(circle))
            .order_by(*ranking(season, board))
        ).all()
        placings = [Placing(i + 1, r.user_id, r.score) for i, r in enumerate(rows)]
    else:
        placings = [board.placing(i + 1, m) for i, m in enumerate(sorted(members))]
    return named(session, season, placings)


def _steam_friends(
    session: Session, redis: Redis, steam: SteamWebApi, user_id: uuid.UUID
) -> list[uuid.UUID]:
    """Players here who are the user's Steam friends; the friend list is cached a few minutes."""
    steam_id = session.scalar(
        select(Identity.provider_id).where(
            Identity.user_id == user_id, Identity.provider == "steam"
        )
    )
    if steam_id is None:
        return []
    friend_ids = _cached_friend_ids(redis, steam, steam_id)
    if not friend_ids:
        return []
    return list(
        session.scalars(
            select(Identity.user_id).where(
                Identity.provider == "steam", Identity.provider_id.in_(friend_ids)
            )
        )
    )


def _cached_friend_ids(redis: Redis, steam: SteamWebApi, steam_id: str) -> list[str]:
    """The Steam friend list, cached a few minutes; asked of Steam each time without Redis."""
    cache_key = f"pp:steam-friends:{steam_id}"
    try:
        cached = redis.get(cache_key)
        if cached is not None:
            return json.loads(cached)
        friend_ids = steam.friend_ids(steam_id)
        redis.set(cache_key, json.dumps(friend_ids), ex=FRIENDS_CACHE_SECONDS)
    except RedisError as error:
        degraded("steam_friends_cache", error)
        friend_ids = steam.friend_ids(steam_id)
    return friend_ids


def archive(
    session: Session, *, season_id: str, region: str | None, limit: int, cursor: str | None
) -> Page[Standing]:
    """Final standings of a closed season, in rank order."""
    season = get_season(session, season_id=season_id)
    board = board_for_read(season, region)
    if season.closed_at is None or season.reset_rule == "clear":
        raise NotFound(
            "This season has no archive (still open, or closed with reset_rule clear).",
            code="archive_not_found",
        )
    after = _decode(cursor)
    S = SeasonStanding
    rows = session.execute(
        select(S.rank, S.user_id, S.score, S.details, User.display_name)
        .join(User, User.id == S.user_id)
        .where(S.season_id == season.id, S.region == board.region, S.rank > after)
        .order_by(S.rank)
        .limit(limit + 1)
    ).all()
    items = [Standing(r.rank, r.user_id, r.display_name, r.score, r.details) for r in rows]
    more = len(items) > limit
    return Page(items[:limit], _encode(items[limit - 1].rank) if more else None)


def rank_in_database(
    session: Session,
    season: Season,
    board: Board,
    *,
    user_id: uuid.UUID,
    score: int,
    reached_at: datetime,
) -> int:
    ahead = E.score > score if board.descending else E.score < score
    tie_ahead = and_(E.score == score, tuple_(E.reached_at, E.user_id) < (reached_at, user_id))
    return 1 + session.scalar(
        select(func.count()).where(*_live(season, board), or_(ahead, tie_ahead))
    )


def ranking(season: Season, board: Board) -> tuple[Any, ...]:
    """The board's order in SQL: the same as the index's member order."""
    return (E.score.desc() if board.descending else E.score.asc(), E.reached_at, E.user_id)


def named(
    session: Session, season: Season | SeasonRules, placings: Sequence[Placing]
) -> list[Standing]:
    """Add display names and metadata to ``placings`` with one query."""
    found = _infos_in_database(session, season, [p.user_id for p in placings])
    standings = []
    for p in placings:
        name, metadata = found.get(p.user_id, ("", None))
        standings.append(Standing(p.rank, p.user_id, name, p.score, metadata))
    return standings


def _infos_in_database(
    session: Session, season: Season | SeasonRules, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, dict[str, Any] | None]]:
    if not user_ids:
        return {}
    rows = session.execute(
        select(E.user_id, E.details, User.display_name)
        .join(User, User.id == E.user_id)
        .where(E.season_id == season.id, E.user_id.in_(user_ids))
    ).all()
    return {r.user_id: (r.display_name, r.details) for r in rows}


def _with_infos(
    session: Session,
    index: LeaderboardIndex,
    season: SeasonRules,
    board: Board,
    placings: Sequence[Placing],
    infos: Sequence[bytes | None],
) -> list[Standing]:
    """Standings from the index's cached infos; the missing ones from one query, then cached."""
    missing = [p.user_id for p, info in zip(placings, infos, strict=True) if info is None]
    loaded = _infos_in_database(session, season, missing)
    if loaded:
        index.remember_names(board, {u: encode_info(*found) for u, found in loaded.items()})
    standings = []
    for p, info in zip(placings, infos, strict=True):
        name, metadata = (
            decode_info(info) if info is not None else loaded.get(p.user_id, ("", None))
        )
        standings.append(Standing(p.rank, p.user_id, name, p.score, metadata))
    return standings


def _live(season: Season, board: Board) -> tuple[Any, ...]:
    return (E.season_id == season.id, E.region == board.region, E.removed_at.is_(None))


def _ranked(season: Season, board: Board) -> Any:
    return select(E.user_id, E.score).where(*_live(season, board)).order_by(*ranking(season, board))


def _around_in_database(
    session: Session, season: Season, board: Board, user_id: uuid.UUID, radius: int
) -> list[Placing]:
    entry = session.execute(
        select(E.score, E.reached_at).where(*_live(season, board), E.user_id == user_id)
    ).first()
    if entry is None:
        return []
    rank = rank_in_database(
        session, season, board, user_id=user_id, score=entry.score, reached_at=entry.reached_at
    )
    first = max(1, rank - radius)
    rows = session.execute(
        _ranked(season, board).offset(first - 1).limit(rank + radius - first + 1)
    ).all()
    return [Placing(first + i, r.user_id, r.score) for i, r in enumerate(rows)]


def _encode(position: int) -> str:
    return base64.urlsafe_b64encode(f"rank:{position}".encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, position = raw.partition(":")
        if kind == "rank" and position.isdigit() and int(position) < 2**31:
            return int(position)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise Invalid(
        "The cursor is not one this API gave out.",
        code="invalid_cursor",
        errors={"cursor": ["invalid"]},
    )


def entry_of(session: Session, *, season_id: str, user_id: uuid.UUID) -> LeaderboardEntry | None:
    """A player's entry in a season, removed or not (what a moderator looks at)."""
    season = get_season(session, season_id=season_id)
    return session.scalar(
        select(LeaderboardEntry).where(
            LeaderboardEntry.season_id == season.id, LeaderboardEntry.user_id == user_id
        )
    )
