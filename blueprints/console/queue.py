"""The UGC queue, an item's case with its preview, claims and decisions; reports and appeals."""

from __future__ import annotations

import uuid

from flask import render_template, url_for
from flask_login import current_user

from blueprints.console import bp
from blueprints.console.auth import staff_only
from blueprints.console.web import action, arg, form_values, next_url, page_args, table
from blueprints.http import origin, platform
from blueprints.moderation.routes import desk
from blueprints.moderation.schemas import (
    AppealResolutionSchema,
    DecisionSchema,
    QueueQuerySchema,
    ReportResolutionSchema,
)
from player_platform.db import utcnow
from player_platform.errors import NotFound
from player_platform.ugc import moderation, previews, queue
from player_platform.ugc.models import TYPES
from player_platform.ugc.policy import ARCHIVE_TYPES
from player_platform.ugc.reports import REASONS

PREVIEW_URL_SECONDS = 300  # images shown from a presigned URL that expires soon
TEXT_PREVIEW_BYTES = 64 * 1024


def _moderator() -> moderation.Moderator:
    return moderation.Moderator(id=current_user.id, origin=origin(), now=utcnow())


@bp.get("/queue")
@staff_only()
def queue_page():
    query = QueueQuerySchema().load(
        {
            k: v
            for k, v in {"kind": arg("kind"), "type": arg("type"), "reason": arg("reason")}.items()
            if v
        }
        | page_args()
    )
    limit, cursor = query.pop("limit"), query.pop("cursor")
    with platform().db.unit_of_work() as db:
        page = queue.queue(db, filters=queue.QueueFilters(**query), limit=limit, cursor=cursor)
        names = queue.display_names(db, {e.ugc.claimed_by for e in page.items})
    return table(
        "console/queue.html",
        rows=page.items,
        columns=[
            ("kind", lambda e: e.kind),
            ("id", lambda e: e.id),
            ("ugc_id", lambda e: e.ugc.id),
            ("type", lambda e: e.ugc.type),
            ("name", lambda e: e.ugc.name),
            ("status", lambda e: e.ugc.status),
            ("reason", lambda e: e.reason),
            ("waiting_since", lambda e: e.waiting_since.isoformat()),
        ],
        filename="queue",
        names=names,
        next_url=next_url(page.next_cursor),
        types=TYPES,
        reasons=REASONS,
        now=utcnow(),
    )


@bp.get("/ugc/<uuid:ugc_id>")
@staff_only()
def item_page(ugc_id: uuid.UUID):
    p = platform()
    with p.db.unit_of_work() as db:
        case = queue.case(db, ugc_id=ugc_id)
    return render_template(
        "console/item.html",
        case=case,
        item=case.item,
        image_url=_image_url(case.item),
        text=_text(case.item),
        archive=_archive(case.item),
        now=utcnow(),
        two_person=p.settings.ugc_two_person_removal,
    )


def _image_url(item) -> str | None:
    if not item.content_type.startswith("image/") or item.virus_status == "infected":
        return None
    return platform().storage.presigned_get(item.object_key, expires_in=PREVIEW_URL_SECONDS)


def _text(item) -> str | None:
    """The start of a text item, shown escaped (never as HTML)."""
    if not item.content_type.startswith("text/") or item.virus_status == "infected":
        return None
    try:
        data = platform().storage.read_range(item.object_key, start=0, length=TEXT_PREVIEW_BYTES)
    except NotFound:
        return None
    return data.decode("utf-8", errors="replace")


def _archive(item) -> previews.ArchiveListing | None:
    """The first members of a map's, mod's or bundle's zip (ranged reads, bounded)."""
    if item.type not in ARCHIVE_TYPES or item.virus_status == "infected":
        return None
    return previews.archive_listing(platform().storage, key=item.object_key)


def _item_url(ugc_id: uuid.UUID) -> str:
    return url_for("console.item_page", ugc_id=ugc_id)


@bp.post("/ugc/<uuid:ugc_id>/claim")
@staff_only()
@action
def claim(ugc_id: uuid.UUID):
    with platform().db.unit_of_work() as db:
        moderation.claim(db, desk(), ugc_id=ugc_id, moderator=_moderator())
    return "You hold this item.", _item_url(ugc_id)


@bp.post("/ugc/<uuid:ugc_id>/release")
@staff_only()
@action
def release(ugc_id: uuid.UUID):
    with platform().db.unit_of_work() as db:
        moderation.release(db, ugc_id=ugc_id, moderator=_moderator())
    return "Claim released.", _item_url(ugc_id)


@bp.post("/ugc/<uuid:ugc_id>/decision")
@staff_only()
@action
def decide(ugc_id: uuid.UUID):
    body = form_values(DecisionSchema, ("action", "reason", "notes"))
    with platform().db.unit_of_work() as db:
        item = moderation.decide(db, desk(), ugc_id=ugc_id, moderator=_moderator(), **body)
        status, proposed = item.status, item.removal_proposed_by is not None
    if proposed:
        return "Removal proposed: a second moderator must confirm it.", _item_url(ugc_id)
    return f"{body['action'].capitalize()}: the item is {status}.", url_for("console.queue_page")


@bp.post("/reports/<uuid:report_id>/resolve")
@staff_only()
@action
def resolve_report(report_id: uuid.UUID):
    body = form_values(ReportResolutionSchema, ("outcome", "notes"))
    with platform().db.unit_of_work() as db:
        report = moderation.resolve_report(
            db, desk(), report_id=report_id, moderator=_moderator(), **body
        )
        ugc_id = report.ugc_id
    return f"Report {body['outcome']}.", _item_url(ugc_id)


@bp.post("/appeals/<uuid:appeal_id>/resolve")
@staff_only()
@action
def resolve_appeal(appeal_id: uuid.UUID):
    body = form_values(AppealResolutionSchema, ("outcome", "notes"))
    with platform().db.unit_of_work() as db:
        appeal = moderation.resolve_appeal(
            db, desk(), appeal_id=appeal_id, moderator=_moderator(), **body
        )
        ugc_id = appeal.ugc_id
    return f"Appeal {body['outcome']}.", _item_url(ugc_id)
