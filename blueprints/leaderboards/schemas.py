import json
from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate

from player_platform.leaderboards.index import SCORE_MAX, SCORE_MIN
from player_platform.leaderboards.models import OPERATORS, RESET_RULES, SEASON_TYPES, SORTS

INT64 = validate.Range(min=SCORE_MIN, max=SCORE_MAX)
RANK = validate.Range(min=1, max=2**31 - 1)
REGION = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,15}$", error="a region code: a-z, 0-9, -")
METADATA_BYTES = 2048


def _small_json(value: dict) -> None:
    if len(json.dumps(value)) > METADATA_BYTES:
        raise ValidationError(f"at most {METADATA_BYTES} bytes of JSON")


class RewardBandSchema(Schema):
    from_rank = fields.Integer(strict=True, required=True, validate=RANK)
    to_rank = fields.Integer(strict=True, required=True, validate=RANK)
    sku_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    quantity = fields.Integer(strict=True, required=True, validate=validate.Range(1, 1_000_000))


class SeasonUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    start_date = fields.AwareDateTime(default_timezone=UTC)
    end_date = fields.AwareDateTime(default_timezone=UTC)
    reset_rule = fields.String(validate=validate.OneOf(RESET_RULES))
    min_score = fields.Integer(strict=True, allow_none=True, validate=INT64)
    max_score = fields.Integer(strict=True, allow_none=True, validate=INT64)
    max_increase = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=SCORE_MAX)
    )
    authoritative = fields.Boolean()
    rewards = fields.List(fields.Nested(RewardBandSchema), validate=validate.Length(max=100))


class SeasonCreateSchema(SeasonUpdateSchema):
    season_id = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True, validate=validate.OneOf(SEASON_TYPES))
    sort = fields.String(load_default="desc", validate=validate.OneOf(SORTS))
    operator = fields.String(load_default="best", validate=validate.OneOf(OPERATORS))
    start_date = fields.AwareDateTime(required=True, default_timezone=UTC)
    end_date = fields.AwareDateTime(required=True, default_timezone=UTC)
    reset_rule = fields.String(load_default="archive", validate=validate.OneOf(RESET_RULES))
    authoritative = fields.Boolean(load_default=False)
    rewards = fields.List(
        fields.Nested(RewardBandSchema), load_default=list, validate=validate.Length(max=100)
    )


class SeasonSchema(Schema):
    season_id = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True)
    sort = fields.String(required=True)
    operator = fields.String(required=True)
    start_date = fields.DateTime(required=True)
    end_date = fields.DateTime(required=True)
    reset_rule = fields.String(required=True)
    min_score = fields.Integer(allow_none=True)
    max_score = fields.Integer(allow_none=True)
    max_increase = fields.Integer(allow_none=True)
    authoritative = fields.Boolean(required=True)
    rewards = fields.List(fields.Nested(RewardBandSchema), required=True)
    closed_at = fields.DateTime(allow_none=True)


class SeasonPageSchema(Schema):
    items = fields.List(fields.Nested(SeasonSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class ScoreSubmitSchema(Schema):
    score = fields.Integer(strict=True, required=True, validate=INT64)
    metadata = fields.Dict(load_default=None, allow_none=True, validate=_small_json)
    user_id = fields.UUID(load_default=None, metadata={"description": "server API keys only"})


class SubmissionSchema(Schema):
    score = fields.Integer(required=True)
    best = fields.Integer(required=True)
    rank = fields.Integer(required=True)
    previous = fields.Integer(allow_none=True)


class BoardQuerySchema(Schema):
    region = fields.String(load_default=None, validate=REGION)


class TopQuerySchema(BoardQuerySchema):
    # Query strings are text: strict=True would refuse every value ("1.5" is refused anyway).
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


class AroundQuerySchema(BoardQuerySchema):
    radius = fields.Integer(load_default=5, validate=validate.Range(min=0, max=50))


class StandingSchema(Schema):
    rank = fields.Integer(required=True)
    user_id = fields.UUID(required=True)
    display_name = fields.String(required=True)
    score = fields.Integer(required=True)
    metadata = fields.Dict(allow_none=True)


class StandingPageSchema(Schema):
    items = fields.List(fields.Nested(StandingSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class RemovalSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class EntrySchema(Schema):
    user_id = fields.UUID(required=True)
    score = fields.Integer(required=True)
    region = fields.String(required=True)
    removed_at = fields.DateTime(allow_none=True)
    removal_reason = fields.String(allow_none=True)
