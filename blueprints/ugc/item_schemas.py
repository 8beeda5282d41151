from marshmallow import RAISE, Schema, fields, validate

from player_platform.ugc.listing import SORTS
from player_platform.ugc.models import TYPES, VISIBILITIES
from player_platform.ugc.reports import REASONS

TAG = fields.String(validate=validate.Length(min=1, max=32))


class UgcListQuerySchema(Schema):
    type = fields.String(load_default=None, validate=validate.OneOf(TYPES))
    tag = fields.String(load_default=None, validate=validate.Length(min=1, max=32))
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    creator = fields.UUID(load_default=None)
    sort = fields.String(load_default="recent", validate=validate.OneOf(tuple(SORTS)))
    # Query strings are text: strict=True would refuse every value ("1.5" is refused anyway).
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class UgcItemSchema(Schema):
    """An item as players see it (the owner sees their own in any status)."""

    id = fields.UUID(required=True)
    creator_id = fields.UUID(allow_none=True)
    type = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    tags = fields.List(fields.String(), required=True)
    visibility = fields.String(required=True)
    status = fields.String(required=True)
    status_reason = fields.String(allow_none=True)
    virus_status = fields.String(
        required=True,
        metadata={"description": "pending, clean, not_scanned (no ClamAV), infected, refused"},
    )
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    rating_sum = fields.Integer(required=True)
    rating_count = fields.Integer(required=True)
    rating_average = fields.Method("_average", metadata={"type": "number", "nullable": True})
    download_count = fields.Integer(required=True)
    published_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)

    @staticmethod
    def _average(item) -> float | None:
        return round(item.rating_sum / item.rating_count, 2) if item.rating_count else None


class UgcItemPageSchema(Schema):
    items = fields.List(fields.Nested(UgcItemSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class UgcUpdateSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=255))
    description = fields.String(validate=validate.Length(max=10_000))
    tags = fields.List(TAG, validate=validate.Length(max=20))
    visibility = fields.String(validate=validate.OneOf(VISIBILITIES))


class DownloadSchema(Schema):
    url = fields.String(required=True, metadata={"description": "presigned GET, short-lived"})
    expires_at = fields.DateTime(required=True)
    filename = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    counted = fields.Boolean(
        required=True, metadata={"description": "false for repeat downloads the same day"}
    )


class RatingSchema(Schema):
    class Meta:
        unknown = RAISE

    value = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))


class ReportCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class ReportSchema(Schema):
    id = fields.UUID(required=True)
    ugc_id = fields.UUID(required=True)
    reason = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "open, dismissed, upheld"})
    created_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(allow_none=True)


class AppealCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    message = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class AppealSchema(Schema):
    id = fields.UUID(required=True)
    ugc_id = fields.UUID(required=True)
    message = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "open, upheld, restored"})
    created_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(allow_none=True)
