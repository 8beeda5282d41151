from marshmallow import Schema, fields, validate

from blueprints.admin.schemas import PageQuerySchema
from blueprints.commerce.schemas import QUANTITY, SKU_ID, EntitlementSchema
from player_platform.usecases.server_grants import ACTIONS
from player_platform.wallet.models import ENTITLEMENT_STATUSES


class EntitlementQuerySchema(Schema):
    status = fields.String(load_default="active", validate=validate.OneOf(ENTITLEMENT_STATUSES))


class EntitlementListSchema(Schema):
    items = fields.List(fields.Nested(EntitlementSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class WalletSchema(Schema):
    balances = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    debts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class SpendSchema(Schema):
    sku_id = fields.String(required=True, validate=SKU_ID)
    quantity = QUANTITY
    reason = fields.String(load_default=None, validate=validate.Length(min=1, max=255))


class BalanceSchema(Schema):
    sku_id = fields.String(required=True)
    balance = fields.Integer(required=True)


class LedgerEntrySchema(Schema):
    id = fields.UUID(required=True)
    sku_id = fields.String(required=True)
    change_type = fields.String(required=True)
    quantity = fields.Integer(required=True)
    balance_after = fields.Integer(required=True)
    order_id = fields.UUID(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class LedgerPageSchema(Schema):
    items = fields.List(fields.Nested(LedgerEntrySchema), required=True)
    next_cursor = fields.String(allow_none=True)


LedgerQuerySchema = PageQuerySchema


class ServerGrantSchema(Schema):
    user_id = fields.UUID(required=True)
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    sku_id = fields.String(required=True, validate=SKU_ID)
    quantity = QUANTITY
    reason = fields.String(load_default=None, validate=validate.Length(min=1, max=255))


class IdempotencyKeyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key", required=True, validate=validate.Length(min=1, max=255)
    )


class ServerGrantResultSchema(Schema):
    user_id = fields.UUID(required=True)
    action = fields.String(required=True)
    sku_id = fields.String(required=True)
    quantity = fields.Integer(required=True)
    entitlements = fields.List(fields.Nested(EntitlementSchema), required=True)
    balances = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
