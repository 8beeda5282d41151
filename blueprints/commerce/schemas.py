from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from blueprints.admin.schemas import PageQuerySchema
from blueprints.keys.schemas import RevealedKeySchema
from player_platform.commerce.catalog import SORTS
from player_platform.commerce.models import ORDER_STATUSES, PROVIDERS, SKU_TYPES

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="An ISO 4217 code in capitals, e.g. USD.")
SKU_ID = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
QUANTITY = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10_000))
LABEL = fields.String(validate=validate.Length(min=1, max=64))


class ContentLineSchema(Schema):
    sku_id = fields.String(required=True, validate=SKU_ID)
    quantity = QUANTITY


def _price(value: int) -> None:
    if isinstance(value, bool) or not 0 <= value <= 100_000_000:
        raise ValidationError("A price is whole minor units from 0 to 100000000.")


class SkuWriteSchema(Schema):
    type = fields.String(validate=validate.OneOf(SKU_TYPES))
    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000))
    prices = fields.Dict(
        keys=fields.String(validate=CURRENCY),
        values=fields.Integer(strict=True, validate=_price),
        validate=validate.Length(max=50),
    )
    platforms = fields.List(LABEL, validate=validate.Length(max=20))
    tags = fields.List(LABEL, validate=validate.Length(max=50))
    contents = fields.List(
        fields.Nested(ContentLineSchema), allow_none=True, validate=validate.Length(max=100)
    )
    steam_item_id = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=2**32 - 1)
    )
    epic_catalog_item_ids = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Za-z0-9]{1,64}$")),
        validate=validate.Length(max=20),
    )
    active = fields.Boolean()
    margin_floor = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=10**9)
    )


class SkuCreateSchema(SkuWriteSchema):
    sku_id = fields.String(required=True, validate=SKU_ID)
    type = fields.String(required=True, validate=validate.OneOf(SKU_TYPES))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    publisher_id = fields.UUID(
        load_default=None,
        metadata={
            "description": "the publisher account that owns it (admins; a publisher's "
            "own SKUs are always its own)"
        },
    )


class SkuQuerySchema(PageQuerySchema):
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    type = fields.String(load_default=None, validate=validate.OneOf(SKU_TYPES))
    platform = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    tag = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    sort = fields.String(load_default="name", validate=validate.OneOf(sorted(SORTS)))


class AdminSkuQuerySchema(SkuQuerySchema):
    include_inactive = fields.Boolean(load_default=True)


class SupplierOfferSchema(Schema):
    supplier = fields.String(required=True)
    price_cents = fields.Integer(required=True, metadata={"description": "EUR cents for one key"})
    quantity = fields.Integer(required=True)


class SkuSchema(Schema):
    sku_id = fields.String(required=True)
    type = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    prices = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    platforms = fields.List(fields.String(), required=True)
    tags = fields.List(fields.String(), required=True)
    contents = fields.List(fields.Nested(ContentLineSchema), allow_none=True)
    steam_item_id = fields.Integer(allow_none=True)
    epic_catalog_item_ids = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    stock = fields.String(
        dump_default="unlimited",
        metadata={"description": "unlimited; a game key: in_stock (pool or suppliers) or sold_out"},
    )
    available = fields.Integer(
        allow_none=True,
        dump_default=None,
        metadata={"description": "a game key's keys in the pool, counted up to 1000"},
    )
    margin_floor = fields.Integer(allow_none=True)
    # Game keys: the cheapest supplier offer within the margin floor and the keys suppliers hold.
    supplier_offer = fields.Nested(SupplierOfferSchema, allow_none=True, dump_default=None)
    supplier_stock = fields.Integer(dump_default=0)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class SkuPageSchema(Schema):
    items = fields.List(fields.Nested(SkuSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class AdminSkuSchema(SkuSchema):
    publisher_id = fields.UUID(allow_none=True)


class AdminSkuPageSchema(Schema):
    items = fields.List(fields.Nested(AdminSkuSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class OrderItemSchema(Schema):
    sku_id = fields.String(required=True)
    quantity = fields.Integer(required=True)
    amount = fields.Integer(required=True)
    refunded = fields.Boolean(required=True)


class OrderSchema(Schema):
    id = fields.UUID(required=True)
    user_id = fields.UUID(required=True)
    status = fields.String(required=True)
    provider = fields.String(required=True)
    provider_order_id = fields.String(allow_none=True)
    currency = fields.String(required=True)
    total = fields.Integer(required=True)
    refunded_amount = fields.Integer(required=True)
    items = fields.List(fields.Nested(OrderItemSchema), required=True)
    created_at = fields.DateTime(required=True)
    verified_at = fields.DateTime(allow_none=True)
    fulfilled_at = fields.DateTime(allow_none=True)
    refunded_at = fields.DateTime(allow_none=True)


class AdminOrderSchema(OrderSchema):
    flagged_at = fields.DateTime(allow_none=True)
    failure_reason = fields.String(allow_none=True)
    fraud_reasons = fields.List(fields.String(), required=True)
    held_at = fields.DateTime(allow_none=True)


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class AdminOrderPageSchema(Schema):
    items = fields.List(fields.Nested(AdminOrderSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class OrderQuerySchema(PageQuerySchema):
    status = fields.String(load_default=None, validate=validate.OneOf(ORDER_STATUSES))


class AdminOrderQuerySchema(OrderQuerySchema):
    provider = fields.String(load_default=None, validate=validate.OneOf(PROVIDERS))
    user_id = fields.UUID(load_default=None)


class EntitlementSchema(Schema):
    id = fields.UUID(required=True)
    sku_id = fields.String(required=True)
    status = fields.String(required=True)
    order_id = fields.UUID(allow_none=True)
    granted_at = fields.DateTime(required=True)
    revoked_at = fields.DateTime(allow_none=True)
    revocation_reason = fields.String(allow_none=True)


class PurchaseSchema(Schema):
    order = fields.Nested(OrderSchema, required=True)
    entitlements = fields.List(fields.Nested(EntitlementSchema), required=True)
    payment = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)


class SteamInitSchema(Schema):
    sku_id = fields.String(required=True, validate=SKU_ID)
    quantity = QUANTITY
    currency = fields.String(load_default="USD", validate=CURRENCY)
    language = fields.String(load_default="en", validate=validate.Regexp(r"^[a-z]{2}$"))


class SteamFinalizeSchema(Schema):
    order_id = fields.UUID(required=True)


RECEIPT_PROVIDERS = ("steam", "epic", "stripe")
RECEIPT_FIELDS = {
    "steam": ("orderid",),
    "epic": ("sku_id", "ownership_token"),
    "stripe": ("payment_intent_id",),
}


class VerifyReceiptSchema(Schema):
    provider = fields.String(required=True, validate=validate.OneOf(RECEIPT_PROVIDERS))
    orderid = fields.String(validate=validate.Regexp(r"^[0-9]{1,20}$"))
    payment_intent_id = fields.String(validate=validate.Regexp(r"^pi_[A-Za-z0-9_]{1,200}$"))
    sku_id = fields.String(validate=SKU_ID)
    ownership_token = fields.String(
        validate=[
            validate.Length(max=16_384),
            validate.Regexp(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"),
        ]
    )

    @validates_schema
    def _fields_of_provider(self, data, **kwargs):
        missing = [f for f in RECEIPT_FIELDS.get(data.get("provider"), ()) if f not in data]
        if missing:
            raise ValidationError({f: ["Required for this provider."] for f in missing})


WEB_PROVIDERS = ("stripe", "paypal")


class CheckoutSchema(Schema):
    items = fields.List(
        fields.Nested(ContentLineSchema), required=True, validate=validate.Length(min=1, max=50)
    )
    currency = fields.String(required=True, validate=CURRENCY)
    provider = fields.String(load_default="stripe", validate=validate.OneOf(WEB_PROVIDERS))
    # the client's own stable device id: many accounts on one device is a fraud rule
    device_id = fields.String(load_default=None, validate=validate.Length(min=1, max=128))


class ResellerOrderCreateSchema(Schema):
    items = fields.List(
        fields.Nested(ContentLineSchema), required=True, validate=validate.Length(min=1, max=50)
    )


class ResellerOrderSchema(Schema):
    order = fields.Nested(OrderSchema, required=True)
    balance = fields.Integer(required=True, metadata={"description": "left, in minor units"})


class ResellerKeysSchema(Schema):
    items = fields.List(fields.Nested(RevealedKeySchema), required=True)


class TopUpSchema(Schema):
    amount = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=10**10))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))


class ResellerBalanceSchema(Schema):
    user_id = fields.UUID(required=True)
    balance = fields.Integer(required=True)


class PayPalCaptureSchema(Schema):
    order_id = fields.UUID(required=True)


class OrderReviewSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class RefundRequestCreateSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class RefundDecisionSchema(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(min=1, max=500))


class RefundRequestSchema(Schema):
    id = fields.UUID(required=True)
    order_id = fields.UUID(required=True)
    status = fields.String(required=True)
    reason = fields.String(required=True)
    decision_reason = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)


class WebhookAckSchema(Schema):
    received = fields.Boolean(required=True)
    duplicate = fields.Boolean(required=True)
