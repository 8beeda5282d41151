from flask.views import MethodView

from blueprints.auth import bp
from blueprints.auth.schemas import LoginSchema, RefreshSchema, RegisterSchema, TokenPairSchema
from blueprints.http import BEARER_AUTH, current_actor, idempotent, origin, platform
from player_platform.db import utcnow
from player_platform.identity import service, sessions


@bp.route("/register")
class Register(MethodView):
    @idempotent
    @bp.arguments(RegisterSchema)
    @bp.response(201, TokenPairSchema)
    @bp.alt_response(409, description="email_taken")
    def post(self, body):
        """Create an email account and sign it in (honours Idempotency-Key)"""
        p = platform()
        with p.db.unit_of_work() as session:
            return service.register(session, p.tokens, origin=origin(), now=utcnow(), **body)


@bp.route("/login")
class Login(MethodView):
    @bp.arguments(LoginSchema)
    @bp.response(200, TokenPairSchema)
    @bp.alt_response(401, description="invalid_credentials, otp_required, invalid_otp")
    @bp.alt_response(429, description="account_locked, rate_limited")
    def post(self, body):
        """Sign in with email and password (and a TOTP code once enrolled)"""
        p = platform()
        with p.db.unit_of_work() as session:
            return service.login(
                session,
                p.tokens,
                p.vault,
                credentials=service.Credentials(**body),
                origin=origin(),
                now=utcnow(),
            )


@bp.route("/refresh")
class Refresh(MethodView):
    @bp.arguments(RefreshSchema)
    @bp.response(200, TokenPairSchema)
    @bp.alt_response(401, description="invalid_refresh_token, refresh_token_reused")
    def post(self, body):
        """Spend a refresh token for a new pair; reusing a spent one revokes its family"""
        p = platform()
        with p.db.unit_of_work() as session:
            return sessions.refresh(
                session,
                p.tokens,
                refresh_token=body["refresh_token"],
                origin=origin(),
                now=utcnow(),
            )


@bp.route("/logout")
class Logout(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(204)
    @bp.alt_response(401, description="unauthorized")
    def post(self):
        """Sign this session out: its refresh-token family and access tokens stop working"""
        with platform().db.unit_of_work() as session:
            actor = current_actor()
            sessions.revoke_family(session, family_id=actor.claims.session_id, now=utcnow())
