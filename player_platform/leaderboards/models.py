"""Seasons, their entries (the source of truth of every score), final standings and rewards."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, JSONType, Timestamps, created_at_column, new_id

SEASON_TYPES = ("global", "regional", "friends")
SORTS = ("desc", "asc")
OPERATORS = ("best", "latest", "increment")
RESET_RULES = ("none", "archive", "clear")


class Season(Timestamps, Base):
    __tablename__ = "seasons"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    season_id: Mapped[str] = mapped_column(String(64), unique=True)  # the studio's own id
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    sort: Mapped[str] = mapped_column(String(4))
    operator: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[datetime]
    end_date: Mapped[datetime] = mapped_column(index=True)
    reset_rule: Mapped[str] = mapped_column(String(16))
    min_score: Mapped[int | None] = mapped_column(BigInteger)
    max_score: Mapped[int | None] = mapped_column(BigInteger)
    max_increase: Mapped[int | None] = mapped_column(BigInteger)
    authoritative: Mapped[bool] = mapped_column(default=False)
    rewards: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    closed_at: Mapped[datetime | None]
    # Set when a write could not reach the Redis index (Redis down): the index misses it and
    # is dropped and rebuilt once Redis answers again (lifecycle.repair_stale_indexes).
    index_stale_at: Mapped[datetime | None]


class LeaderboardEntry(Timestamps, Base):
    """A player's standing in one season. ``reached_at`` is when the current score was first
    reached (ties go to the earlier); ``version`` grows with every change so that the Redis
    index applies changes in order whatever order they arrive in."""

    __tablename__ = "leaderboard_entries"
    __table_args__ = (
        UniqueConstraint("season_id", "user_id"),
        Index(
            "ix_leaderboard_entries_ranking",
            "season_id",
            "region",
            "score",
            "reached_at",
            "user_id",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    season_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    region: Mapped[str] = mapped_column(String(16), default="")
    score: Mapped[int] = mapped_column(BigInteger)
    previous_score: Mapped[int | None] = mapped_column(BigInteger)
    reached_at: Mapped[datetime]
    submissions: Mapped[int] = mapped_column(default=1)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    details: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    removal_reason: Mapped[str | None] = mapped_column(String(500))


class SeasonStanding(Base):
    """A final rank, written once when the season closes (GET /archive)."""

    __tablename__ = "season_standings"
    __table_args__ = (UniqueConstraint("season_id", "region", "rank"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    season_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    region: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int]
    score: Mapped[int] = mapped_column(BigInteger)
    details: Mapped[dict[str, Any] | None] = mapped_column("metadata")


class SeasonReward(Base):
    """A reward band's grant to one player: ``delivered`` once its band's inbox message is
    in the player's inbox (the claim there grants it)."""

    __tablename__ = "season_rewards"
    __table_args__ = (UniqueConstraint("season_id", "user_id", "sku_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    season_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int]
    sku_id: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = created_at_column()
