from flask.views import MethodView

from blueprints.http import BEARER_AUTH, current_player, origin, platform
from blueprints.mail import bp
from blueprints.mail.schemas import (
    AcceptedSchema,
    EmailTokenSchema,
    EmailVerifiedSchema,
    PasswordChangedSchema,
    PasswordResetRequestSchema,
    PasswordResetSchema,
)
from player_platform.db import utcnow
from player_platform.mail import accounts

ACCEPTED = {"status": "accepted"}
TOKEN_ERRORS = "404 token_invalid, 409 token_used or email_changed, 410 token_expired"


@bp.route("/me/email/verify-request")
class EmailVerifyRequest(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(202, AcceptedSchema)
    @bp.alt_response(409, description="no_email, email_already_verified")
    @bp.alt_response(429, description="mail_recently_sent")
    def post(self):
        """Mail a verification link to the caller's address (one a minute at most)"""
        p = platform()
        with p.db.unit_of_work() as session:
            accounts.request_verification(
                session, outbox=p.mail_outbox, user_id=current_player().id, now=utcnow()
            )
        return ACCEPTED


@bp.route("/auth/email/verify")
class EmailVerify(MethodView):
    @bp.arguments(EmailTokenSchema)
    @bp.response(200, EmailVerifiedSchema)
    @bp.alt_response(404, description=TOKEN_ERRORS)
    @bp.alt_response(409, description=TOKEN_ERRORS)
    @bp.alt_response(410, description=TOKEN_ERRORS)
    def post(self, body):
        """Spend a verification link's token: the address is verified"""
        p = platform()
        with p.db.unit_of_work() as session:
            return accounts.verify_email(
                session, vault=p.vault, token=body["token"], origin=origin(), now=utcnow()
            )


@bp.route("/auth/password/reset-request")
class PasswordResetRequest(MethodView):
    @bp.arguments(PasswordResetRequestSchema)
    @bp.response(202, AcceptedSchema)
    def post(self, body):
        """Mail a reset link if an account signs in with this address; 202 whatever it is"""
        p = platform()
        with p.db.unit_of_work() as session:
            accounts.enqueue_password_reset(session, jobs=p.jobs, email=body["email"])
        return ACCEPTED


@bp.route("/auth/password/reset")
class PasswordReset(MethodView):
    @bp.arguments(PasswordResetSchema)
    @bp.response(200, PasswordChangedSchema)
    @bp.alt_response(404, description=TOKEN_ERRORS)
    @bp.alt_response(409, description=TOKEN_ERRORS)
    @bp.alt_response(410, description=TOKEN_ERRORS)
    def post(self, body):
        """Spend a reset link's token: set the password and sign out every session"""
        p = platform()
        with p.db.unit_of_work() as session:
            revoked = accounts.reset_password(
                session, vault=p.vault, origin=origin(), now=utcnow(), **body
            )
        return {"sessions_revoked": revoked}
