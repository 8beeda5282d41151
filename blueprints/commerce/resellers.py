"""Resellers: bulk key purchases from a prepaid balance with a server API key, and the admin's
top-up of that balance (commerce/resellers.py), and the codes of its orders."""

from flask.views import MethodView

from blueprints.commerce import bp
from blueprints.commerce.schemas import (
    ResellerBalanceSchema,
    ResellerKeysSchema,
    ResellerOrderCreateSchema,
    ResellerOrderSchema,
    TopUpSchema,
)
from blueprints.http import (
    API_KEY_AUTH,
    BEARER_AUTH,
    STAFF_ERRORS,
    current_server,
    idempotent,
    origin,
    platform,
    staff,
)
from blueprints.wallet.schemas import IdempotencyKeyHeaderSchema
from player_platform.commerce import resellers
from player_platform.db import utcnow
from player_platform.usecases import reseller_keys


@bp.route("/reseller/orders")
class ResellerOrders(MethodView):
    @bp.doc(security=API_KEY_AUTH)
    @bp.arguments(ResellerOrderCreateSchema)
    @bp.arguments(IdempotencyKeyHeaderSchema, location="headers")
    @idempotent
    @bp.response(201, ResellerOrderSchema)
    @bp.alt_response(401, description="api_key_required, invalid_api_key")
    @bp.alt_response(403, description="missing_scope, not_a_reseller")
    @bp.alt_response(404, description="sku_not_found")
    @bp.alt_response(409, description="insufficient_funds, wallet_in_debt")
    @bp.alt_response(422, description="not_a_game_key, price_unavailable, not_a_reseller")
    def post(self, body, headers):
        """A reseller buys game keys in bulk from its prepaid balance (API key with
        `keys:purchase`; Idempotency-Key required: one order per key); the codes follow at
        `GET /v1/reseller/orders/{id}/keys`"""
        p = platform()
        with p.db.unit_of_work() as session:
            order, balance = resellers.purchase(
                session,
                caller=current_server(resellers.SCOPE),
                idempotency_key=headers["idempotency_key"],
                lines=[(line["sku_id"], line["quantity"]) for line in body["items"]],
                balance_sku=p.settings.reseller_balance_sku,
                currency=p.settings.reseller_currency,
                storage=p.storage,
                jobs=p.jobs,
                origin=origin(),
                now=utcnow(),
            )
            return {"order": order, "balance": balance}


@bp.route("/admin/resellers/<uuid:user_id>/balance")
class ResellerBalance(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(TopUpSchema)
    @idempotent
    @bp.response(200, ResellerBalanceSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="user_not_found, sku_not_found")
    @bp.alt_response(422, description="not_a_reseller")
    def post(self, body, user_id):
        """Top up a reseller's prepaid balance, in minor units (admin, audited; send an
        Idempotency-Key to make a retry safe)"""
        p = platform()
        with p.db.unit_of_work() as session:
            balance = resellers.top_up(
                session,
                user_id=user_id,
                balance_sku=p.settings.reseller_balance_sku,
                actor_id=staff("admin").id,
                origin=origin(),
                now=utcnow(),
                **body,
            )
            return {"user_id": user_id, "balance": balance}


@bp.route("/reseller/orders/<uuid:order_id>/keys")
class ResellerOrderKeys(MethodView):
    @bp.doc(security=API_KEY_AUTH)
    @bp.response(200, ResellerKeysSchema)
    @bp.alt_response(401, description="api_key_required, invalid_api_key")
    @bp.alt_response(403, description="missing_scope")
    @bp.alt_response(404, description="order_not_found")
    def get(self, order_id):
        """The delivered codes of one of the reseller's orders, in clear (each reveal audited
        with the caller's IP; a line still waiting for stock appears once complete)"""
        p = platform()
        with p.db.unit_of_work() as session:
            codes = reseller_keys.order_codes(
                session,
                vault=p.vault,
                caller=current_server(resellers.SCOPE),
                order_id=order_id,
                origin=origin(),
                now=utcnow(),
            )
        return {"items": codes}, 200, {"Cache-Control": "no-store"}
