"""Feedback: a player reports a bug, abuse or a suggestion, with screenshots or logs uploaded
straight to object storage; moderators triage the reports.

Attachments are declared (name, type, size, SHA-256) and each gets a presigned PUT bound to
that length and digest, as UGC uploads are, so another body is refused by the store. They are
not scanned: moderators download them as attachments through short-lived URLs.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, selectinload

from player_platform.audit.service import Origin, record
from player_platform.config import Settings
from player_platform.errors import Invalid, NotFound
from player_platform.feedback.models import Feedback, FeedbackAttachment
from player_platform.identity.models import STAFF_ROLES, User
from player_platform.pagination import Page, Position
from player_platform.security.ratelimit import RateLimiter
from storage import ObjectInfo, PresignedRequest, Storage, safe_filename

ATTACHMENT_TYPES = ("image/png", "image/jpeg", "text/plain")
UPLOAD_URL_SECONDS = 900
DOWNLOAD_URL_SECONDS = 300
TRIAGE_FIELDS = ("status", "assignee_id", "notes")


@dataclass(frozen=True)
class FeedbackPolicy:
    max_attachments: int
    max_bytes: int
    per_hour: int

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackPolicy:
        return cls(
            max_attachments=settings.feedback_max_attachments,
            max_bytes=settings.feedback_attachment_max_bytes,
            per_hour=settings.rate_limit_feedback_user,
        )


@dataclass(frozen=True)
class AttachmentDeclaration:
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Report:
    category: str
    message: str
    context: dict[str, str] | None
    attachments: list[AttachmentDeclaration]


@dataclass(frozen=True)
class Upload:
    attachment: FeedbackAttachment
    upload: PresignedRequest


@dataclass(frozen=True)
class Download:
    attachment: FeedbackAttachment
    stored: ObjectInfo | None
    download_url: str | None


def submit(
    session: Session,
    *,
    storage: Storage,
    limiter: RateLimiter,
    policy: FeedbackPolicy,
    user_id: uuid.UUID,
    report: Report,
    now: datetime,
) -> tuple[Feedback, list[Upload]]:
    """Store the report and hand out one presigned PUT per declared attachment."""
    _check_attachments(policy, report.attachments)
    limiter.hit(f"feedback:{user_id}", limit=policy.per_hour, now=time.time(), window=3600)
    feedback = Feedback(
        id=uuid.uuid4(), user_id=user_id, category=report.category, message=report.message,
        context=report.context, status="new", created_at=now, updated_at=now, attachments=[],
    )  # fmt: skip
    uploads = []
    for declared in report.attachments:
        attachment = FeedbackAttachment(
            id=uuid.uuid4(), filename=safe_filename(declared.filename),
            content_type=declared.content_type, size=declared.size, sha256=declared.sha256,
            created_at=now,
        )  # fmt: skip
        attachment.object_key = f"feedback/{feedback.id}/{attachment.id}/{attachment.filename}"
        feedback.attachments.append(attachment)
        upload = storage.presigned_put(
            attachment.object_key, content_type=attachment.content_type,
            expires_in=UPLOAD_URL_SECONDS, content_length=attachment.size, sha256=attachment.sha256,
        )  # fmt: skip
        uploads.append(Upload(attachment, upload))
    session.add(feedback)
    session.flush()
    return feedback, uploads


def _check_attachments(policy: FeedbackPolicy, attachments: list[AttachmentDeclaration]) -> None:
    if len(attachments) > policy.max_attachments:
        raise Invalid(
            f"At most {policy.max_attachments} attachments.",
            code="too_many_attachments",
            limit=policy.max_attachments,
        )
    for declared in attachments:
        if declared.content_type not in ATTACHMENT_TYPES:
            raise Invalid(
                f"An attachment is one of {', '.join(ATTACHMENT_TYPES)}.",
                code="unsupported_content_type",
            )
        if declared.size > policy.max_bytes:
            raise Invalid(
                f"An attachment may be at most {policy.max_bytes} bytes.",
                code="file_too_large",
                limit=policy.max_bytes,
            )


def list_feedback(
    session: Session,
    *,
    limit: int,
    cursor: str | None = None,
    status: str | None = None,
    category: str | None = None,
    assignee_id: uuid.UUID | None = None,
) -> Page[Feedback]:
    """Newest first, filtered; ``cursor`` resumes after the last report of the previous page."""
    filters = {
        Feedback.status: status,
        Feedback.category: category,
        Feedback.assignee_id: assignee_id,
    }
    query = (
        select(Feedback)
        .where(*(column == value for column, value in filters.items() if value is not None))
        .options(selectinload(Feedback.attachments))
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(tuple_(Feedback.created_at, Feedback.id) < (after.created_at, after.id))
    rows = list(session.scalars(query))
    more, rows = len(rows) > limit, rows[:limit]
    return Page(rows, Position(rows[-1].created_at, rows[-1].id).encode() if more else None)


def get_feedback(
    session: Session, *, storage: Storage, feedback_id: uuid.UUID
) -> tuple[Feedback, list[Download]]:
    """One report with a short-lived download URL for each attachment that was uploaded."""
    feedback = _find(session, feedback_id)
    downloads = []
    for attachment in feedback.attachments:
        stored = storage.head(attachment.object_key)
        url = None
        if stored is not None:
            url = storage.presigned_get(
                attachment.object_key, expires_in=DOWNLOAD_URL_SECONDS, filename=attachment.filename
            )
        downloads.append(Download(attachment, stored, url))
    return feedback, downloads


def triage(
    session: Session,
    *,
    feedback_id: uuid.UUID,
    actor_id: uuid.UUID,
    changes: dict[str, Any],
    origin: Origin,
    now: datetime,
) -> Feedback:
    """Change status, assignee (a moderator or admin, or None) and notes; audited."""
    feedback = _find(session, feedback_id, lock=True)
    assignee = changes.get("assignee_id")
    if assignee is not None:
        user = session.get(User, assignee)
        if user is None or not STAFF_ROLES.intersection(user.roles):
            raise Invalid("The assignee must be a moderator or an admin.", code="invalid_assignee")
    changed = {k: v for k, v in changes.items() if k in TRIAGE_FIELDS and getattr(feedback, k) != v}
    if not changed:
        return feedback
    old = {k: _plain(getattr(feedback, k)) for k in changed}
    for name, value in changed.items():
        setattr(feedback, name, value)
    feedback.updated_at = now
    record(
        session, actor_id=actor_id, action="feedback.triage", resource_type="feedback",
        resource_id=feedback.id, origin=origin, old=old,
        new={k: _plain(v) for k, v in changed.items()},
    )  # fmt: skip
    return feedback


def _find(session: Session, feedback_id: uuid.UUID, *, lock: bool = False) -> Feedback:
    feedback = session.get(
        Feedback, feedback_id, with_for_update=lock, options=[selectinload(Feedback.attachments)]
    )
    if feedback is None:
        raise NotFound("No such feedback report.", code="feedback_not_found")
    return feedback


def _plain(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value
