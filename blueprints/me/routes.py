from flask.views import MethodView

from blueprints.auth.schemas import EpicTokenSchema, SteamTicketSchema
from blueprints.http import (
    BEARER_AUTH,
    current_actor,
    current_claims,
    json_response,
    origin,
    platform,
)
from blueprints.me import bp
from blueprints.me.schemas import (
    EmailLinkSchema,
    ErasureSchema,
    ExportSchema,
    IdentityListSchema,
    IdentitySchema,
    MergeSchema,
    MeSchema,
    MeUpdateSchema,
    OtpSchema,
    SessionListSchema,
    SignedOutSchema,
    TotpEnrolmentSchema,
    TwitchLinkSchema,
)
from player_platform.db import utcnow
from player_platform.identity import linking, merge, mfa, providers, service, sessions
from player_platform.identity.linking import ProviderIdentity
from player_platform.usecases import accounts
from player_platform.usecases.twitch_link import link_twitch


@bp.route("")
class Me(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, MeSchema)
    @bp.alt_response(401, description="unauthorized, invalid_token, session_revoked")
    @bp.alt_response(403, description="account_banned")
    def get(self):
        """The caller's profile with its linked identities"""
        claims = current_claims()
        with platform().db.autocommit() as connection:
            return json_response(sessions.profile(connection, claims, now=utcnow()))

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(MeUpdateSchema)
    @bp.response(200, MeSchema)
    def patch(self, body):
        """Change the caller's display name or region"""
        with platform().db.unit_of_work() as session:
            user = service.update_profile(
                session,
                user=current_actor().user,
                origin=origin(),
                now=utcnow(),
                display_name=body.get("display_name"),
                region=body.get("region"),
            )
            return service.profile(user)

    @bp.doc(security=BEARER_AUTH)
    @bp.response(202, ErasureSchema)
    def delete(self):
        """Erase this account (GDPR): anonymised, identities, personal data and UGC removed"""
        p = platform()
        with p.db.unit_of_work() as session:
            accounts.erase(
                session, jobs=p.jobs, user=current_actor().user, origin=origin(), now=utcnow()
            )
        return {"status": "deleted"}


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


@bp.route("/identities")
class MeIdentities(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, IdentityListSchema)
    def get(self):
        """The ways into this account: provider, provider id, when linked"""
        with platform().db.unit_of_work():
            return {"items": list(current_actor().user.identities), "next_cursor": None}


def _link(found: ProviderIdentity):
    with platform().db.unit_of_work() as session:
        return linking.link(
            session, user=current_actor().user, found=found, origin=origin(), now=utcnow()
        )


LINK_ERRORS = "identity_in_use, provider_already_linked"


class LinkedIdentity(MethodView):
    """One provider's identity of the caller: POST links it (per provider), DELETE unlinks."""

    provider: str

    @bp.doc(security=BEARER_AUTH)
    @bp.response(204)
    @bp.alt_response(404, description="identity_not_linked")
    @bp.alt_response(409, description="last_identity")
    def delete(self):
        """Unlink this provider's identity; never the last way in"""
        with platform().db.unit_of_work() as session:
            linking.unlink(
                session,
                user=current_actor().user,
                provider=self.provider,
                origin=origin(),
                now=utcnow(),
            )


@bp.route("/identities/steam")
class MeSteamIdentity(LinkedIdentity):
    provider = "steam"

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SteamTicketSchema)
    @bp.response(201, IdentitySchema)
    @bp.alt_response(401, description="unauthorized, steam_ticket_invalid")
    @bp.alt_response(403, description="game_not_owned, steam_banned")
    @bp.alt_response(409, description=LINK_ERRORS)
    @bp.alt_response(503, description="provider_unavailable")
    def post(self, body):
        """Link a Steam account (session ticket from the game client)"""
        current_actor()
        p = platform()
        return _link(
            providers.steam_ticket(
                p.steam, p.steam_policy, ticket=body["ticket"], identity=body["identity"]
            )
        )


@bp.route("/identities/epic")
class MeEpicIdentity(LinkedIdentity):
    provider = "epic"

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(EpicTokenSchema)
    @bp.response(201, IdentitySchema)
    @bp.alt_response(401, description="unauthorized, epic_token_invalid")
    @bp.alt_response(409, description=LINK_ERRORS)
    @bp.alt_response(503, description="provider_unavailable")
    def post(self, body):
        """Link an Epic account (Epic Account Services or EOS Connect id token)"""
        current_actor()
        return _link(providers.epic_token(platform().epic, id_token=body["id_token"], now=utcnow()))


@bp.route("/identities/email")
class MeEmailIdentity(LinkedIdentity):
    provider = "email"

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(EmailLinkSchema)
    @bp.response(201, IdentitySchema)
    @bp.alt_response(409, description=LINK_ERRORS)
    def post(self, body):
        """Add email and password sign-in (never replaces an email already linked)"""
        current_actor()
        return _link(providers.email_password(email=body["email"], password=body["password"]))


@bp.route("/identities/twitch")
class MeTwitchIdentity(LinkedIdentity):
    provider = "twitch"

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(TwitchLinkSchema)
    @bp.response(201, IdentitySchema)
    @bp.alt_response(401, description="unauthorized, twitch_code_invalid")
    @bp.alt_response(409, description=LINK_ERRORS)
    @bp.alt_response(503, description="provider_unavailable")
    def post(self, body):
        """Link a Twitch account (OAuth authorization code), for drops"""
        current_actor()
        p = platform()
        found = providers.twitch_code(
            p.twitch, p.vault, code=body["code"], redirect_uri=body["redirect_uri"]
        )
        with p.db.unit_of_work() as session:
            return link_twitch(
                session,
                jobs=p.jobs,
                user=current_actor().user,
                found=found,
                origin=origin(),
                now=utcnow(),
            )


@bp.route("/identities/eos")
class MeEosIdentity(LinkedIdentity):
    """EOS Connect identities are linked through /identities/epic with a Connect id token."""

    provider = "eos"


@bp.route("/merge")
class MeMerge(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(MergeSchema)
    @bp.response(200, MeSchema)
    @bp.alt_response(404, description="merge_source_not_found")
    @bp.alt_response(409, description="merge_same_account, merge_conflict")
    def post(self, body):
        """Fold another account you hold into this one: its identities move here"""
        current_actor()
        proof, p, now = body["proof"], platform(), utcnow()
        found = None
        if proof.get("provider") == "steam":
            found = providers.steam_ticket(
                p.steam, p.steam_policy, ticket=proof["ticket"], identity=proof.get("identity")
            )
        elif proof.get("provider") == "epic":
            found = providers.epic_token(p.epic, id_token=proof["id_token"], now=now)
        with p.db.unit_of_work() as session:
            if found is None:
                source_id = merge.owner_of_refresh_token(session, proof["refresh_token"], now=now)
            else:
                source_id = merge.owner_of_identity(session, found)
            user = accounts.merge_accounts(
                session,
                jobs=p.jobs,
                target=current_actor().user,
                source_id=source_id,
                origin=origin(),
                now=now,
            )
            return service.profile(user)


@bp.route("/export")
class MeExport(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, ExportSchema)
    def get(self):
        """Everything stored about you (GDPR access); secrets are never included"""
        with platform().db.unit_of_work() as session:
            return accounts.export(session, user=current_actor().user, now=utcnow())
