"""The dashboard: queue depth, reports and appeals waiting, players and sales over 30 days."""

from __future__ import annotations

from flask import redirect, url_for
from flask_login import current_user

from blueprints.admin.analytics import day_range
from blueprints.console import bp
from blueprints.console.auth import staff_only
from blueprints.console.web import date_arg, table
from blueprints.http import platform
from player_platform.analytics import service as analytics
from player_platform.ugc import queue


@bp.get("/")
def home():
    return redirect(url_for("console.dashboard"))


@bp.get("/dashboard")
@staff_only()
def dashboard():
    first, last = date_arg("from"), date_arg("to")
    since, until = day_range({"from_": first and first.date(), "to": last and last.date()})
    with platform().db.unit_of_work() as db:
        depth = queue.waiting_by_type(db)
        waiting = queue.open_counts(db)
        admin = current_user.has_role("admin")
        players = analytics.players(db, since=since, until=until) if admin else None
        sales = analytics.sales(db, since=since, until=until, group_by="day") if admin else []
    return table(
        "console/dashboard.html",
        rows=sales,
        columns=[
            ("day", lambda r: r.key),
            ("currency", lambda r: r.currency),
            ("orders", lambda r: r.orders),
            ("revenue", lambda r: r.revenue),
            ("refunds", lambda r: r.refunds),
            ("refunded", lambda r: r.refunded),
        ],
        filename="sales-by-day",
        depth=depth,
        waiting=waiting,
        players=players,
        charts=_charts(depth, players, sales),
        since=since,
        until=until,
    )


def _charts(depth, players, sales) -> dict:
    charts = {
        "queue": {
            "labels": sorted(depth),
            "series": {
                status: [depth[t].get(status, 0) for t in sorted(depth)] for status in queue.WAITING
            },
        }
    }
    if players is not None:
        days = sorted(
            {d.day for d in players.registrations} | {d.day for d in players.daily_active}
        )
        reg = {d.day: d.count for d in players.registrations}
        dau = {d.day: d.count for d in players.daily_active}
        charts["players"] = {
            "labels": days,
            "series": {"registrations": [reg.get(d, 0) for d in days],
                       "daily active": [dau.get(d, 0) for d in days]},
        }  # fmt: skip
        days = sorted({r.key for r in sales})
        charts["sales"] = {
            "labels": days,
            "series": {"orders": [sum(r.orders for r in sales if r.key == d) for d in days],
                       "refunds": [sum(r.refunds for r in sales if r.key == d) for d in days]},
        }  # fmt: skip
    return charts
