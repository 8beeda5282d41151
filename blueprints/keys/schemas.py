from marshmallow import Schema, fields, validate

from blueprints.admin.schemas import PageQuerySchema
from player_platform.keys.models import KEY_PLATFORMS, KEY_STATUSES

SHOWN_STATUSES = (*KEY_STATUSES, "burned")


class KeySchema(Schema):
    """A key as every list shows it: masked, never the code."""

    id = fields.UUID(required=True)
    sku_id = fields.String(required=True)
    platform = fields.String(required=True)
    masked_code = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(SHOWN_STATUSES)})
    order_id = fields.UUID(allow_none=True)
    source = fields.String(required=True)
    assigned_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    revealed_at = fields.DateTime(allow_none=True)


class AdminKeySchema(KeySchema):
    pool_id = fields.UUID(required=True)
    user_id = fields.UUID(allow_none=True)
    vault_kid = fields.String(required=True)
    revoked_at = fields.DateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class KeyPageSchema(Schema):
    items = fields.List(fields.Nested(KeySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class AdminKeyPageSchema(Schema):
    items = fields.List(fields.Nested(AdminKeySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class OrderKeysSchema(Schema):
    items = fields.List(fields.Nested(KeySchema), required=True)


class RevealedKeySchema(Schema):
    id = fields.UUID(required=True)
    sku_id = fields.String(required=True)
    platform = fields.String(required=True)
    code = fields.String(required=True)
    revealed_at = fields.DateTime(required=True)


class AdminKeyQuerySchema(PageQuerySchema):
    sku_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    status = fields.String(load_default=None, validate=validate.OneOf(SHOWN_STATUSES))


class KeyUpdateSchema(Schema):
    platform = fields.String(required=True, validate=validate.OneOf(KEY_PLATFORMS))


class ImportQuerySchema(Schema):
    sku_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    platform = fields.String(load_default=None, validate=validate.OneOf(KEY_PLATFORMS))


class InvalidLineSchema(Schema):
    line = fields.Integer(required=True)
    reason = fields.String(required=True)


class ImportResultSchema(Schema):
    imported = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    invalid = fields.List(
        fields.Nested(InvalidLineSchema),
        required=True,
        metadata={"description": "The first 1,000 invalid lines; invalid_total counts all."},
    )
    invalid_total = fields.Integer(required=True)
    invalid_truncated = fields.Boolean(required=True)


class PoolSchema(Schema):
    pool_id = fields.UUID(required=True)
    sku_id = fields.String(required=True)
    platform = fields.String(required=True)
    available = fields.Integer(required=True)
    assigned = fields.Integer(required=True, metadata={"description": "Sold or handed out"})
    revoked = fields.Integer(required=True)
    low_stock_threshold = fields.Integer(required=True)
    low_stock = fields.Boolean(required=True)
    low_stock_since = fields.DateTime(allow_none=True)


class InventorySchema(Schema):
    items = fields.List(fields.Nested(PoolSchema), required=True)
