"""Uploads: a player declares a file, uploads it straight to object storage through presigned
URLs, and says when it is done; drafts never completed expire.

Files never pass through an API worker. The declaration binds the upload to the declared
length (and, for a single PUT, the SHA-256); `complete` checks the object is there with that
size and hands the item to the scanner (workers/ugc.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin
from player_platform.errors import Forbidden, Invalid, InvalidState, NotFound
from player_platform.identity.models import User
from player_platform.jobs import Jobs
from player_platform.ugc.models import BlockedHash, UgcItem
from player_platform.ugc.policy import CONTENT_TYPES, UgcPolicy
from player_platform.ugc.status import transition
from storage import PresignedRequest, Storage, safe_filename

SCAN_JOB = "workers.ugc.scan_content"
# A scan may run for 5 minutes plus 1 s per MiB (a 2 GiB video: 39 minutes). It measured
# 27-65 MB/s here (docs/PERFORMANCE.md); the slack covers a slow store and a production clamd.
SCAN_TIMEOUT_FLOOR_SECONDS = 300
SCAN_SECONDS_PER_MIB = 1


@dataclass(frozen=True)
class Declaration:
    type: str
    name: str
    description: str
    tags: list[str]
    visibility: str
    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Upload:
    """How to send the file: one PUT (``parts`` empty) or one PUT per part, in order."""

    method: str
    url: str | None
    headers: dict[str, str]
    expires_at: datetime
    parts: list[PresignedRequest]


def scan_job_id(ugc_id: uuid.UUID) -> str:
    return f"scan-{ugc_id}"  # RQ 3 refuses ':' in job ids


def scan_timeout(size: int) -> int:
    """The scan job's timeout for a file of ``size`` bytes."""
    return SCAN_TIMEOUT_FLOOR_SECONDS + SCAN_SECONDS_PER_MIB * -(-size // 1024**2)


def declare(
    session: Session,
    *,
    storage: Storage,
    policy: UgcPolicy,
    owner_id: uuid.UUID,
    declaration: Declaration,
    now: datetime,
) -> tuple[UgcItem, Upload]:
    """Create the draft and the presigned upload; checks type, size limit and quota."""
    d = declaration
    if d.content_type not in CONTENT_TYPES[d.type]:
        raise Invalid(
            f"A {d.type} is one of {', '.join(CONTENT_TYPES[d.type])}.",
            code="unsupported_content_type",
        )
    if d.size > policy.max_bytes[d.type]:
        raise Invalid(
            f"A {d.type} may be at most {policy.max_bytes[d.type]} bytes.",
            code="file_too_large",
            limit=policy.max_bytes[d.type],
        )
    _check_blocklist(session, d.sha256)
    _check_quota(session, policy=policy, owner_id=owner_id, size=d.size)
    item_id = uuid.uuid4()
    item = UgcItem(
        id=item_id,
        creator_id=owner_id,
        **{f: getattr(d, f) for f in ("type", "name", "description", "tags", "visibility")},
        filename=safe_filename(d.filename),
        content_type=d.content_type,
        size=d.size,
        sha256=d.sha256,
        status="draft",
        expires_at=now + policy.draft_ttl,
        created_at=now,
        updated_at=now,
    )
    item.object_key = f"ugc/{d.type}/{item_id}/{item.filename}"
    upload = _presign(storage, policy, item)
    session.add(item)
    session.flush()
    return item, upload


def _check_blocklist(session: Session, sha256: str) -> None:
    if session.get(BlockedHash, sha256) is not None:
        raise Forbidden("This file was removed and may not be uploaded again.", code="blocked_file")


def _check_quota(session: Session, *, policy: UgcPolicy, owner_id: uuid.UUID, size: int) -> None:
    # Locking the owner serialises their declarations, so two at once cannot both squeeze in.
    session.scalar(select(User.id).where(User.id == owner_id).with_for_update())
    used = session.scalar(
        select(func.coalesce(func.sum(UgcItem.size), 0)).where(
            UgcItem.creator_id == owner_id, UgcItem.status != "removed"
        )
    )
    if used + size > policy.quota_bytes:
        raise Forbidden(
            f"This upload would take you past your {policy.quota_bytes}-byte storage quota.",
            code="quota_exceeded",
            used=used,
            quota=policy.quota_bytes,
        )


def _presign(storage: Storage, policy: UgcPolicy, item: UgcItem) -> Upload:
    expires_in = policy.upload_url_seconds
    if storage.supports_multipart and item.size > policy.multipart_threshold:
        item.multipart_upload_id = storage.start_multipart(
            item.object_key, content_type=item.content_type
        )
        parts = [
            storage.presigned_part(
                item.object_key,
                upload_id=item.multipart_upload_id,
                part_number=number,
                content_length=length,
                expires_in=expires_in,
            )
            for number, length in enumerate(policy.part_sizes(item.size), start=1)
        ]
        return Upload("PUT", None, {}, parts[0].expires_at, parts)
    single = storage.presigned_put(
        item.object_key,
        content_type=item.content_type,
        expires_in=expires_in,
        content_length=item.size,
        sha256=item.sha256,
    )
    return Upload(single.method, single.url, single.headers, single.expires_at, [])


def complete(
    session: Session,
    *,
    storage: Storage,
    jobs: Jobs,
    policy: UgcPolicy,
    owner_id: uuid.UUID,
    ugc_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> UgcItem:
    """The owner says the upload is done: draft -> uploaded -> scanning, scan after commit.
    A multipart upload is joined first, once every part is there with its length (409
    ``upload_incomplete`` names the missing ones; the upload stays open for them)."""
    item = session.get(UgcItem, ugc_id)
    if item is None or item.creator_id != owner_id:
        raise NotFound("no such item", code="ugc_not_found")
    if item.status != "draft":
        raise InvalidState(f"The item is {item.status}, not a draft.", code="invalid_transition")
    _check_blocklist(session, item.sha256)
    if item.multipart_upload_id:
        storage.finish_multipart(
            item.object_key,
            upload_id=item.multipart_upload_id,
            part_sizes=policy.part_sizes(item.size),
        )
    info = storage.head(item.object_key)
    if info is None:
        raise InvalidState("Nothing has been uploaded yet.", code="upload_missing")
    if info.size != item.size:
        raise InvalidState(
            f"The upload has {info.size} bytes, not the {item.size} declared.",
            code="size_mismatch",
        )
    done = {"expires_at": None, "multipart_upload_id": None}
    for action in ("upload", "scan"):
        item = transition(
            session, ugc_id=ugc_id, action=action, actor_id=owner_id, origin=origin, now=now,
            values=done,
        )  # fmt: skip
    enqueue_scan(session, jobs=jobs, ugc_id=ugc_id, size=item.size)
    return item


def enqueue_scan(session: Session, *, jobs: Jobs, ugc_id: uuid.UUID, size: int) -> None:
    jobs.enqueue_after_commit(
        session, "scan_content", SCAN_JOB, str(ugc_id), job_id=scan_job_id(ugc_id),
        timeout=scan_timeout(size),
    )  # fmt: skip


def expire_drafts(session: Session, *, storage: Storage, now: datetime, limit: int = 500) -> int:
    """Delete drafts past their expiry with whatever was uploaded for them (rows and objects:
    a draft was never scanned, shown or decided, so nothing about it needs keeping)."""
    drafts = session.execute(
        select(UgcItem.id, UgcItem.object_key, UgcItem.multipart_upload_id)
        .where(UgcItem.status == "draft", UgcItem.expires_at < now)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for _, key, upload_id in drafts:
        if upload_id:
            storage.abort_multipart(key, upload_id=upload_id)
        storage.delete(key)
    if drafts:
        session.execute(
            delete(UgcItem)
            .where(UgcItem.id.in_([d.id for d in drafts]), UgcItem.status == "draft")
            .execution_options(synchronize_session=False)
        )
    return len(drafts)


def redrive_scans(
    session: Session, *, jobs: Jobs, now: datetime, stuck_for: int = 600, limit: int = 1000
) -> int:
    """Enqueue again the scan of items left in ``scanning`` (a worker died mid-scan, Redis was
    emptied) whose job is not queued or running; the scan re-checks the status first."""
    stuck = session.execute(
        select(UgcItem.id, UgcItem.size)
        .where(
            UgcItem.status == "scanning", UgcItem.updated_at < now - timedelta(seconds=stuck_for)
        )
        .order_by(UgcItem.updated_at)
        .limit(limit)
    ).all()
    waiting = [row for row in stuck if not jobs.is_alive(scan_job_id(row.id), now=now)]
    for row in waiting:
        enqueue_scan(session, jobs=jobs, ugc_id=row.id, size=row.size)
    return len(waiting)
