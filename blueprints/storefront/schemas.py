from marshmallow import Schema, fields, validate

from player_platform.studiohooks.models import DELIVERY_STATUSES, EVENT_TYPES

URL = fields.URL(
    required=True,
    schemes={"http", "https"},
    require_tld=False,
    validate=validate.Length(max=2048),
)


class EndpointCreateSchema(Schema):
    url = URL
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        required=True,
        validate=validate.Length(min=1, max=len(EVENT_TYPES)),
    )
    description = fields.String(load_default="", validate=validate.Length(max=200))


class EndpointUpdateSchema(Schema):
    url = fields.URL(
        schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2048)
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(min=1, max=len(EVENT_TYPES)),
    )
    description = fields.String(validate=validate.Length(max=200))
    active = fields.Boolean()


class EndpointSchema(Schema):
    id = fields.UUID(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    description = fields.String(required=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class EndpointCreatedSchema(EndpointSchema):
    secret = fields.String(
        required=True,
        metadata={"description": "the signing secret (PP-Signature), shown this once only"},
    )


class EndpointListSchema(Schema):
    items = fields.List(fields.Nested(EndpointSchema), required=True)


class DeliveryQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    status = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_STATUSES))


class DeliverySchema(Schema):
    id = fields.UUID(required=True)
    endpoint_id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.DateTime(required=True)
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    delivered_at = fields.DateTime(allow_none=True)
    dead_at = fields.DateTime(allow_none=True)


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class WishlistAddSchema(Schema):
    sku_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class WishlistItemSchema(Schema):
    sku_id = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True)
    prices = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    active = fields.Boolean(required=True, metadata={"description": "on sale now"})
    added_at = fields.DateTime(required=True)


class WishlistSchema(Schema):
    items = fields.List(fields.Nested(WishlistItemSchema), required=True)


class InvoiceSchema(Schema):
    number = fields.String(required=True, metadata={"example": "INV-000042"})
    order_id = fields.UUID(required=True)
    currency = fields.String(required=True)
    total = fields.Integer(required=True)
    tax = fields.Integer(required=True, metadata={"description": "as the provider charged it"})
    issued_at = fields.DateTime(required=True)
    url = fields.String(required=True, metadata={"description": "the PDF, a short-lived link"})
    expires_at = fields.DateTime(required=True)
