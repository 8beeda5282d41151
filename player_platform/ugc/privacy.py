"""A player's UGC under GDPR and account merge: what the export holds, what erasure deletes
and keeps, and what a merge moves (hooked into player_platform/identity/privacy.py and
merge.py the way wallet's holdings are).

Erasure deletes the player's items (rows, and their objects by a job after commit) with their
ratings, downloads, reports and appeals against them; what moderation must keep stays: the
audit log of every decision, the SHA-256 blocklist (a removed file stays refused), and the
reports this player filed against others' items, with their free text blanked. Their ratings
of others' items stay (the account is anonymised), so those items' sums stay exact.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from player_platform.jobs import DELETE_OBJECTS_JOB, Jobs
from player_platform.ugc.models import UgcAppeal, UgcDownload, UgcItem, UgcRating, UgcReport

ITEM_FIELDS = (
    *("id", "type", "name", "description", "tags", "visibility", "status", "status_reason"),
    *("virus_status", "filename", "content_type", "size", "sha256", "download_count"),
    *("rating_sum", "rating_count", "created_at", "published_at"),
)


def export_section(session: Session, user: Any) -> dict[str, list[dict[str, Any]]]:
    """The player's items, the reports and appeals they filed, and their ratings."""
    items = session.scalars(
        select(UgcItem).where(UgcItem.creator_id == user.id).order_by(UgcItem.created_at)
    )
    reports = session.scalars(
        select(UgcReport).where(UgcReport.reporter_id == user.id).order_by(UgcReport.created_at)
    )
    appeals = session.scalars(
        select(UgcAppeal).where(UgcAppeal.user_id == user.id).order_by(UgcAppeal.created_at)
    )
    ratings = session.scalars(
        select(UgcRating).where(UgcRating.user_id == user.id).order_by(UgcRating.created_at)
    )
    return {
        "items": [_json({f: getattr(i, f) for f in ITEM_FIELDS}) for i in items],
        "reports": [
            _json({"ugc_id": r.ugc_id, "reason": r.reason, "description": r.description,
                   "status": r.status, "created_at": r.created_at})
            for r in reports
        ],
        "appeals": [
            _json({"ugc_id": a.ugc_id, "message": a.message, "status": a.status,
                   "created_at": a.created_at})
            for a in appeals
        ],
        "ratings": [
            _json({"ugc_id": r.ugc_id, "value": r.value, "updated_at": r.updated_at})
            for r in ratings
        ],
    }  # fmt: skip


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat()
        if isinstance(value, datetime)
        else str(value)
        if isinstance(value, uuid.UUID)
        else value
        for key, value in values.items()
    }


def erase_content(session: Session, *, jobs: Jobs, user_id: uuid.UUID, now: datetime) -> None:
    """Erasure's UGC step (see the module docstring)."""
    keys = list(
        session.scalars(
            delete(UgcItem).where(UgcItem.creator_id == user_id).returning(UgcItem.object_key)
        )
    )
    session.execute(
        update(UgcReport)
        .where(UgcReport.reporter_id == user_id)
        .values(description="")
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(UgcDownload).where(UgcDownload.user_id == user_id))
    if keys:
        jobs.enqueue_after_commit(session, "maintenance", DELETE_OBJECTS_JOB, keys)


def move_items(
    session: Session,
    *,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    jobs: Jobs,  # a merge step's argument: nothing here waits for the commit
    now: datetime,
) -> dict[str, int]:
    """Account merge: the retired account's items and their appeals belong to the survivor.
    Ratings and reports stay with the retired account (one per player and item: moving them
    could make the survivor rate an item twice, or rate their own item)."""
    moved = session.execute(
        update(UgcItem)
        .where(UgcItem.creator_id == source_id)
        .values(creator_id=target_id, updated_at=UgcItem.updated_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(UgcAppeal)
        .where(UgcAppeal.user_id == source_id)
        .values(user_id=target_id)
        .execution_options(synchronize_session=False)
    )
    return {"ugc_items": moved or 0}
