from marshmallow import INCLUDE, Schema, fields, validate

from blueprints.fields import DisplayName
from blueprints.me.schemas import UserSchema

PASSWORD = validate.Length(min=8, max=256)


class RegisterSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=PASSWORD, load_only=True)
    display_name = DisplayName(required=True)


class LoginSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))
    otp = fields.String(validate=validate.Regexp(r"^[0-9]{6}$"), load_default=None)


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=128))


class TokenPairSchema(Schema):
    user = fields.Nested(UserSchema, required=True)
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.Constant("Bearer")
    expires_in = fields.Integer(required=True, metadata={"description": "seconds"})


class SteamTicketSchema(Schema):
    ticket = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-fA-F]{16,4096}$"),
        metadata={"description": "hex of ISteamUser::GetAuthTicketForWebApi"},
    )
    identity = fields.String(
        validate=validate.Regexp(r"^[A-Za-z0-9]{1,64}$"),
        load_default=None,
        metadata={"description": "the pchIdentity the client passed, if any"},
    )


class EpicTokenSchema(Schema):
    id_token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=8192),
        metadata={"description": "Epic Account Services or EOS Connect id token"},
    )


class SteamOpenIdCallbackSchema(Schema):
    """Steam adds ``openid.*`` fields to our return_to; they are read as they came."""

    class Meta:
        unknown = INCLUDE

    state = fields.String(required=True, validate=validate.Length(min=1, max=512))
