"""Leaderboards: seasons, a player's entry in a season, remove and restore it with a reason."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import render_template, url_for

from blueprints.console import bp
from blueprints.console.auth import staff_actor, staff_only
from blueprints.console.web import action, form_values, next_url, page_args, table, uuid_arg
from blueprints.http import origin, platform
from blueprints.leaderboards import index
from blueprints.leaderboards.schemas import RemovalSchema
from player_platform.db import utcnow
from player_platform.leaderboards import reads, service

RECENT = timedelta(days=90)  # seasons that ended longer ago are in the archive


@bp.get("/leaderboards")
@staff_only()
def seasons_page():
    with platform().db.unit_of_work() as db:
        page = service.list_seasons(db, since=utcnow() - RECENT, **page_args())
    return table(
        "console/seasons.html",
        rows=page.items,
        columns=[
            ("season_id", lambda s: s.season_id),
            ("name", lambda s: s.name),
            ("type", lambda s: s.type),
            ("sort", lambda s: s.sort),
            ("start_date", lambda s: s.start_date.isoformat()),
            ("end_date", lambda s: s.end_date.isoformat()),
        ],
        filename="seasons",
        next_url=next_url(page.next_cursor),
    )


@bp.get("/leaderboards/<season_id>")
@staff_only()
def season_page(season_id: str):
    user_id, entry = uuid_arg("user_id"), None
    with platform().db.unit_of_work() as db:
        season = reads.get_season(db, season_id=season_id)
        if user_id:
            entry = reads.entry_of(db, season_id=season_id, user_id=user_id)
    return render_template("console/season.html", season=season, entry=entry, user_id=user_id)


def _entry_url(season_id: str, user_id: uuid.UUID) -> str:
    return url_for("console.season_page", season_id=season_id, user_id=user_id)


@bp.post("/leaderboards/<season_id>/entries/<uuid:user_id>/remove")
@staff_only()
@action
def remove_entry(season_id: str, user_id: uuid.UUID):
    body = form_values(RemovalSchema, ("reason",))
    with platform().db.unit_of_work() as db:
        service.remove_entry(
            db, index(), actor=staff_actor(db), season_id=season_id, user_id=user_id,
            origin=origin(), now=utcnow(), **body,
        )  # fmt: skip
    return "Entry removed from the board.", _entry_url(season_id, user_id)


@bp.post("/leaderboards/<season_id>/entries/<uuid:user_id>/restore")
@staff_only()
@action
def restore_entry(season_id: str, user_id: uuid.UUID):
    with platform().db.unit_of_work() as db:
        service.restore_entry(
            db, index(), actor=staff_actor(db), season_id=season_id, user_id=user_id,
            origin=origin(), now=utcnow(),
        )  # fmt: skip
    return "Entry restored.", _entry_url(season_id, user_id)
