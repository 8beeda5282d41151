from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from blueprints.fields import DisplayName

OTP = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{6}$"))


class UserSchema(Schema):
    id = fields.UUID(required=True)
    display_name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    status = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class IdentitySchema(Schema):
    provider = fields.String(required=True)
    provider_id = fields.String(required=True)
    linked_at = fields.DateTime(required=True)


class MeSchema(UserSchema):
    identities = fields.List(fields.Nested(IdentitySchema), required=True)
    status_reason = fields.String(allow_none=True)
    status_until = fields.DateTime(allow_none=True)
    region = fields.String(allow_none=True)
    mfa_enabled = fields.Method("_mfa_enabled", required=True)
    email_verified = fields.Boolean(
        required=True, metadata={"description": "the sign-in email address was verified"}
    )

    def _mfa_enabled(self, user) -> bool:
        return user.totp_enabled_at is not None


class MeUpdateSchema(Schema):
    display_name = DisplayName()
    region = fields.String(
        validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,15}$", error="a region code: a-z, 0-9, -"),
        metadata={"description": "the board of regional leaderboard seasons, e.g. eu, na"},
    )


class SessionSchema(Schema):
    id = fields.UUID(attribute="family_id", required=True)
    current = fields.Boolean(required=True)
    user_agent = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    last_used_at = fields.DateTime(attribute="created_at", required=True)
    expires_at = fields.DateTime(required=True)


class SessionListSchema(Schema):
    items = fields.List(fields.Nested(SessionSchema), required=True)
    next_cursor = fields.String(allow_none=True)


class SignedOutSchema(Schema):
    revoked = fields.Integer(required=True)


class TotpEnrolmentSchema(Schema):
    secret = fields.String(required=True)
    otpauth_uri = fields.String(required=True)


class OtpSchema(Schema):
    otp = OTP


class IdentityListSchema(Schema):
    items = fields.List(fields.Nested(IdentitySchema), required=True)
    next_cursor = fields.String(allow_none=True)


class EmailLinkSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=8, max=256))


class TwitchLinkSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=512))
    redirect_uri = fields.URL(required=True, validate=validate.Length(max=2048))


class MergeProofSchema(Schema):
    """The other account's live refresh token, or a credential that signs into it."""

    refresh_token = fields.String(validate=validate.Length(min=1, max=128))
    provider = fields.String(validate=validate.OneOf(["steam", "epic"]))
    ticket = fields.String(validate=validate.Regexp(r"^[0-9a-fA-F]{16,4096}$"))
    identity = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9]{1,64}$"))
    id_token = fields.String(validate=validate.Length(min=1, max=8192))

    @validates_schema
    def _one_kind(self, data, **_kwargs):
        if ("refresh_token" in data) == ("provider" in data):
            raise ValidationError("Send either refresh_token or provider.", "_schema")
        needed = {"steam": "ticket", "epic": "id_token"}.get(data.get("provider"))
        if needed and needed not in data:
            raise ValidationError(f"A {data['provider']} proof needs {needed}.", needed)


class MergeSchema(Schema):
    proof = fields.Nested(MergeProofSchema, required=True)


class ExportSchema(Schema):
    exported_at = fields.DateTime(required=True)
    user = fields.Dict(required=True)
    identities = fields.List(fields.Dict(), required=True)
    account_links = fields.List(fields.Dict(), required=True)
    sessions = fields.List(fields.Dict(), required=True)
    activity = fields.List(fields.Dict(), required=True)
    ugc = fields.Dict(
        required=True, metadata={"description": "items, reports, appeals and ratings"}
    )
    inbox = fields.List(
        fields.Dict(), required=True, metadata={"description": "messages with read/claim state"}
    )
    mail = fields.List(
        fields.Dict(), required=True, metadata={"description": "mails sent (never contents)"}
    )
    feedback = fields.List(
        fields.Dict(), required=True, metadata={"description": "reports and attachments"}
    )
    drops = fields.List(fields.Dict(), required=True, metadata={"description": "Twitch drops"})


class ErasureSchema(Schema):
    status = fields.String(required=True, metadata={"example": "deleted"})
