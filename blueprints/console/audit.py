"""The audit log with filters by actor, action, resource and date."""

from __future__ import annotations

from datetime import timedelta

from blueprints.console import bp
from blueprints.console.auth import staff_only
from blueprints.console.web import arg, date_arg, next_url, page_args, table, uuid_arg
from blueprints.http import platform
from player_platform.audit import service as audit
from player_platform.ugc.queue import display_names


@bp.get("/audit")
@staff_only("admin")
def audit_page():
    until = date_arg("to")
    with platform().db.unit_of_work() as db:
        page = audit.list_entries(
            db,
            actor_id=uuid_arg("actor"),
            action=arg("action"),
            resource_type=arg("resource_type"),
            resource_id=arg("resource_id"),
            since=date_arg("from"),
            until=until + timedelta(days=1) if until else None,  # "to" names a whole day
            **page_args(),
        )
        names = display_names(db, {e.actor_id for e in page.items})
    return table(
        "console/audit.html",
        rows=page.items,
        columns=[
            ("created_at", lambda e: e.created_at.isoformat()),
            ("actor_id", lambda e: e.actor_id),
            ("actor", lambda e: names.get(e.actor_id)),
            ("action", lambda e: e.action),
            ("resource_type", lambda e: e.resource_type),
            ("resource_id", lambda e: e.resource_id),
            ("ip", lambda e: e.ip),
            ("old", lambda e: e.old_values),
            ("new", lambda e: e.new_values),
        ],
        filename="audit-log",
        next_url=next_url(page.next_cursor),
        names=names,
    )
