"""One item as players see it: read (own in any status, others' when published and not
private), edit and delete own, download, rate.

Counters stay exact under concurrency: a download is one INSERT ... ON CONFLICT DO NOTHING per
player, item and UTC day, and the counter moves only when that inserted a row; a rating locks
the item row, reads the player's previous value and moves sum and count by the difference, so
every rating of one item is applied in turn.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.db import after_commit, insert_for
from player_platform.errors import Forbidden, InvalidState, NotFound
from player_platform.jobs import DELETE_OBJECTS_JOB, Jobs
from player_platform.ugc.listing import HotLists
from player_platform.ugc.models import UgcDownload, UgcItem, UgcRating
from storage import Storage

DOWNLOAD_URL_SECONDS = 300
EDITABLE = ("name", "description", "tags", "visibility")
# "top" ranks by a Bayesian average: every item starts with PRIOR_WEIGHT ratings of PRIOR_MEAN,
# so one 5-star rating does not outrank a thousand 4.8s. Stored in thousandths.
PRIOR_MEAN, PRIOR_WEIGHT = 3, 5


@dataclass(frozen=True)
class Download:
    url: str
    expires_at: datetime
    filename: str
    size: int
    sha256: str
    counted: bool


def is_listed(item: UgcItem) -> bool:
    """Published and reachable by others (public, or unlisted by id)."""
    return item.status == "published" and item.visibility != "private"


def get_item(session: Session, *, ugc_id: uuid.UUID, viewer_id: uuid.UUID | None) -> UgcItem:
    """The item if the viewer may see it: its owner always, anyone else when it is listed."""
    item = session.get(UgcItem, ugc_id)
    if item is None or not (item.creator_id == viewer_id or is_listed(item)):
        raise NotFound("No such item.", code="ugc_not_found")
    return item


def listed_for_other(session: Session, *, ugc_id: uuid.UUID, user_id: uuid.UUID) -> UgcItem:
    """A listed item the caller does not own, locked for this unit of work (ratings, reports)."""
    item = session.scalars(
        select(UgcItem)
        .where(UgcItem.id == ugc_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if item is None or not (item.creator_id == user_id or is_listed(item)):
        raise NotFound("No such item.", code="ugc_not_found")
    if item.creator_id == user_id:
        raise Forbidden("Players cannot rate or report their own items.", code="own_item")
    if not is_listed(item):
        raise InvalidState("The item is not published.", code="not_published")
    return item


def _owned(session: Session, *, ugc_id: uuid.UUID, owner_id: uuid.UUID) -> UgcItem:
    item = get_item(session, ugc_id=ugc_id, viewer_id=owner_id)
    if item.creator_id != owner_id:
        raise Forbidden("Only the item's creator may change it.", code="not_owner")
    return item


def update_item(
    session: Session,
    *,
    hot: HotLists,
    ugc_id: uuid.UUID,
    owner_id: uuid.UUID,
    changes: dict[str, Any],
    origin: Origin,
    now: datetime,
) -> UgcItem:
    """Edit name, description, tags or visibility (visibility is not moderation status)."""
    item = _owned(session, ugc_id=ugc_id, owner_id=owner_id)
    old = {field: getattr(item, field) for field in EDITABLE if field in changes}
    for field, value in changes.items():
        if field in EDITABLE:
            setattr(item, field, value)
    item.updated_at = now
    record(
        session,
        actor_id=owner_id,
        action="ugc.update",
        resource_type="ugc",
        resource_id=item.id,
        origin=origin,
        old=old,
        new={field: changes[field] for field in old},
    )
    session.flush()
    if "visibility" in changes and item.status == "published":
        after_commit(session, lambda: hot.invalidate(item.type))
    return item


def delete_item(
    session: Session,
    *,
    jobs: Jobs,
    hot: HotLists,
    ugc_id: uuid.UUID,
    owner_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> None:
    """Delete the owner's item; its object is deleted by a job once this commits."""
    item = _owned(session, ugc_id=ugc_id, owner_id=owner_id)
    record(
        session,
        actor_id=owner_id,
        action="ugc.delete",
        resource_type="ugc",
        resource_id=item.id,
        origin=origin,
        old={"status": item.status, "name": item.name, "sha256": item.sha256},
    )
    key, type_ = item.object_key, item.type
    session.delete(item)
    session.flush()
    jobs.enqueue_after_commit(session, "maintenance", DELETE_OBJECTS_JOB, [key])
    after_commit(session, lambda: hot.invalidate(type_))


def download(
    session: Session,
    *,
    storage: Storage,
    ugc_id: uuid.UUID,
    viewer_id: uuid.UUID | None,
    now: datetime,
) -> Download:
    """A short-lived presigned GET of a published item; a signed-in player's download is
    counted once per UTC day (anonymous downloads are served, not counted)."""
    item = get_item(session, ugc_id=ugc_id, viewer_id=viewer_id)
    if item.status != "published":
        raise InvalidState("Only published items are downloadable.", code="not_published")
    counted = False
    if viewer_id is not None:
        inserted = session.execute(
            insert_for(session, UgcDownload)
            .values(id=uuid.uuid4(), ugc_id=item.id, user_id=viewer_id, day=now.date(),
                    created_at=now)
            .on_conflict_do_nothing(index_elements=["ugc_id", "user_id", "day"])
            .returning(UgcDownload.id)
        ).scalar_one_or_none()  # fmt: skip
        if inserted is not None:
            session.execute(
                update(UgcItem)
                .where(UgcItem.id == item.id)
                .values(download_count=UgcItem.download_count + 1, updated_at=UgcItem.updated_at)
                .execution_options(synchronize_session=False)
            )
            counted = True
    url = storage.presigned_get(
        item.object_key, expires_in=DOWNLOAD_URL_SECONDS, filename=item.filename
    )
    return Download(
        url=url,
        expires_at=now + timedelta(seconds=DOWNLOAD_URL_SECONDS),
        filename=item.filename,
        size=item.size,
        sha256=item.sha256,
        counted=counted,
    )


def rating_score(rating_sum: int, rating_count: int) -> int:
    return (rating_sum + PRIOR_MEAN * PRIOR_WEIGHT) * 1000 // (rating_count + PRIOR_WEIGHT)


def rate(
    session: Session, *, ugc_id: uuid.UUID, user_id: uuid.UUID, value: int, now: datetime
) -> UgcItem:
    """Set the player's rating (1..5) of a listed item; a second rating replaces the first."""
    item = listed_for_other(session, ugc_id=ugc_id, user_id=user_id)  # row locked
    previous = session.scalar(
        select(UgcRating.value).where(UgcRating.ugc_id == item.id, UgcRating.user_id == user_id)
    )
    statement = insert_for(session, UgcRating).values(
        id=uuid.uuid4(), ugc_id=item.id, user_id=user_id, value=value, created_at=now,
        updated_at=now,
    )  # fmt: skip
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["ugc_id", "user_id"],
            set_={"value": statement.excluded.value, "updated_at": now},
        )
    )
    total = item.rating_sum - (previous or 0) + value
    count = item.rating_count + (previous is None)
    session.execute(
        update(UgcItem)
        .where(UgcItem.id == item.id)
        .values(
            rating_sum=total,
            rating_count=count,
            rating_score=rating_score(total, count),
            updated_at=UgcItem.updated_at,
        )
        .execution_options(synchronize_session=False)
    )
    return session.get_one(UgcItem, item.id, populate_existing=True)
