from marshmallow import RAISE, Schema, fields, validate

from blueprints.ugc.schemas import AppealSchema, ReportSchema, UgcItemSchema
from player_platform.ugc.models import TYPES
from player_platform.ugc.moderation import ACTIONS
from player_platform.ugc.queue import KINDS
from player_platform.ugc.reports import REASONS

NOTES = fields.String(load_default=None, validate=validate.Length(max=5000))


class QueueQuerySchema(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    type = fields.String(load_default=None, validate=validate.OneOf(TYPES))
    reason = fields.String(load_default=None, validate=validate.OneOf(REASONS))
    # Query strings are text: strict=True would refuse every value ("1.5" is refused anyway).
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class ModeratedItemSchema(UgcItemSchema):
    """An item with what moderators see besides: open reports, claim, removal proposal."""

    previous_status = fields.String(allow_none=True)
    report_count = fields.Integer(required=True)
    claimed_by = fields.UUID(allow_none=True)
    claimed_until = fields.DateTime(allow_none=True)
    removal_proposed_by = fields.UUID(allow_none=True)
    removal_proposed_at = fields.DateTime(allow_none=True)
    removal_proposal_notes = fields.String(allow_none=True)


class QueueEntrySchema(Schema):
    kind = fields.String(required=True, metadata={"description": "ugc, report, appeal"})
    id = fields.UUID(required=True, metadata={"description": "the item's, report's or appeal's"})
    ugc = fields.Nested(ModeratedItemSchema, required=True)
    reason = fields.String(allow_none=True)
    text = fields.String(allow_none=True, metadata={"description": "report or appeal text"})
    by = fields.UUID(allow_none=True, metadata={"description": "reporter or appellant"})
    waiting_since = fields.DateTime(required=True)


class QueuePageSchema(Schema):
    items = fields.List(fields.Nested(QueueEntrySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class DecisionSchema(Schema):
    class Meta:
        unknown = RAISE

    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    reason = fields.String(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"description": "told to the owner"},
    )
    notes = NOTES


class ReportResolutionSchema(Schema):
    class Meta:
        unknown = RAISE

    outcome = fields.String(required=True, validate=validate.OneOf(("dismissed", "upheld")))
    notes = NOTES


class AppealResolutionSchema(Schema):
    class Meta:
        unknown = RAISE

    outcome = fields.String(required=True, validate=validate.OneOf(("upheld", "restored")))
    notes = NOTES


class ModeratedReportSchema(ReportSchema):
    reporter_id = fields.UUID(allow_none=True)
    moderator_id = fields.UUID(allow_none=True)
    moderator_notes = fields.String(allow_none=True)


class ModeratedAppealSchema(AppealSchema):
    user_id = fields.UUID(allow_none=True)
    moderator_id = fields.UUID(allow_none=True)
    moderator_notes = fields.String(allow_none=True)
