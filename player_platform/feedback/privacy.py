"""A player's feedback under GDPR and account merge.

The export holds the reports the player filed and their attachments' descriptions (not the
files' storage keys, and not the moderators' notes or assignee: those are staff working data).
Erasure deletes the reports and their attachments, the files by a job after commit. A merge
gives the survivor the retired account's reports.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from player_platform.feedback.models import Feedback, FeedbackAttachment
from player_platform.jobs import DELETE_OBJECTS_JOB, Jobs


def export_section(session: Session, user: Any) -> list[dict[str, Any]]:
    reports = session.scalars(
        select(Feedback).where(Feedback.user_id == user.id).order_by(Feedback.created_at)
    )
    return [
        {
            "id": str(r.id),
            "category": r.category,
            "message": r.message,
            "context": r.context,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
            "attachments": [
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "size": a.size,
                    "sha256": a.sha256,
                    "created_at": a.created_at.isoformat(),
                }
                for a in r.attachments
            ],
        }
        for r in reports
    ]


def erase_reports(session: Session, *, jobs: Jobs, user_id: uuid.UUID, now: datetime) -> None:
    reports = select(Feedback.id).where(Feedback.user_id == user_id).scalar_subquery()
    keys = list(
        session.scalars(
            delete(FeedbackAttachment)
            .where(FeedbackAttachment.feedback_id.in_(reports))
            .returning(FeedbackAttachment.object_key)
        )
    )
    session.execute(delete(Feedback).where(Feedback.user_id == user_id))
    if keys:
        jobs.enqueue_after_commit(session, "maintenance", DELETE_OBJECTS_JOB, keys)


def move_reports(
    session: Session,
    *,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    jobs: Jobs,  # a merge step's argument: nothing here waits for the commit
    now: datetime,
) -> dict[str, int]:
    moved = session.execute(
        update(Feedback)
        .where(Feedback.user_id == source_id)
        .values(user_id=target_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"feedback_reports": moved or 0}
