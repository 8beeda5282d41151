from marshmallow import Schema, fields, validate

from blueprints.admin.schemas import PageQuerySchema
from player_platform.feedback.models import CATEGORIES, STATUSES
from player_platform.feedback.service import ATTACHMENT_TYPES


class AttachmentDeclarationSchema(Schema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content_type = fields.String(required=True, validate=validate.OneOf(ATTACHMENT_TYPES))
    size = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=2**31 - 1))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class FeedbackCreateSchema(Schema):
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    message = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    context = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.String(validate=validate.Length(max=500)),
        load_default=None,
        validate=validate.Length(max=20),
        metadata={"description": "what the game knows: version, platform, scene ... (strings)"},
    )
    attachments = fields.List(
        fields.Nested(AttachmentDeclarationSchema),
        load_default=list,
        validate=validate.Length(max=10),
        metadata={"description": "screenshots (PNG, JPEG) and logs (text/plain) to upload"},
    )


class PresignedUploadSchema(Schema):
    method = fields.String(required=True)
    url = fields.String(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    expires_at = fields.DateTime(required=True)


class FeedbackAttachmentSchema(Schema):
    id = fields.UUID(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class AttachmentUploadSchema(Schema):
    attachment = fields.Nested(FeedbackAttachmentSchema, required=True)
    upload = fields.Nested(PresignedUploadSchema, required=True)


class FeedbackSchema(Schema):
    id = fields.UUID(required=True)
    user_id = fields.UUID(allow_none=True)
    category = fields.String(required=True)
    message = fields.String(required=True)
    context = fields.Dict(allow_none=True)
    status = fields.String(required=True)
    assignee_id = fields.UUID(allow_none=True)
    notes = fields.String(allow_none=True)
    attachments = fields.List(fields.Nested(FeedbackAttachmentSchema), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class FeedbackCreatedSchema(Schema):
    feedback = fields.Nested(FeedbackSchema, required=True)
    uploads = fields.List(fields.Nested(AttachmentUploadSchema), required=True)


class FeedbackPageSchema(Schema):
    items = fields.List(fields.Nested(FeedbackSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class FeedbackQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    category = fields.String(load_default=None, validate=validate.OneOf(CATEGORIES))
    assignee_id = fields.UUID(load_default=None)


class FeedbackAttachmentDownloadSchema(FeedbackAttachmentSchema):
    uploaded = fields.Boolean(required=True)
    download_url = fields.String(
        allow_none=True, metadata={"description": "valid 5 minutes; none until uploaded"}
    )


class FeedbackDetailSchema(FeedbackSchema):
    attachments = fields.List(fields.Nested(FeedbackAttachmentDownloadSchema), required=True)


class FeedbackTriageSchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    assignee_id = fields.UUID(allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
