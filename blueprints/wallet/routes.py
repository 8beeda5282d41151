from flask.views import MethodView

from blueprints.http import (
    API_KEY_AUTH,
    BEARER_AUTH,
    current_player,
    current_server,
    idempotent,
    json_response,
    origin,
    platform,
)
from blueprints.wallet import bp
from blueprints.wallet.schemas import (
    BalanceSchema,
    EntitlementListSchema,
    EntitlementQuerySchema,
    IdempotencyKeyHeaderSchema,
    LedgerPageSchema,
    LedgerQuerySchema,
    ServerGrantResultSchema,
    ServerGrantSchema,
    SpendSchema,
    WalletSchema,
)
from player_platform.commerce import catalog
from player_platform.db import utcnow
from player_platform.usecases import server_grants as grants
from player_platform.wallet import service as wallet


@bp.route("/me/entitlements")
class MyEntitlements(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(EntitlementQuerySchema, location="query")
    @bp.response(200, EntitlementListSchema)
    def get(self, query):
        """What the caller owns (`?status=revoked` for what was taken back)"""
        with platform().db.unit_of_work() as session:
            items = wallet.list_entitlements(session, user_id=current_player().id, **query)
            return {"items": items, "next_cursor": None}


@bp.route("/me/wallet")
class MyWallet(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, WalletSchema)
    def get(self):
        """Balance (and any clawback debt) per consumable SKU"""
        with platform().db.unit_of_work() as session:
            wallets = wallet.balances(session, user_id=current_player().id)
            return {
                "balances": {w.sku_id: w.balance for w in wallets},
                "debts": {w.sku_id: w.debt for w in wallets if w.debt},
            }


@bp.route("/me/wallet/spend")
class SpendFromWallet(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SpendSchema)
    @idempotent
    @bp.response(200, BalanceSchema)
    @bp.alt_response(409, description="insufficient_funds, wallet_in_debt")
    def post(self, body):
        """Spend a consumable: the new balance (takes an Idempotency-Key)"""
        with platform().db.unit_of_work() as session:
            user_id, now = current_player().id, utcnow()
            spent = wallet.spend_if_funded(session, user_id=user_id, now=now, **body)
            if spent is None:  # nothing spent: the full path says why (or spends)
                catalog.get_sku(session, body["sku_id"])
                spent = wallet.spend(session, user_id=user_id, now=now, **body)
            balance = {"sku_id": spent.sku_id, "balance": spent.balance}
        return json_response(balance)


@bp.route("/me/ledger")
class MyLedger(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(LedgerQuerySchema, location="query")
    @bp.response(200, LedgerPageSchema)
    def get(self, query):
        """Ledger entries of all the caller's wallets, newest first, with balance_after"""
        with platform().db.unit_of_work() as session:
            return wallet.ledger(session, user_id=current_player().id, **query)


@bp.route("/servers/grants")
class ServerGrants(MethodView):
    @bp.doc(security=API_KEY_AUTH)
    @bp.arguments(ServerGrantSchema)
    @bp.arguments(IdempotencyKeyHeaderSchema, location="headers")
    @idempotent
    @bp.response(200, ServerGrantResultSchema)
    @bp.alt_response(401, description="api_key_required, invalid_api_key")
    @bp.alt_response(403, description="missing_scope")
    @bp.alt_response(404, description="user_not_found, sku_not_found")
    @bp.alt_response(409, description="insufficient_funds, wallet_in_debt")
    @bp.alt_response(422, description="not_a_consumable, not_grantable, idempotency_key_reused")
    def post(self, body, headers):
        """A game server grants a SKU to a player or spends a consumable (API key with
        `grants:write`; Idempotency-Key required; audited)"""
        with platform().db.unit_of_work() as session:
            return grants.apply_server_grant(
                session,
                caller=current_server(grants.SCOPE),
                origin=origin(),
                now=utcnow(),
                **headers,
                **body,
            )
