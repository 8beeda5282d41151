"""Staff act on player accounts: ban, suspend, unban; admins give roles and record verified
identity."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from blueprints.admin import bp
from blueprints.http import BEARER_AUTH, STAFF_ERRORS, current_actor, origin, platform, staff
from blueprints.me.schemas import UserSchema
from player_platform.db import utcnow
from player_platform.identity import bans, kyc, roles


class BanSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    until = fields.AwareDateTime(
        load_default=None, metadata={"description": "end of a suspension; none bans for good"}
    )


class UnbanSchema(Schema):
    reason = fields.String(load_default=None, validate=validate.Length(max=500))


class KycSchema(Schema):
    verified = fields.Boolean(required=True)


class RolesSchema(Schema):
    roles = fields.List(
        fields.String(validate=validate.OneOf(roles.ASSIGNABLE)),
        required=True,
        validate=validate.Length(max=len(roles.ASSIGNABLE)),
        metadata={"description": "every role besides player, which every account has"},
    )


class KycStateSchema(Schema):
    id = fields.UUID(required=True)
    kyc_verified_at = fields.DateTime(allow_none=True)


class UserStandingSchema(UserSchema):
    status_reason = fields.String(allow_none=True)
    status_until = fields.DateTime(allow_none=True)


@bp.route("/users/<uuid:user_id>/ban")
class UserBan(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(BanSchema)
    @bp.response(200, UserStandingSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="user_not_found")
    @bp.alt_response(409, description="account_closed")
    def post(self, body, user_id):
        """Ban a player (or suspend until a time): their tokens stop working at once"""
        with platform().db.unit_of_work() as session:
            return bans.ban(
                session,
                actor=current_actor(),
                user_id=user_id,
                reason=body["reason"],
                until=body["until"],
                origin=origin(),
                now=utcnow(),
            )


@bp.route("/users/<uuid:user_id>/unban")
class UserUnban(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(UnbanSchema)
    @bp.response(200, UserStandingSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="user_not_found")
    @bp.alt_response(409, description="account_closed")
    def post(self, body, user_id):
        """Lift a ban or suspension"""
        with platform().db.unit_of_work() as session:
            return bans.unban(
                session,
                actor=current_actor(),
                user_id=user_id,
                reason=body["reason"],
                origin=origin(),
                now=utcnow(),
            )


@bp.route("/users/<uuid:user_id>/roles")
class UserRoles(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(RolesSchema)
    @bp.response(200, UserSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="user_not_found")
    @bp.alt_response(409, description="own_admin_role")
    def put(self, body, user_id):
        """Give an account exactly these roles (admin, audited); its sessions end, so its next
        sign-in carries them"""
        with platform().db.unit_of_work() as session:
            return roles.set_roles(
                session,
                user_id=user_id,
                roles=body["roles"],
                actor_id=staff("admin").id,
                origin=origin(),
                now=utcnow(),
            )


@bp.route("/users/<uuid:user_id>/kyc")
class UserKyc(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(KycSchema)
    @bp.response(200, KycStateSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="user_not_found")
    def put(self, body, user_id):
        """Record (or withdraw) that the player's identity was verified (admin, audited);
        orders of PP_KYC_AMOUNT or more wait for it"""
        with platform().db.unit_of_work() as session:
            return kyc.set_verified(
                session,
                user_id=user_id,
                verified=body["verified"],
                actor_id=staff("admin").id,
                origin=origin(),
                now=utcnow(),
            )
