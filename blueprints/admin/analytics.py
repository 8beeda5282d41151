"""Sales and player figures (admin): the numbers the console's dashboard charts."""

from datetime import UTC, datetime, time, timedelta

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from blueprints.admin import bp
from blueprints.http import BEARER_AUTH, STAFF_ERRORS, platform, staff
from player_platform.analytics import service as analytics
from player_platform.errors import Invalid

DEFAULT_DAYS = 30


class RangeQuerySchema(Schema):
    from_ = fields.Date(
        data_key="from", load_default=None, metadata={"description": "first day (UTC); 30 days ago"}
    )
    to = fields.Date(load_default=None, metadata={"description": "last day, included; today"})


class SalesQuerySchema(RangeQuerySchema):
    group_by = fields.String(load_default="day", validate=validate.OneOf(analytics.GROUPS))


class SalesRowSchema(Schema):
    key = fields.String(required=True, metadata={"description": "day, SKU id or provider"})
    currency = fields.String(required=True)
    orders = fields.Integer(required=True)
    revenue = fields.Integer(required=True, metadata={"description": "minor units"})
    refunds = fields.Integer(required=True)
    refunded = fields.Integer(required=True, metadata={"description": "minor units"})


class SalesSchema(Schema):
    group_by = fields.String(required=True)
    items = fields.List(fields.Nested(SalesRowSchema), required=True)


class DayCountSchema(Schema):
    day = fields.String(required=True)
    count = fields.Integer(required=True)


class PlayerFiguresSchema(Schema):
    registrations = fields.List(fields.Nested(DayCountSchema), required=True)
    daily_active = fields.List(fields.Nested(DayCountSchema), required=True)
    identities = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


def day_range(query: dict) -> tuple[datetime, datetime]:
    """[from 00:00 UTC, the day after ``to`` 00:00 UTC)."""
    last = query.get("to") or datetime.now(UTC).date()
    try:
        first = query.get("from_") or last - timedelta(days=DEFAULT_DAYS - 1)
        return (
            datetime.combine(first, time(), UTC),
            datetime.combine(last + timedelta(days=1), time(), UTC),
        )
    except OverflowError:  # a day at the ends of the calendar (year 1 or 9999)
        raise Invalid(
            "from and to must be real days of this era.",
            code="validation_error",
            errors={"to": ["out of range"]},
        ) from None


@bp.route("/analytics/sales")
class SalesFigures(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SalesQuerySchema, location="query")
    @bp.response(200, SalesSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(422, description="validation_error")
    def get(self, query):
        """Revenue, orders and refunds per day, SKU or provider, per currency (admin)"""
        since, until = day_range(query)
        with platform().db.unit_of_work() as session:
            staff("admin")
            rows = analytics.sales(session, since=since, until=until, group_by=query["group_by"])
        return {"group_by": query["group_by"], "items": rows}


@bp.route("/analytics/players")
class PlayerFigures(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(RangeQuerySchema, location="query")
    @bp.response(200, PlayerFiguresSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(422, description="validation_error")
    def get(self, query):
        """Registrations and daily active players by day, identities by provider (admin)"""
        since, until = day_range(query)
        with platform().db.unit_of_work() as session:
            staff("admin")
            return analytics.players(session, since=since, until=until)
