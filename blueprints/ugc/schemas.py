"""Request and response bodies of /v1/ugc: uploads, items, listings, ratings, reports, appeals
(moderators' views of an item extend UgcItemSchema in blueprints/moderation/schemas.py)."""

from marshmallow import RAISE, Schema, fields, validate

from player_platform.ugc.listing import SORTS
from player_platform.ugc.models import TYPES, VISIBILITIES
from player_platform.ugc.reports import REASONS

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="a lower-case hex SHA-256 (64 characters)")
TAG = fields.String(validate=validate.Length(min=1, max=32))


class UgcCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    description = fields.String(load_default="", validate=validate.Length(max=10_000))
    tags = fields.List(TAG, load_default=list, validate=validate.Length(max=20))
    visibility = fields.String(load_default="public", validate=validate.OneOf(VISIBILITIES))
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content_type = fields.String(required=True, validate=validate.Length(min=1, max=127))
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    sha256 = fields.String(required=True, validate=SHA256)


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
    findings = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "what the scanners found: why an item was refused"},
    )
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    rating_sum = fields.Integer(required=True)
    rating_count = fields.Integer(required=True)
    rating_average = fields.Method("_average", metadata={"type": "number", "nullable": True})
    download_count = fields.Integer(required=True)
    expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "a draft not completed by then is deleted"}
    )
    scanned_at = fields.DateTime(allow_none=True)
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


class PresignedPartSchema(Schema):
    url = fields.String(required=True)
    method = fields.String(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class UploadSchema(Schema):
    method = fields.String(required=True)
    url = fields.String(
        allow_none=True, metadata={"description": "the single PUT; null for a multipart upload"}
    )
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    expires_at = fields.DateTime(required=True)
    parts = fields.List(
        fields.Nested(PresignedPartSchema),
        required=True,
        metadata={"description": "multipart: PUT part N (in order) to parts[N-1].url"},
    )


class UgcCreatedSchema(Schema):
    ugc = fields.Nested(UgcItemSchema, required=True)
    upload = fields.Nested(UploadSchema, required=True)
