"""Sales and player figures for operators: PostgreSQL aggregates over indexed time ranges
(orders.created_at, orders.refunded_at, users.created_at, refresh_tokens.created_at), used by
GET /v1/admin/analytics/* and the console's dashboard alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Date, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from player_platform.commerce.models import Order, OrderItem
from player_platform.errors import Invalid
from player_platform.identity.models import Identity, RefreshToken, User

GROUPS = ("day", "sku", "provider")
PAID = ("verified", "fulfilled", "backordered", "refunded", "partially_refunded", "charged_back")
MAX_DAYS = 400  # a year and some: what the indexes keep fast


@dataclass(frozen=True)
class SalesRow:
    key: str  # the day (YYYY-MM-DD), SKU id or provider
    currency: str
    orders: int
    revenue: int  # minor units
    refunds: int  # refunded orders (per day: refunded that day)
    refunded: int  # minor units


@dataclass(frozen=True)
class DayCount:
    day: str  # YYYY-MM-DD
    count: int


@dataclass(frozen=True)
class PlayerFigures:
    registrations: list[DayCount]
    daily_active: list[DayCount]  # players who signed in or refreshed a session that day
    identities: dict[str, int]  # by provider, all time


def check_range(since: datetime, until: datetime) -> None:
    if until <= since or (until - since).days > MAX_DAYS:
        raise Invalid(
            f"to must be after from, at most {MAX_DAYS} days later.",
            code="validation_error",
            errors={"to": [f"after from, at most {MAX_DAYS} days"]},
        )


def sales(session: Session, *, since: datetime, until: datetime, group_by: str) -> list[SalesRow]:
    """Orders paid in [since, until) grouped by day, SKU or provider, per currency; refunds
    by the day they were refunded (per day) or of those orders (per SKU or provider)."""
    check_range(since, until)
    if group_by == "sku":
        return _by_sku(session, since, until)
    key = _day(Order.created_at) if group_by == "day" else Order.provider
    paid = {
        (str(r.key), r.currency): r
        for r in session.execute(
            select(key.label("key"), Order.currency, func.count().label("n"),
                   func.sum(Order.total).label("total"),
                   func.count().filter(Order.refunded_amount > 0).label("refunds"),
                   func.sum(Order.refunded_amount).label("refunded"))
            .where(Order.created_at >= since, Order.created_at < until, Order.status.in_(PAID))
            .group_by(key, Order.currency)
        )
    }  # fmt: skip
    refunds = _refunds_by_day(session, since, until) if group_by == "day" else {}
    rows = []
    for key, currency in sorted(set(paid) | set(refunds)):
        row = paid.get((key, currency))
        if group_by == "day":
            refund_count, refunded = refunds.get((key, currency), (0, 0))
        else:
            refund_count, refunded = row.refunds, int(row.refunded or 0)
        orders, revenue = (row.n, int(row.total or 0)) if row else (0, 0)
        rows.append(SalesRow(key, currency, orders, revenue, refund_count, refunded))
    return rows


def _refunds_by_day(session: Session, since: datetime, until: datetime):
    day = _day(Order.refunded_at)
    rows = session.execute(
        select(day.label("key"), Order.currency, func.count().label("n"),
               func.sum(Order.refunded_amount).label("refunded"))
        .where(Order.refunded_at >= since, Order.refunded_at < until)
        .group_by(day, Order.currency)
    )  # fmt: skip
    return {(str(r.key), r.currency): (r.n, int(r.refunded or 0)) for r in rows}


def _by_sku(session: Session, since: datetime, until: datetime) -> list[SalesRow]:
    rows = session.execute(
        select(OrderItem.sku_id, Order.currency, func.count(func.distinct(Order.id)).label("n"),
               func.sum(OrderItem.amount).label("total"),
               func.count().filter(OrderItem.refunded).label("refunds"),
               func.sum(OrderItem.amount).filter(OrderItem.refunded).label("refunded"))
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.created_at >= since, Order.created_at < until, Order.status.in_(PAID))
        .group_by(OrderItem.sku_id, Order.currency)
        .order_by(OrderItem.sku_id, Order.currency)
    )  # fmt: skip
    return [
        SalesRow(r.sku_id, r.currency, r.n, int(r.total or 0), r.refunds, int(r.refunded or 0))
        for r in rows
    ]


def players(session: Session, *, since: datetime, until: datetime) -> PlayerFigures:
    check_range(since, until)
    joined = _day(User.created_at)
    registrations = session.execute(
        select(joined, func.count())
        .where(User.created_at >= since, User.created_at < until)
        .group_by(joined)
        .order_by(joined)
    )
    active = _day(RefreshToken.created_at)
    daily = session.execute(
        select(active, func.count(func.distinct(RefreshToken.user_id)))
        .where(RefreshToken.created_at >= since, RefreshToken.created_at < until)
        .group_by(active)
        .order_by(active)
    )
    providers = session.execute(select(Identity.provider, func.count()).group_by(Identity.provider))
    return PlayerFigures(
        registrations=[DayCount(str(d), n) for d, n in registrations],
        daily_active=[DayCount(str(d), n) for d, n in daily],
        identities=dict(providers.all()),
    )


class _Day(FunctionElement):
    """The UTC calendar day of a timestamp column, as a date (PostgreSQL) or text (SQLite,
    whose timestamps are stored in UTC)."""

    type = Date()
    inherit_cache = True


@compiles(_Day)
def _day_default(element: _Day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(_Day, "postgresql")
def _day_postgresql(element: _Day, compiler: Any, **kw: Any) -> str:
    return f"(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC')::date"


def _day(column: Any) -> _Day:
    return _Day(column)
