from marshmallow import Schema, fields, validate

from blueprints.auth.schemas import PASSWORD

# new_opaque_token(): 43 URL-safe base64 characters; anything else was never given out.
TOKEN = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{20,100}$"))


class EmailTokenSchema(Schema):
    token = TOKEN


class PasswordResetRequestSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class PasswordResetSchema(Schema):
    token = TOKEN
    password = fields.String(required=True, validate=PASSWORD, load_only=True)


class AcceptedSchema(Schema):
    status = fields.String(required=True, metadata={"example": "accepted"})


class EmailVerifiedSchema(Schema):
    email = fields.String(required=True, attribute="provider_id")
    email_verified = fields.Constant(True, required=True)


class PasswordChangedSchema(Schema):
    sessions_revoked = fields.Integer(required=True)
