"""What happens to a season over time: its index rebuilt when Redis lost it or missed writes
while it was down, and its close.

Closing runs once per season however many workers try at once: the season row is claimed with
``FOR UPDATE SKIP LOCKED`` and ``closed_at`` set in the same transaction that writes the final
standings and the rewards: one inbox message per reward band (made once: its source key), whose
attachment each player of the band claims once."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from itertools import groupby

from redis import RedisError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from player_platform.audit.service import SYSTEM, record
from player_platform.db import Database, after_commit, insert_for, new_id
from player_platform.identity.models import User
from player_platform.leaderboards import names  # noqa: F401  (registers its listeners)
from player_platform.leaderboards.index import REBUILD_BATCH, Change, LeaderboardIndex, encode_info
from player_platform.leaderboards.models import (
    LeaderboardEntry,
    Season,
    SeasonReward,
    SeasonStanding,
)
from player_platform.leaderboards.reads import board_of, ranking
from player_platform.leaderboards.seasons import season_changed
from player_platform.messaging import service as inbox
from player_platform.outage import degraded

log = logging.getLogger(__name__)
E = LeaderboardEntry


def rebuild_index(session: Session, index: LeaderboardIndex, *, season_id: uuid.UUID) -> int:
    """Load a season's entries from PostgreSQL into its index; returns how many, -1 when
    another rebuild holds the lock or the index is already complete.

    Writes that arrive meanwhile go to the index too; versions make the merge exact."""
    if not index.lock_rebuild(season_id):
        return -1
    try:
        season = session.get(Season, season_id)
        if season is None or index.is_ready(season_id):
            return -1
        rows = session.execute(
            select(
                E.user_id,
                E.region,
                E.score,
                E.reached_at,
                E.version,
                E.removed_at,
                E.details,
                User.display_name,
            )
            .join(User, User.id == E.user_id)
            .where(E.season_id == season_id)
            .order_by(E.region)
            .execution_options(yield_per=REBUILD_BATCH)
        )
        loaded = 0
        for batch in rows.partitions():
            for region, group in groupby(batch, key=lambda r: r.region):
                changes = [
                    Change(r.user_id, r.version, None, None)
                    if r.removed_at is not None
                    else Change(
                        r.user_id,
                        r.version,
                        r.score,
                        r.reached_at,
                        encode_info(r.display_name, r.details),
                    )
                    for r in group
                ]
                index.apply_many(board_of(season, region), changes)
                loaded += len(changes)
        index.finish_rebuild(season_id)
    except BaseException:
        index.release_rebuild(season_id)
        raise
    log.info("leaderboard index rebuilt", extra={"season": str(season_id), "entries": loaded})
    return loaded


def mark_index_stale(session: Session, *, season_ids: Iterable[uuid.UUID], now: datetime) -> None:
    """These seasons' indexes missed a write (Redis was unreachable): say so in PostgreSQL,
    which outlives this process, so the index is dropped and rebuilt once Redis is back."""
    ids = sorted(set(season_ids))
    if ids:
        session.execute(update(Season).where(Season.id.in_(ids)).values(index_stale_at=now))


def mark_index_stale_apart(
    db: Database, *, season_ids: Collection[uuid.UUID], now: datetime
) -> None:
    """``mark_index_stale`` in a unit of work of its own, for an index update that failed after
    its write committed. Should PostgreSQL fail too, just now, the scores are stored all the
    same and only the index stays behind: log it."""
    try:
        with db.unit_of_work() as session:
            mark_index_stale(session, season_ids=season_ids, now=now)
    except Exception:
        log.exception(
            "could not mark leaderboard indexes stale", extra={"seasons": len(season_ids)}
        )


def index_after_commit(
    session: Session,
    index: LeaderboardIndex,
    *,
    season_id: uuid.UUID,
    now: datetime,
    write: Callable[[], object],
) -> None:
    """Run ``write`` (an update of the season's index) once ``session`` has committed, so a
    transaction that rolls back leaves nothing in the index that PostgreSQL never had. When
    Redis does not answer the season's index is marked stale, and repaired once Redis is back."""

    def run() -> None:
        try:
            write()
        except RedisError as error:
            degraded("leaderboard_index", error)
            mark_index_stale_apart(index.db, season_ids=[season_id], now=now)

    after_commit(session, run)


def repair_stale_indexes(session: Session, index: LeaderboardIndex) -> list[uuid.UUID]:
    """Drop the index of every season marked stale and schedule its rebuild (Redis must be
    reachable: a job runs this). A season marked again meanwhile stays marked for the next run."""
    stale = session.execute(
        select(Season.id, Season.index_stale_at).where(Season.index_stale_at.is_not(None))
    ).all()
    for season_id, marked_at in stale:
        index.drop(season_id)
        session.execute(
            update(Season)
            .where(Season.id == season_id, Season.index_stale_at == marked_at)
            .values(index_stale_at=None)
        )
        index.schedule_rebuild(session, season_id)
    return [season_id for season_id, _ in stale]


def due_seasons(session: Session, *, now: datetime) -> list[uuid.UUID]:
    return list(
        session.scalars(select(Season.id).where(Season.end_date <= now, Season.closed_at.is_(None)))
    )


def close_season(
    session: Session, index: LeaderboardIndex, *, season_id: uuid.UUID, now: datetime
) -> bool:
    """Close an ended season: final standings, pending rewards, reset of the live board.
    False when it is not due, already closed, or being closed by someone else right now."""
    season = session.scalar(
        select(Season)
        .where(Season.id == season_id, Season.closed_at.is_(None), Season.end_date <= now)
        .with_for_update(skip_locked=True)
    )
    if season is None:
        return False
    standings = _final_standings(session, season)
    if season.reset_rule != "clear" and standings:
        session.execute(insert(SeasonStanding), standings)
    rewards = _rewards(season, standings)
    if rewards:
        session.execute(
            insert_for(session, SeasonReward.__table__)
            .values(rewards)
            .on_conflict_do_nothing(index_elements=["season_id", "user_id", "sku_id"])
        )
        _send_rewards(session, season, now=now)
    if season.reset_rule != "none":
        regions = list(session.scalars(select(E.region).where(E.season_id == season.id).distinct()))
        session.execute(delete(E).where(E.season_id == season.id))
        index_after_commit(
            session,
            index,
            season_id=season.id,
            now=now,
            write=lambda: index.clear(season.id, regions),
        )
    season.closed_at = now
    after_commit(session, season_changed)
    record(
        session,
        actor_id=None,
        action="season.close",
        resource_type="season",
        resource_id=season.season_id,
        origin=SYSTEM,
        new={
            "reset_rule": season.reset_rule,
            "ranked": len(standings),
            "rewards": len(rewards),
        },
    )
    return True


def _final_standings(session: Session, season: Season) -> list[dict[str, object]]:
    rank = func.row_number().over(partition_by=E.region, order_by=ranking(season, board_of(season)))
    rows = session.execute(
        select(E.user_id, E.region, E.score, E.details, rank.label("rank")).where(
            E.season_id == season.id, E.removed_at.is_(None)
        )
    ).all()
    return [
        {
            "id": new_id(),
            "season_id": season.id,
            "user_id": r.user_id,
            "region": r.region,
            "rank": r.rank,
            "score": r.score,
            "details": r.details,
        }
        for r in rows
    ]


def _send_rewards(session: Session, season: Season, *, now: datetime) -> None:
    """One inbox message per reward band, to the players whose rank fell in it; each claims
    its attachment once (the band's message is made once: its source key)."""
    for n, band in enumerate(season.rewards or []):
        message_id = inbox.create_message(
            session,
            kind="season_reward",
            subject=f"{season.name}: your reward",
            body=f"You finished {season.name} ranked {band['from_rank']}-{band['to_rank']}.",
            data={"season_id": season.season_id, "from_rank": band["from_rank"],
                  "to_rank": band["to_rank"]},
            attachments=[{"type": "sku", "sku_id": band["sku_id"], "quantity": band["quantity"]}],
            source_key=f"season:{season.id}:band:{n}",
            now=now,
        )  # fmt: skip
        if message_id is None:
            continue
        earned = SeasonReward.__table__.c
        players = select(earned.user_id).where(
            earned.season_id == season.id,
            earned.sku_id == band["sku_id"],
            earned.rank.between(band["from_rank"], band["to_rank"]),
        )
        inbox.deliver(session, message_id=message_id, now=now, recipients=players)
    session.execute(
        update(SeasonReward)
        .where(SeasonReward.season_id == season.id, SeasonReward.status == "pending")
        .values(status="delivered")
    )


def _rewards(season: Season, standings: list[dict[str, object]]) -> list[dict[str, object]]:
    """One pending reward per player and SKU of each band its rank falls in (per region)."""
    return [
        {
            "id": new_id(),
            "season_id": season.id,
            "user_id": standing["user_id"],
            "rank": standing["rank"],
            "sku_id": band["sku_id"],
            "quantity": band["quantity"],
            "status": "pending",
        }
        for standing in standings
        for band in season.rewards or []
        if band["from_rank"] <= standing["rank"] <= band["to_rank"]
    ]
