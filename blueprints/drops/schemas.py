from datetime import UTC

from marshmallow import Schema, fields, validate

from blueprints.admin.schemas import PageQuerySchema
from blueprints.commerce.schemas import SKU_ID

TWITCH_ID = validate.Length(min=1, max=64)


class CampaignUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    starts_at = fields.AwareDateTime(default_timezone=UTC)
    ends_at = fields.AwareDateTime(default_timezone=UTC)
    benefit_ids = fields.List(
        fields.String(validate=TWITCH_ID), validate=validate.Length(min=1, max=100)
    )
    reward_sku_id = fields.String(validate=SKU_ID)
    reward_quantity = fields.Integer(strict=True, validate=validate.Range(min=1, max=1_000_000))
    per_player_limit = fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000))
    total_cap = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=1_000_000_000)
    )
    twitch_organization_id = fields.String(allow_none=True, validate=TWITCH_ID)
    twitch_category_id = fields.String(allow_none=True, validate=TWITCH_ID)
    twitch_campaign_id = fields.String(allow_none=True, validate=TWITCH_ID)
    create_subscription = fields.Boolean(
        load_default=False,
        metadata={"description": "Create the drop.entitlement.grant EventSub subscription"},
    )


class CampaignCreateSchema(CampaignUpdateSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    starts_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    ends_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    benefit_ids = fields.List(
        fields.String(validate=TWITCH_ID), required=True, validate=validate.Length(min=1, max=100)
    )
    reward_sku_id = fields.String(required=True, validate=SKU_ID)


class CampaignSchema(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    benefit_ids = fields.List(fields.String(), required=True)
    reward_sku_id = fields.String(required=True)
    reward_quantity = fields.Integer(required=True)
    per_player_limit = fields.Integer(required=True)
    total_cap = fields.Integer(allow_none=True)
    granted_count = fields.Integer(required=True)


class AdminCampaignSchema(CampaignSchema):
    twitch_organization_id = fields.String(allow_none=True)
    twitch_category_id = fields.String(allow_none=True)
    twitch_campaign_id = fields.String(allow_none=True)
    subscription_id = fields.String(allow_none=True)
    subscription_status = fields.String(
        allow_none=True,
        metadata={
            "description": "requested, webhook_callback_verification_pending, enabled, "
            "failed, or the revocation reason Twitch gave"
        },
    )
    subscription_error = fields.String(allow_none=True)
    subscription_revoked_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class CampaignListSchema(Schema):
    items = fields.List(fields.Nested(CampaignSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class DropSchema(Schema):
    id = fields.UUID(required=True)
    campaign_id = fields.UUID(allow_none=True)
    entitlement_id = fields.String(required=True)
    benefit_id = fields.String(required=True)
    earned_at = fields.DateTime(required=True)
    granted_at = fields.DateTime(allow_none=True)
    fulfilment = fields.String(allow_none=True)


class DropPageSchema(Schema):
    items = fields.List(fields.Nested(DropSchema), required=True)
    next_cursor = fields.String(allow_none=True)


DropQuerySchema = PageQuerySchema
