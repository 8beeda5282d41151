from flask import Response, redirect, request
from flask.views import MethodView

from blueprints.auth import bp
from blueprints.auth.schemas import (
    EpicTokenSchema,
    LoginSchema,
    RefreshSchema,
    RegisterSchema,
    SteamOpenIdCallbackSchema,
    SteamTicketSchema,
    TokenPairSchema,
)
from blueprints.http import (
    BEARER_AUTH,
    current_actor,
    idempotent,
    json_response,
    origin,
    platform,
)
from player_platform.db import utcnow
from player_platform.identity import linking, providers, service, sessions

# One instance each for the hot routes: webargs would build a schema per request from a class.
REFRESH_BODY, STEAM_TICKET_BODY = RefreshSchema(), SteamTicketSchema()


def token_pair_json(pair: sessions.TokenPair) -> Response:
    """``TokenPairSchema``'s answer written by orjson, for the sign-in and refresh hot routes."""
    user = pair.user
    return json_response(
        {
            "user": {
                "id": str(user.id),
                "display_name": user.display_name,
                "roles": list(user.roles),
                "status": user.status,
                "created_at": user.created_at.isoformat(),
            },
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "token_type": "Bearer",
            "expires_in": pair.expires_in,
        }
    )


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
    @bp.arguments(REFRESH_BODY)
    @bp.response(200, TokenPairSchema)
    @bp.alt_response(401, description="invalid_refresh_token, refresh_token_reused")
    def post(self, body):
        """Spend a refresh token for a new pair; reusing a spent one revokes its family"""
        p = platform()
        pair = sessions.exchange(
            p.db, p.tokens, refresh_token=body["refresh_token"], origin=origin(), now=utcnow()
        )
        return token_pair_json(pair)


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


@bp.route("/steam")
class SteamSignIn(MethodView):
    @bp.arguments(STEAM_TICKET_BODY)
    @bp.response(200, TokenPairSchema)
    @bp.alt_response(401, description="steam_ticket_invalid")
    @bp.alt_response(403, description="game_not_owned, steam_banned, account_banned")
    @bp.alt_response(503, description="provider_unavailable")
    def post(self, body):
        """Sign in from a game client with a Steam session ticket (creates the user once)"""
        p = platform()
        found = providers.steam_ticket(
            p.steam, p.steam_policy, ticket=body["ticket"], identity=body["identity"]
        )
        pair = linking.enter(p.db, p.tokens, found=found, origin=origin(), now=utcnow())
        return token_pair_json(pair)


@bp.route("/steam/openid")
class SteamOpenIdStart(MethodView):
    @bp.response(302, description="to Steam's sign-in page")
    def get(self):
        """Web sign-in: go to Steam, which comes back to /steam/openid/callback"""
        return redirect(platform().steam_openid.login_url(), code=302)


@bp.route("/steam/openid/callback")
class SteamOpenIdCallback(MethodView):
    @bp.arguments(SteamOpenIdCallbackSchema, location="query")
    @bp.response(200, TokenPairSchema)
    @bp.alt_response(
        401, description="steam_openid_invalid, steam_openid_cancelled, openid_replayed"
    )
    @bp.alt_response(403, description="game_not_owned, account_banned")
    @bp.alt_response(503, description="provider_unavailable")
    def get(self, query):
        """Steam's answer: checked locally and with Steam, then tokens"""
        p = platform()
        with p.db.unit_of_work() as session:
            steam_id = p.steam_openid.verify(session, request.args, now=utcnow())
        found = providers.steam_account(p.steam, p.steam_policy, steam_id=steam_id)
        with p.db.unit_of_work() as session:
            return linking.sign_in(session, p.tokens, found=found, origin=origin(), now=utcnow())


@bp.route("/epic")
class EpicSignIn(MethodView):
    @bp.arguments(EpicTokenSchema)
    @bp.response(200, TokenPairSchema)
    @bp.alt_response(401, description="epic_token_invalid")
    @bp.alt_response(403, description="account_banned")
    @bp.alt_response(503, description="provider_unavailable")
    def post(self, body):
        """Sign in with an Epic Account Services or EOS Connect id token"""
        p = platform()
        found = providers.epic_token(p.epic, id_token=body["id_token"], now=utcnow())
        with p.db.unit_of_work() as session:
            return linking.sign_in(session, p.tokens, found=found, origin=origin(), now=utcnow())
