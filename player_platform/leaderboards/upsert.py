"""The one SQL statement that applies a season's operator to a submission (decision 18), for one
row (service.submit_score) and for a batch (batch.py), and why it refused a row."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Numeric,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from player_platform.db import insert_for
from player_platform.errors import Forbidden, Invalid
from player_platform.leaderboards.index import SCORE_MAX, SCORE_MIN
from player_platform.leaderboards.models import LeaderboardEntry, Season
from player_platform.leaderboards.seasons import SeasonRules


def upsert_statement(
    session: Session, season: Season | SeasonRules, stmt: Any | None = None
) -> Any:
    """INSERT ... ON CONFLICT (season, user) DO UPDATE applying the season's operator.

    No row comes back when the entry was removed by a moderator, or when the change breaks
    max_increase or leaves the 64-bit range (increment). ``stmt`` is the INSERT to complete
    (default: one to which the caller adds ``.values(...)``)."""
    table = LeaderboardEntry.__table__
    stmt = insert_for(session, table) if stmt is None else stmt
    new, old = stmt.excluded, table.c
    better = new.score > old.score if season.sort == "desc" else new.score < old.score
    if season.operator == "best":
        score = case((better, new.score), else_=old.score)
        reached = case((better, new.reached_at), else_=old.reached_at)
        metadata = case((better, new.metadata), else_=old.metadata)
    elif season.operator == "latest":
        score = new.score
        reached = case((new.score == old.score, old.reached_at), else_=new.reached_at)
        metadata = new.metadata
    else:  # increment
        score = old.score + new.score
        reached = case((new.score == 0, old.reached_at), else_=new.reached_at)
        metadata = func.coalesce(new.metadata, old.metadata)
    allowed = [old.removed_at.is_(None)]
    if season.operator == "increment":
        total = cast(old.score, Numeric) + new.score
        allowed.append(total.between(SCORE_MIN, SCORE_MAX))
    elif season.max_increase is not None:
        gain = cast(new.score, Numeric) - old.score
        allowed.append((gain if season.sort == "desc" else -gain) <= season.max_increase)
    return stmt.on_conflict_do_update(
        index_elements=["season_id", "user_id"],
        set_={
            "score": score,
            "reached_at": reached,
            "metadata": metadata,
            "previous_score": old.score,
            "submissions": old.submissions + 1,
            "version": old.version + 1,
            "updated_at": new.updated_at,
        },
        where=and_(*allowed),
    ).returning(
        table.c.score,
        table.c.previous_score,
        table.c.reached_at,
        table.c.version,
        table.c.region,
        table.c.metadata.label("details"),
        table.c.user_id,
    )


BATCH_COLUMNS = (
    *("id", "season_id", "user_id", "region", "score", "reached_at"),
    *("submissions", "version", "metadata", "created_at", "updated_at"),
)


@functools.lru_cache(maxsize=64)
def batch_upsert_statement(sort: str, operator: str, max_increase: int | None) -> Any:
    """upsert_statement for many rows at once (group commit), PostgreSQL only: the rows come as
    one array per column (``unnest``), so the statement text is the same for every batch size,
    compiled once per operator rule and prepared by psycopg instead of compiled per batch."""
    table = LeaderboardEntry.__table__
    rows = (
        func.unnest(
            bindparam("ids", type_=ARRAY(Uuid())),
            bindparam("users", type_=ARRAY(Uuid())),
            bindparam("regions", type_=ARRAY(String())),
            bindparam("scores", type_=ARRAY(BigInteger())),
            bindparam("nows", type_=ARRAY(DateTime(timezone=True))),
            bindparam("metadata", type_=ARRAY(Text())),
        )
        .table_valued("id", "user_id", "region", "score", "now", "metadata")
        .render_derived()
    )
    one = literal(1)
    stmt = pg_insert(table).from_select(
        BATCH_COLUMNS,
        select(
            rows.c.id,
            bindparam("season", type_=Uuid()),
            rows.c.user_id,
            rows.c.region,
            rows.c.score,
            rows.c.now,
            one,
            one,
            cast(rows.c.metadata, JSONB),
            rows.c.now,
            rows.c.now,
        ),
    )
    rules = _Rules(sort=sort, operator=operator, max_increase=max_increase)
    return upsert_statement(None, rules, stmt)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Rules:
    sort: str
    operator: str
    max_increase: int | None


def refuse(session: Session, season: SeasonRules, user_id: uuid.UUID) -> None:
    """Raise why the upsert changed nothing: a removed entry, or a step the season refuses."""
    removed = session.scalar(
        select(LeaderboardEntry.removed_at).where(
            LeaderboardEntry.season_id == season.id, LeaderboardEntry.user_id == user_id
        )
    )
    if removed is not None:
        raise Forbidden("A moderator removed this player from the season.", code="entry_removed")
    raise Invalid(
        "The score is outside the bounds of this season.",
        code="score_out_of_bounds",
        min_score=season.min_score,
        max_score=season.max_score,
        max_increase=season.max_increase,
    )
