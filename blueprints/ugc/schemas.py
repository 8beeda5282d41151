from marshmallow import RAISE, Schema, fields, validate

from player_platform.ugc.models import TYPES, VISIBILITIES

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


class UgcSchema(Schema):
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
    findings = fields.List(fields.Dict(), required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    expires_at = fields.DateTime(allow_none=True)
    scanned_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


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
    ugc = fields.Nested(UgcSchema, required=True)
    upload = fields.Nested(UploadSchema, required=True)
