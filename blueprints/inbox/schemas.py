from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from blueprints.admin.schemas import PageQuerySchema
from blueprints.commerce.schemas import QUANTITY, SKU_ID, EntitlementSchema
from player_platform.usecases.inbox import ATTACHMENT_TYPES

MAX_RECIPIENTS = 1000


class MessageAttachmentSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(sorted(ATTACHMENT_TYPES)))
    sku_id = fields.String(required=True, validate=SKU_ID)
    quantity = QUANTITY


class MessageSendSchema(Schema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    user_ids = fields.List(
        fields.UUID(),
        load_default=None,
        validate=validate.Length(min=1, max=MAX_RECIPIENTS),
        metadata={"description": "the recipients; leave out and set everyone=true for all"},
    )
    everyone = fields.Boolean(load_default=False)
    include_new_players = fields.Boolean(
        load_default=False,
        metadata={"description": "a message to everyone shows to players who sign up later"},
    )
    expires_at = fields.AwareDateTime(load_default=None, default_timezone=UTC)
    attachments = fields.List(
        fields.Nested(MessageAttachmentSchema), load_default=list, validate=validate.Length(max=10)
    )

    @validates_schema
    def _one_audience(self, data, **kwargs):
        if data["everyone"] == (data["user_ids"] is not None):
            raise ValidationError("Send to user_ids, or to everyone=true: one of the two.",
                                  "user_ids")  # fmt: skip
        if data["include_new_players"] and not data["everyone"]:
            raise ValidationError("Only a message to everyone reaches new players.",
                                  "include_new_players")  # fmt: skip


class SentMessageSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True)
    audience = fields.String(required=True)
    recipient_ids = fields.List(fields.UUID(), allow_none=True)
    subject = fields.String(required=True)
    body = fields.String(required=True)
    attachments = fields.List(fields.Nested(MessageAttachmentSchema), required=True)
    include_new_players = fields.Boolean(required=True)
    expires_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    delivered_at = fields.DateTime(allow_none=True)


class InboxQuerySchema(PageQuerySchema):
    unread = fields.Boolean(load_default=None)


class InboxMessageSchema(Schema):
    id = fields.UUID(required=True)
    kind = fields.String(required=True, attribute="message.kind")
    subject = fields.String(required=True, attribute="message.subject")
    body = fields.String(required=True, attribute="message.body")
    data = fields.Dict(required=True, attribute="message.data")
    attachments = fields.List(
        fields.Nested(MessageAttachmentSchema), required=True, attribute="message.attachments"
    )
    expires_at = fields.DateTime(allow_none=True, attribute="message.expires_at")
    created_at = fields.DateTime(required=True, attribute="message.created_at")
    read_at = fields.DateTime(allow_none=True)
    claimed_at = fields.DateTime(allow_none=True)


class InboxPageSchema(Schema):
    items = fields.List(fields.Nested(InboxMessageSchema), required=True)
    next_cursor = fields.String(allow_none=True)
    unread_count = fields.Integer(required=True)


class DeleteQuerySchema(Schema):
    force = fields.Boolean(
        load_default=False,
        metadata={"description": "give up attachments not claimed yet"},
    )


class ClaimSchema(Schema):
    message = fields.Nested(InboxMessageSchema, required=True)
    entitlements = fields.List(fields.Nested(EntitlementSchema), required=True)
    balances = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
