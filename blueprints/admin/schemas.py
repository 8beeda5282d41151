from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from player_platform.keys.models import KEY_PLATFORMS
from player_platform.security.api_keys import SCOPES
from player_platform.suppliers.chain import SUPPLIERS
from player_platform.webhooks.models import STATUSES as WEBHOOK_STATUSES


class PageQuerySchema(Schema):
    # Query strings are text: strict=True would refuse every value ("1.5" is refused anyway).
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class AuditLogQuerySchema(PageQuerySchema):
    actor_id = fields.UUID(load_default=None)
    action = fields.String(load_default=None, validate=validate.Length(max=64))
    resource_type = fields.String(load_default=None, validate=validate.Length(max=32))
    resource_id = fields.String(load_default=None, validate=validate.Length(max=64))


class AuditLogSchema(Schema):
    id = fields.UUID(required=True)
    actor_id = fields.UUID(allow_none=True)
    action = fields.String(required=True)
    resource_type = fields.String(required=True)
    resource_id = fields.String(allow_none=True)
    old_values = fields.Dict(allow_none=True)
    new_values = fields.Dict(allow_none=True)
    ip = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class AuditLogPageSchema(Schema):
    items = fields.List(fields.Nested(AuditLogSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class ApiKeyCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    scopes = fields.List(
        fields.String(validate=validate.OneOf(SCOPES)),
        required=True,
        validate=validate.Length(min=1, max=len(SCOPES)),
    )
    owner_id = fields.UUID(
        load_default=None,
        metadata={"description": "the reseller account a `keys:purchase` key buys for"},
    )


class ApiKeySchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    created_by = fields.UUID(allow_none=True)
    owner_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime(required=True)
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    key = fields.String(required=True, metadata={"description": "shown this once only"})


class ApiKeyPageSchema(Schema):
    items = fields.List(fields.Nested(ApiKeySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class WebhookQuerySchema(PageQuerySchema):
    provider = fields.String(load_default=None, validate=validate.Length(max=32))
    status = fields.String(load_default=None, validate=validate.OneOf(WEBHOOK_STATUSES))


class WebhookEventSchema(Schema):
    id = fields.UUID(required=True)
    provider = fields.String(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    status = fields.String(required=True)
    attempts = fields.Integer(required=True)
    last_error = fields.String(allow_none=True)
    received_at = fields.DateTime(required=True)
    processed_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)


class WebhookEventPageSchema(Schema):
    items = fields.List(fields.Nested(WebhookEventSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class SupplierHealthSchema(Schema):
    name = fields.String(required=True)
    state = fields.String(
        required=True, attribute="breaker.state", metadata={"enum": ["closed", "open", "half_open"]}
    )
    calls = fields.Integer(required=True, attribute="breaker.calls")
    success_rate = fields.Float(allow_none=True, attribute="breaker.success_rate")
    latency_ms = fields.Float(allow_none=True, attribute="breaker.latency_ms")
    last_sync_at = fields.DateTime(allow_none=True)


class SupplierHealthListSchema(Schema):
    items = fields.List(fields.Nested(SupplierHealthSchema), required=True)


class SupplierRouteSchema(Schema):
    supplier = fields.String(required=True, validate=validate.OneOf(SUPPLIERS))
    platform = fields.String(required=True, validate=validate.OneOf(KEY_PLATFORMS))
    product_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"),
        metadata={"description": "the supplier's own product id"},
    )
    priority = fields.Integer(
        load_default=100,
        strict=True,
        validate=validate.Range(min=0, max=10_000),
        metadata={"description": "lower is asked first"},
    )


class SupplierRoutesSchema(Schema):
    routes = fields.List(
        fields.Nested(SupplierRouteSchema), required=True, validate=validate.Length(max=20)
    )

    @validates_schema
    def one_per_supplier_and_platform(self, data, **kwargs):
        pairs = [(r["supplier"], r["platform"]) for r in data.get("routes", [])]
        if len(pairs) != len(set(pairs)):
            raise ValidationError("One route per supplier and platform.", "routes")
