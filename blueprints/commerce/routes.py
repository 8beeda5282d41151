import time

from flask import request
from flask.views import MethodView

from blueprints.commerce import bp
from blueprints.commerce.schemas import (
    AdminOrderPageSchema,
    AdminOrderQuerySchema,
    AdminSkuQuerySchema,
    CheckoutSchema,
    OrderPageSchema,
    OrderQuerySchema,
    OrderSchema,
    PurchaseSchema,
    RefundDecisionSchema,
    RefundRequestCreateSchema,
    RefundRequestSchema,
    SkuCreateSchema,
    SkuPageSchema,
    SkuQuerySchema,
    SkuSchema,
    SkuWriteSchema,
    SteamFinalizeSchema,
    SteamInitSchema,
    VerifyReceiptSchema,
    WebhookAckSchema,
)
from blueprints.http import (
    BEARER_AUTH,
    STAFF_ERRORS,
    current_player,
    idempotent,
    origin,
    platform,
    staff,
)
from player_platform.commerce import catalog, flows, orders
from player_platform.commerce.stripe_api import parse_event
from player_platform.db import utcnow
from player_platform.webhooks import service as webhooks


@bp.route("/skus")
class SkuCollection(MethodView):
    @bp.arguments(SkuQuerySchema, location="query")
    @bp.response(200, SkuPageSchema)
    def get(self, query):
        """The catalog: search `q` in names and descriptions, filter, sort"""
        with platform().db.replica_session() as session:
            return catalog.search(session, **query)


@bp.route("/skus/<sku_id>")
class SkuItem(MethodView):
    @bp.response(200, SkuSchema)
    @bp.alt_response(404, description="sku_not_found")
    def get(self, sku_id):
        """One active SKU with its prices"""
        with platform().db.replica_session() as session:
            return catalog.get_sku(session, sku_id, active_only=True)


@bp.route("/admin/skus")
class AdminSkuCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(AdminSkuQuerySchema, location="query")
    @bp.response(200, SkuPageSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self, query):
        """The whole catalog, inactive SKUs included (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return catalog.search(session, **query)

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SkuCreateSchema)
    @bp.response(201, SkuSchema)
    @bp.alt_response(409, description="sku_exists")
    def post(self, body):
        """Add a SKU (admin, audited)"""
        with platform().db.unit_of_work() as session:
            actor = staff("admin")
            return catalog.create_sku(
                session, actor_id=actor.id, origin=origin(), now=utcnow(), **body
            )


@bp.route("/admin/skus/<sku_id>")
class AdminSkuItem(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SkuWriteSchema)
    @bp.response(200, SkuSchema)
    @bp.alt_response(404, description="sku_not_found")
    def patch(self, body, sku_id):
        """Change a SKU; `active: false` takes it off sale (admin, audited)"""
        with platform().db.unit_of_work() as session:
            actor = staff("admin")
            return catalog.update_sku(
                session, sku_id=sku_id, actor_id=actor.id, origin=origin(), now=utcnow(), **body
            )


@bp.route("/commerce/steam/init")
class SteamInit(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SteamInitSchema)
    @bp.response(201, PurchaseSchema)
    @bp.alt_response(402, description="steam_txn_failed")
    @bp.alt_response(409, description="steam_not_linked")
    def post(self, body):
        """Start a Steam purchase: a pending order and InitTxn; the client shows the overlay"""
        p = platform()
        return flows.init_steam(p.db, steam=p.steam_microtxn, user_id=current_player().id, **body)


@bp.route("/commerce/steam/finalize")
class SteamFinalize(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SteamFinalizeSchema)
    @bp.response(200, PurchaseSchema)
    @bp.alt_response(402, description="payment_pending, receipt_invalid")
    @bp.alt_response(404, description="order_not_found")
    def post(self, body):
        """After the overlay: FinalizeTxn, then the order is fulfilled"""
        p = platform()
        return flows.finalize_steam(
            p.db,
            steam=p.steam_microtxn,
            storage=p.storage,
            jobs=p.jobs,
            user_id=current_player().id,
            **body,
        )


@bp.route("/commerce/verify-receipt")
class VerifyReceipt(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(VerifyReceiptSchema)
    @idempotent(atomic=False)
    @bp.response(200, PurchaseSchema)
    @bp.alt_response(402, description="receipt_invalid, payment_pending")
    @bp.alt_response(409, description="receipt_already_used, steam_not_linked, epic_not_linked")
    @bp.alt_response(422, description="not_sold_on_epic")
    def post(self, body):
        """Verify a provider's receipt and grant what it paid for, once (Steam `orderid`,
        Epic `sku_id` + `ownership_token`, Stripe `payment_intent_id`)"""
        p = platform()
        provider = body.pop("provider")
        return flows.verify_receipt(
            p.db,
            provider=provider,
            receipt=body,
            steam=p.steam_microtxn,
            stripe=p.stripe,
            epic=p.epic_ownership,
            storage=p.storage,
            jobs=p.jobs,
            user_id=current_player().id,
            origin=origin(),
        )


@bp.route("/orders")
class OrderCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(OrderQuerySchema, location="query")
    @bp.response(200, OrderPageSchema)
    def get(self, query):
        """The caller's orders, newest first"""
        with platform().db.unit_of_work() as session:
            return orders.list_orders(session, user_id=current_player().id, **query)


@bp.route("/orders/<uuid:order_id>")
class OrderItem(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, OrderSchema)
    @bp.alt_response(404, description="order_not_found")
    def get(self, order_id):
        """One of the caller's orders"""
        with platform().db.unit_of_work() as session:
            return orders.own_order(session, user_id=current_player().id, order_id=order_id)


@bp.route("/admin/orders")
class AdminOrderCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(AdminOrderQuerySchema, location="query")
    @bp.response(200, AdminOrderPageSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self, query):
        """All orders, filtered (admin); flagged ones carry `flagged_at`"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return orders.list_orders(session, **query)


@bp.route("/checkout")
class Checkout(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(CheckoutSchema)
    @idempotent(atomic=False)
    @bp.response(201, PurchaseSchema)
    @bp.alt_response(422, description="price_unavailable")
    def post(self, body):
        """Web store: the cart becomes a pending order and a Stripe PaymentIntent"""
        p = platform()
        return flows.checkout(
            p.db,
            stripe=p.stripe,
            user_id=current_player().id,
            lines=[(line["sku_id"], line["quantity"]) for line in body["items"]],
            currency=body["currency"],
        )


@bp.route("/webhooks/stripe")
class StripeWebhook(MethodView):
    @bp.response(200, WebhookAckSchema)
    @bp.alt_response(401, description="invalid_signature")
    @bp.alt_response(422, description="invalid_event")
    def post(self):
        """Stripe events: verified (Stripe-Signature), stored, then applied by a job"""
        p = platform()
        event = parse_event(
            payload=request.get_data(),
            header=request.headers.get("Stripe-Signature", ""),
            secret=p.settings.stripe_webhook_secret,
            now=time.time(),
        )
        with p.db.unit_of_work() as session:
            new = webhooks.store_event(
                session,
                jobs=p.jobs,
                provider="stripe",
                event_id=event["id"],
                event_type=str(event.get("type") or ""),
                payload=event,
                now=utcnow(),
            )
        return {"received": True, "duplicate": not new}


@bp.route("/orders/<uuid:order_id>/refund-requests")
class OrderRefundRequests(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(RefundRequestCreateSchema)
    @bp.response(201, RefundRequestSchema)
    @bp.alt_response(404, description="order_not_found")
    @bp.alt_response(409, description="not_refundable, refund_requested")
    def post(self, body, order_id):
        """Ask for a refund: decided at once when the rules allow, else an admin decides"""
        p = platform()
        return flows.request_refund(
            p.db,
            steam=p.steam_microtxn,
            stripe=p.stripe,
            jobs=p.jobs,
            user_id=current_player().id,
            order_id=order_id,
            reason=body["reason"],
            origin=origin(),
        )


@bp.route("/admin/refund-requests/<uuid:refund_id>/<any(approve, deny):decision>")
class RefundDecision(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(RefundDecisionSchema)
    @bp.response(200, RefundRequestSchema)
    @bp.alt_response(404, description="refund_request_not_found")
    @bp.alt_response(409, description="refund_decided")
    def post(self, body, refund_id, decision):
        """Approve (refund with the provider, revoke, claw back) or deny a request (admin)"""
        p = platform()
        return flows.decide_refund(
            p.db,
            steam=p.steam_microtxn,
            stripe=p.stripe,
            jobs=p.jobs,
            refund_id=refund_id,
            approve=decision == "approve",
            actor_id=staff("admin").id,
            reason=body["reason"],
            origin=origin(),
        )
