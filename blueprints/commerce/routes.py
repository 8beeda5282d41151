import time

from flask import request
from flask.views import MethodView

from blueprints.commerce import bp
from blueprints.commerce.schemas import (
    AdminOrderPageSchema,
    AdminOrderQuerySchema,
    AdminOrderSchema,
    AdminSkuPageSchema,
    AdminSkuQuerySchema,
    AdminSkuSchema,
    CheckoutSchema,
    OrderPageSchema,
    OrderQuerySchema,
    OrderReviewSchema,
    OrderSchema,
    PayPalCaptureSchema,
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
from player_platform.commerce import catalog, flows, orders, publishers, reviews
from player_platform.commerce.stripe_api import parse_event
from player_platform.db import utcnow
from player_platform.keys import inventory
from player_platform.suppliers import offers
from player_platform.webhooks import service as webhooks


@bp.route("/skus")
class SkuCollection(MethodView):
    @bp.arguments(SkuQuerySchema, location="query")
    @bp.response(200, SkuPageSchema)
    def get(self, query):
        """The catalog: search `q` in names and descriptions, filter, sort"""
        with platform().db.replica_session() as session:
            page = catalog.search(session, **query)
            _with_key_stock(session, page.items)
            return page


@bp.route("/skus/<sku_id>")
class SkuItem(MethodView):
    @bp.response(200, SkuSchema)
    @bp.alt_response(404, description="sku_not_found")
    def get(self, sku_id):
        """One active SKU with its prices"""
        with platform().db.replica_session() as session:
            sku = catalog.get_sku(session, sku_id, active_only=True)
            _with_key_stock(session, [sku])
            return sku


def _with_key_stock(session, skus) -> None:
    """Game-key SKUs carry their pool's available keys, their best supplier offer and the keys
    the configured suppliers hold (within each SKU's margin floor), for the schema to show."""
    keyed = {sku.sku_id: sku for sku in skus if sku.type == "game_key"}
    if not keyed:
        return
    found = offers.best_offers(
        session,
        {sku_id: sku.margin_floor for sku_id, sku in keyed.items()},
        suppliers=platform().suppliers.adapters,
    )
    for sku_id, sku in keyed.items():
        sku.supplier_offer, sku.supplier_stock = found.get(sku_id, (None, 0))
        sku.available = inventory.available_by_sku(session, sku_id)
        sku.stock = "in_stock" if sku.available or sku.supplier_stock else "sold_out"


@bp.route("/admin/skus")
class AdminSkuCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(AdminSkuQuerySchema, location="query")
    @bp.response(200, AdminSkuPageSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self, query):
        """The whole catalog, inactive SKUs included (admin; a publisher sees its own)"""
        with platform().db.unit_of_work() as session:
            publisher_id = publishers.scope(staff(publishers.ROLE))
            return catalog.search(session, publisher_id=publisher_id, **query)

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SkuCreateSchema)
    @bp.response(201, AdminSkuSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(409, description="sku_exists")
    @bp.alt_response(422, description="not_a_publisher")
    def post(self, body):
        """Add a SKU (admin, or a publisher for itself; audited)"""
        with platform().db.unit_of_work() as session:
            actor = staff(publishers.ROLE)
            if publishers.scope(actor) is not None:
                body["publisher_id"] = actor.id
            elif body["publisher_id"] is not None:
                publishers.publisher_account(session, body["publisher_id"])
            return catalog.create_sku(
                session, actor_id=actor.id, origin=origin(), now=utcnow(), **body
            )


@bp.route("/admin/skus/<sku_id>")
class AdminSkuItem(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(SkuWriteSchema)
    @bp.response(200, AdminSkuSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="sku_not_found")
    def patch(self, body, sku_id):
        """Change a SKU; `active: false` takes it off sale (admin, or its publisher; audited)"""
        with platform().db.unit_of_work() as session:
            actor = staff(publishers.ROLE)
            publishers.owned_sku(session, sku_id=sku_id, publisher_id=publishers.scope(actor))
            return catalog.update_sku(
                session,
                sku_id=sku_id,
                actor_id=actor.id,
                origin=origin(),
                jobs=platform().jobs,
                now=utcnow(),
                **body,
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
            rules=p.fraud_rules,
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
        """All orders, filtered (admin; a publisher sees the orders of its SKUs); flagged ones
        carry `flagged_at`, held ones `fraud_reasons`"""
        with platform().db.unit_of_work() as session:
            publisher_id = publishers.scope(staff(publishers.ROLE))
            where = publishers.orders_of(publisher_id) if publisher_id else None
            return orders.list_orders(session, where=where, **query)


@bp.route("/admin/orders/<uuid:order_id>/approve")
class HeldOrderApproval(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(OrderReviewSchema)
    @bp.response(200, AdminOrderSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="order_not_found")
    @bp.alt_response(409, description="order_not_held, kyc_required")
    def post(self, body, order_id):
        """Deliver an order the fraud rules held (admin, audited)"""
        p = platform()
        with p.db.unit_of_work() as session:
            return reviews.approve(
                session,
                order_id=order_id,
                rules=p.fraud_rules,
                storage=p.storage,
                jobs=p.jobs,
                actor_id=staff("admin").id,
                reason=body["reason"],
                origin=origin(),
                now=utcnow(),
            )


@bp.route("/admin/orders/<uuid:order_id>/cancel")
class HeldOrderCancel(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(OrderReviewSchema)
    @bp.response(200, AdminOrderSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="order_not_found")
    @bp.alt_response(409, description="order_not_held")
    def post(self, body, order_id):
        """Cancel a held order: its payment is refunded with the provider (admin, audited)"""
        p = platform()
        return flows.cancel_held(
            p.db,
            refunder=p.refunder,
            jobs=p.jobs,
            order_id=order_id,
            actor_id=staff("admin").id,
            reason=body["reason"],
            origin=origin(),
        )


@bp.route("/checkout")
class Checkout(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(CheckoutSchema)
    @idempotent(atomic=False)
    @bp.response(201, PurchaseSchema)
    @bp.alt_response(422, description="price_unavailable")
    def post(self, body):
        """Web store: the cart becomes a pending order and the chosen provider's payment (a
        Stripe PaymentIntent, or a PayPal order to approve, then capture)"""
        p = platform()
        return flows.checkout(
            p.db,
            stripe=p.stripe,
            paypal=p.paypal,
            provider=body["provider"],
            user_id=current_player().id,
            lines=[(line["sku_id"], line["quantity"]) for line in body["items"]],
            currency=body["currency"],
            client_ip=request.remote_addr,
            device_id=body["device_id"],
        )


@bp.route("/commerce/paypal/capture")
class PayPalCapture(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(PayPalCaptureSchema)
    @idempotent(atomic=False)
    @bp.response(200, PurchaseSchema)
    @bp.alt_response(402, description="payment_pending, payment_declined, receipt_invalid")
    @bp.alt_response(404, description="order_not_found")
    @bp.alt_response(409, description="not_a_paypal_order")
    def post(self, body):
        """After the buyer approved the PayPal order: capture it, then the order is fulfilled
        (once; a retry captures nothing twice)"""
        p = platform()
        return flows.capture_paypal(
            p.db,
            paypal=p.paypal,
            storage=p.storage,
            jobs=p.jobs,
            rules=p.fraud_rules,
            user_id=current_player().id,
            order_id=body["order_id"],
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
            refunder=p.refunder,
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
            refunder=p.refunder,
            jobs=p.jobs,
            refund_id=refund_id,
            approve=decision == "approve",
            actor_id=staff("admin").id,
            reason=body["reason"],
            origin=origin(),
        )
