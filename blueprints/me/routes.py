from flask.views import MethodView

from blueprints.http import BEARER_AUTH, current_actor, origin, platform
from blueprints.me import bp
from blueprints.me.schemas import (
    MeSchema,
    MeUpdateSchema,
    OtpSchema,
    SessionListSchema,
    SignedOutSchema,
    TotpEnrolmentSchema,
)
from player_platform.db import utcnow
from player_platform.identity import mfa, service, sessions


@bp.route("")
class Me(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, MeSchema)
    @bp.alt_response(401, description="unauthorized, invalid_token, session_revoked")
    @bp.alt_response(403, description="account_banned")
    def get(self):
        """The caller's profile with its linked identities"""
        with platform().db.unit_of_work():
            return service.profile(current_actor().user)

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(MeUpdateSchema)
    @bp.response(200, MeSchema)
    def patch(self, body):
        """Change the caller's display name"""
        with platform().db.unit_of_work() as session:
            user = service.update_profile(
                session,
                user=current_actor().user,
                origin=origin(),
                now=utcnow(),
                display_name=body.get("display_name"),
            )
            return service.profile(user)


@bp.route("/sessions")
class MeSessions(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, SessionListSchema)
    def get(self):
        """Signed-in devices: one per open refresh-token family"""
        with platform().db.unit_of_work() as session:
            actor = current_actor()
            live = sessions.list_sessions(session, user_id=actor.id, now=utcnow())
        items = [
            {**vars(token), "current": token.family_id == actor.claims.session_id} for token in live
        ]
        return {"items": items, "next_cursor": None}

    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, SignedOutSchema)
    def delete(self):
        """Sign out everywhere, this session included"""
        with platform().db.unit_of_work() as session:
            return {
                "revoked": sessions.revoke_all(session, user_id=current_actor().id, now=utcnow())
            }


@bp.route("/mfa/totp")
class MeTotp(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(201, TotpEnrolmentSchema)
    @bp.alt_response(409, description="totp_already_enabled")
    def post(self):
        """Start TOTP enrolment: a new secret to put in an authenticator app"""
        p = platform()
        with p.db.unit_of_work() as session:
            actor = current_actor()
            return mfa.enrol(
                session,
                p.vault,
                user=actor.user,
                account=service.account_name(actor.user),
                origin=origin(),
                now=utcnow(),
            )

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(OtpSchema)
    @bp.response(204)
    @bp.alt_response(422, description="invalid_otp")
    def delete(self, body):
        """Remove TOTP (needs a current code)"""
        p = platform()
        with p.db.unit_of_work() as session:
            mfa.remove(
                session,
                p.vault,
                user=current_actor().user,
                otp=body["otp"],
                origin=origin(),
                now=utcnow(),
            )


@bp.route("/mfa/totp/verify")
class MeTotpVerify(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(OtpSchema)
    @bp.response(200, MeSchema)
    @bp.alt_response(422, description="invalid_otp")
    def post(self, body):
        """Confirm enrolment with a code; later sign-ins need one"""
        p = platform()
        with p.db.unit_of_work() as session:
            user = mfa.confirm(
                session,
                p.vault,
                user=current_actor().user,
                otp=body["otp"],
                origin=origin(),
                now=utcnow(),
            )
            return service.profile(user)
