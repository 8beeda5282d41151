"""Players: search, profile (identities, sessions, orders, wallet, ledger), ban and unban."""

from __future__ import annotations

import uuid

from flask import render_template, request, url_for

from blueprints.admin.users import BanSchema, UnbanSchema
from blueprints.console import bp
from blueprints.console.auth import staff_actor, staff_only
from blueprints.console.web import action, arg, form_values, next_url, page_args, table
from blueprints.http import origin, platform
from player_platform.commerce import orders
from player_platform.db import utcnow
from player_platform.errors import NotFound
from player_platform.identity import bans, directory, sessions
from player_platform.identity.models import User
from player_platform.wallet import service as wallet

PROFILE_ROWS = 20


@bp.get("/players")
@staff_only()
def players():
    with platform().db.unit_of_work() as db:
        page = directory.search_users(db, q=arg("q"), **page_args())
    return table(
        "console/players.html",
        rows=page.items,
        columns=[
            ("id", lambda u: u.id),
            ("display_name", lambda u: u.display_name),
            ("status", lambda u: u.status),
            ("roles", lambda u: " ".join(u.roles)),
            (
                "identities",
                lambda u: " ".join(f"{i.provider}:{i.provider_id}" for i in u.identities),
            ),
            ("created_at", lambda u: u.created_at.isoformat()),
        ],
        filename="players",
        next_url=next_url(page.next_cursor),
    )


@bp.get("/players/<uuid:user_id>")
@staff_only()
def player(user_id: uuid.UUID):
    now = utcnow()
    with platform().db.unit_of_work() as db:
        user = db.get(User, user_id)
        if user is None:
            raise NotFound("No such user.", code="user_not_found")
        return render_template(
            "console/player.html",
            user=user,
            identities=list(user.identities),
            sessions=sessions.list_sessions(db, user_id=user_id, now=now),
            orders=orders.list_orders(db, user_id=user_id, limit=PROFILE_ROWS).items,
            balances=wallet.balances(db, user_id=user_id),
            ledger=wallet.ledger(db, user_id=user_id, limit=PROFILE_ROWS).items,
        )


def _player_url(user_id: uuid.UUID) -> str:
    return url_for("console.player", user_id=user_id)


@bp.post("/players/<uuid:user_id>/ban")
@staff_only()
@action
def ban(user_id: uuid.UUID):
    until = request.form.get("until", "").strip()
    # a datetime-local input has no zone: the console's times are UTC
    body = form_values(BanSchema, ("reason",), until=f"{until}:00+00:00" if until else None)
    with platform().db.unit_of_work() as db:
        user = bans.ban(
            db, actor=staff_actor(db), user_id=user_id, origin=origin(), now=utcnow(), **body
        )
        status = user.status
    return f"The player is {status}; their sessions stopped working.", _player_url(user_id)


@bp.post("/players/<uuid:user_id>/unban")
@staff_only()
@action
def unban(user_id: uuid.UUID):
    body = form_values(UnbanSchema, ("reason",))
    with platform().db.unit_of_work() as db:
        bans.unban(
            db, actor=staff_actor(db), user_id=user_id, origin=origin(), now=utcnow(),
            reason=body.get("reason"),
        )  # fmt: skip
    return "The player may sign in again.", _player_url(user_id)


@bp.post("/players/<uuid:user_id>/sign-out")
@staff_only()
@action
def sign_out_everywhere(user_id: uuid.UUID):
    with platform().db.unit_of_work() as db:
        ended = bans.sign_out_everywhere(
            db, actor=staff_actor(db), user_id=user_id, origin=origin(), now=utcnow()
        )
    return f"Signed out everywhere ({ended} sessions ended).", _player_url(user_id)
