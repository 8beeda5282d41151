"""User-generated content: items, their status history, reports, ratings, downloads, appeals,
and the SHA-256 blocklist of files that may never come back.

An item's ``status`` is moved only by ``player_platform.ugc.status.transition`` (one conditional
UPDATE each); ``visibility`` is separate and edited by the owner. Counters (ratings, downloads,
reports) live on the item and are moved by single UPDATEs in the same unit of work as the row
that justifies them, so they stay exact under concurrency.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from player_platform.db import Base, JSONType, Timestamps, created_at_column, new_id

TYPES = ("map", "mod", "image", "video", "text", "bundle")
VISIBILITIES = ("public", "unlisted", "private")
STATUSES = (
    "draft",
    "uploaded",
    "scanning",
    "pending_review",
    "published",
    "flagged",
    "removed",
)
# mod.io keeps the virus scan apart from moderation; so do we.
#   pending      not scanned yet (draft, uploaded, scanning)
#   clean        ClamAV and the content checks found nothing
#   not_scanned  no ClamAV configured: content checks passed, no virus scan (never auto-published)
#   infected     ClamAV found a signature
#   refused      a content check refused the file (type mismatch, archive bomb, blocklist, ...)
VIRUS_STATUSES = ("pending", "clean", "not_scanned", "infected", "refused")
REPORT_STATUSES = ("open", "dismissed", "upheld")
APPEAL_STATUSES = ("open", "upheld", "restored")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


PUBLIC = text("status = 'published' AND visibility = 'public'")


def _public_index(sort: str, column: str) -> tuple[Index, Index]:
    """Partial indexes over what GET /v1/ugc lists, in one sort order, with and without type."""
    where = {"postgresql_where": PUBLIC, "sqlite_where": PUBLIC}
    return (
        Index(f"ix_ugc_public_{sort}", column, "id", **where),
        Index(f"ix_ugc_public_type_{sort}", "type", column, "id", **where),
    )


class UgcItem(Timestamps, Base):
    __tablename__ = "ugc"
    __table_args__ = (
        CheckConstraint(_one_of("type", TYPES), name="type_known"),
        CheckConstraint(_one_of("visibility", VISIBILITIES), name="visibility_known"),
        CheckConstraint(_one_of("status", STATUSES), name="status_known"),
        CheckConstraint(_one_of("virus_status", VIRUS_STATUSES), name="virus_status_known"),
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint(
            "rating_sum >= 0 AND rating_count >= 0 AND download_count >= 0 AND report_count >= 0",
            name="counters_not_negative",
        ),
        # Public listings (newest first per type) and the moderation queue / re-drive scans.
        Index("ix_ugc_listing", "status", "visibility", "type", "published_at"),
        Index("ix_ugc_status_updated_at", "status", "updated_at"),
        # GET /v1/ugc: published public items by each sort, across types and per type.
        *_public_index("recent", "published_at"),
        *_public_index("top", "rating_score"),
        *_public_index("downloads", "download_count"),
        Index("ix_ugc_tags", "tags", postgresql_using="gin"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # SET NULL: an erased account's items are deleted by the erasure; a merge moves them.
    creator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    visibility: Mapped[str] = mapped_column(String(16), default="public")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # Set by the same UPDATE that changes ``status`` (whose SET reads the old row), so that
    # RETURNING tells the transition what it replaced on PostgreSQL and SQLite alike.
    previous_status: Mapped[str | None] = mapped_column(String(20))
    # Why the item is in its status now (the scanner's finding, a moderator's reason).
    status_reason: Mapped[str | None] = mapped_column(String(500))
    virus_status: Mapped[str] = mapped_column(String(16), default="pending")
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    object_key: Mapped[str] = mapped_column(String(512), unique=True)
    # S3 multipart upload id while a large draft is being uploaded part by part.
    multipart_upload_id: Mapped[str | None] = mapped_column(String(1024))
    expires_at: Mapped[datetime | None] = mapped_column(index=True)  # drafts only
    scanned_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    claimed_until: Mapped[datetime | None]
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    # The "top" order: a Bayesian average in thousandths (player_platform/ugc/ratings.py),
    # moved in the same UPDATE as rating_sum and rating_count.
    rating_score: Mapped[int] = mapped_column(default=0)
    download_count: Mapped[int] = mapped_column(BigInteger, default=0)
    report_count: Mapped[int] = mapped_column(default=0)  # open reports
    # Two-person rule (PP_UGC_TWO_PERSON_REMOVAL): the first moderator's proposal to remove,
    # which another moderator confirms.
    removal_proposed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    removal_proposed_at: Mapped[datetime | None]
    removal_proposal_notes: Mapped[str | None] = mapped_column(Text)


class UgcTransition(Base):
    """One status change of an item: from, to, who (none for the system), why, when."""

    __tablename__ = "ugc_history"
    __table_args__ = (Index("ix_ugc_history_item", "ugc_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    ugc_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ugc.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class UgcReport(Base):
    """A player's report of an item; at most one open report per reporter and item."""

    __tablename__ = "ugc_reports"
    __table_args__ = (
        CheckConstraint(_one_of("status", REPORT_STATUSES), name="status_known"),
        Index(
            "uq_ugc_reports_open_per_reporter",
            "ugc_id",
            "reporter_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_ugc_reports_status_created_at", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    ugc_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ugc.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    moderator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    moderator_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None]


class UgcRating(Timestamps, Base):
    """One rating per player and item, changeable; the item holds the exact sum and count."""

    __tablename__ = "ugc_ratings"
    __table_args__ = (
        UniqueConstraint("ugc_id", "user_id"),
        CheckConstraint("value BETWEEN 1 AND 5", name="value_in_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    ugc_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ugc.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[int] = mapped_column(SmallInteger)


class UgcDownload(Base):
    """A download counted once per player, item and (UTC) day: INSERT ... ON CONFLICT DO
    NOTHING, and the item's counter moves only when a row was inserted."""

    __tablename__ = "ugc_downloads"
    __table_args__ = (UniqueConstraint("ugc_id", "user_id", "day"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    ugc_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ugc.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date]
    created_at: Mapped[datetime] = created_at_column()


class UgcAppeal(Base):
    """The owner's one appeal against a removal, decided by a moderator."""

    __tablename__ = "ugc_appeals"
    __table_args__ = (
        CheckConstraint(_one_of("status", APPEAL_STATUSES), name="status_known"),
        Index("ix_ugc_appeals_status_created_at", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    ugc_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ugc.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    moderator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    moderator_notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None]


class BlockedHash(Base):
    """A file that may never be published again: an upload with this SHA-256 is refused at
    complete or at scan. Removals add to it; moderators may add more."""

    __tablename__ = "ugc_blocked_hashes"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(500))
    ugc_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ugc.id", ondelete="SET NULL"), index=True
    )
    added_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()
