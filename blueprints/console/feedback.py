"""Feedback triage: reports by status, category and assignee; one report with its attachments;
status, assignee and notes set through the service the JSON API calls (audited there)."""

from __future__ import annotations

import uuid

from flask import render_template, request, url_for
from flask_login import current_user

from blueprints.console import bp
from blueprints.console.auth import staff_only
from blueprints.console.web import action, arg, form_values, next_url, page_args, table, uuid_arg
from blueprints.feedback.schemas import FeedbackTriageSchema
from blueprints.http import origin, platform
from player_platform.db import utcnow
from player_platform.feedback import service as feedback
from player_platform.feedback.models import CATEGORIES, STATUSES
from player_platform.identity import directory
from player_platform.ugc.queue import display_names

CLEARABLE = ("assignee_id", "notes")  # an empty field clears these


@bp.get("/feedback")
@staff_only()
def feedback_page():
    status, category = arg("status"), arg("category")
    with platform().db.unit_of_work() as db:
        page = feedback.list_feedback(
            db,
            status=status if status in STATUSES else None,
            category=category if category in CATEGORIES else None,
            assignee_id=uuid_arg("assignee_id"),
            **page_args(),
        )
        staff = directory.staff_members(db)
        names = display_names(db, {f.user_id for f in page.items} | {s.id for s in staff})
    return table(
        "console/feedback.html",
        rows=page.items,
        columns=[
            ("id", lambda f: f.id),
            ("created_at", lambda f: f.created_at.isoformat()),
            ("category", lambda f: f.category),
            ("status", lambda f: f.status),
            ("user_id", lambda f: f.user_id),
            ("assignee_id", lambda f: f.assignee_id),
            ("assignee", lambda f: names.get(f.assignee_id)),
            ("message", lambda f: f.message),
            ("notes", lambda f: f.notes),
            ("attachments", lambda f: len(f.attachments)),
        ],
        filename="feedback",
        next_url=next_url(page.next_cursor),
        names=names,
        staff=staff,
        statuses=STATUSES,
        categories=CATEGORIES,
    )


@bp.get("/feedback/<uuid:feedback_id>")
@staff_only()
def feedback_report(feedback_id: uuid.UUID):
    p = platform()
    with p.db.unit_of_work() as db:
        report, downloads = feedback.get_feedback(db, storage=p.storage, feedback_id=feedback_id)
        staff = directory.staff_members(db)
        return render_template(
            "console/feedback_report.html",
            report=report,
            downloads=downloads,
            staff=staff,
            names=display_names(db, {report.user_id} | {s.id for s in staff}),
            statuses=STATUSES,
        )


@bp.post("/feedback/<uuid:feedback_id>/triage")
@staff_only()
@action
def triage_feedback(feedback_id: uuid.UUID):
    changes = form_values(FeedbackTriageSchema, ("status", *CLEARABLE))
    changes.update({f: None for f in CLEARABLE if f in request.form and f not in changes})
    with platform().db.unit_of_work() as db:
        report = feedback.triage(
            db, feedback_id=feedback_id, actor_id=current_user.id, changes=changes,
            origin=origin(), now=utcnow(),
        )  # fmt: skip
        status = report.status
    return f"Report saved ({status}).", url_for("console.feedback_report", feedback_id=feedback_id)
