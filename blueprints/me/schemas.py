from marshmallow import Schema, fields, validate

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
    mfa_enabled = fields.Method("_mfa_enabled", required=True)

    def _mfa_enabled(self, user) -> bool:
        return user.totp_enabled_at is not None


class MeUpdateSchema(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=64))


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
