from datetime import timedelta

from flask.views import MethodView

from blueprints.http import BEARER_AUTH, STAFF_ERRORS, current_player, origin, platform, staff
from blueprints.storefront import bp
from blueprints.storefront.schemas import (
    DeliveryPageSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    EndpointCreatedSchema,
    EndpointCreateSchema,
    EndpointListSchema,
    EndpointSchema,
    EndpointUpdateSchema,
    InvoiceSchema,
    WishlistAddSchema,
    WishlistItemSchema,
    WishlistSchema,
)
from player_platform.commerce import invoices, wishlists
from player_platform.db import utcnow
from player_platform.studiohooks import service as studiohooks

INVOICE_URL_SECONDS = 300

# --- studio webhook endpoints (admin) --------------------------------------------------------


@bp.route("/admin/webhook-endpoints")
class EndpointCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(EndpointCreateSchema)
    @bp.response(201, EndpointCreatedSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def post(self, body):
        """Add a studio webhook endpoint; its signing secret is in this answer only (admin,
        audited)"""
        p = platform()
        with p.db.unit_of_work() as session:
            endpoint, secret = studiohooks.create_endpoint(
                session,
                vault=p.vault,
                actor_id=staff("admin").id,
                origin=origin(),
                now=utcnow(),
                **body,
            )
            return {**{k: getattr(endpoint, k) for k in EndpointSchema().fields}, "secret": secret}

    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, EndpointListSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self):
        """The studio webhook endpoints, never their secrets (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return {"items": studiohooks.list_endpoints(session)}


@bp.route("/admin/webhook-endpoints/<uuid:endpoint_id>")
class EndpointItem(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, EndpointSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="webhook_endpoint_not_found")
    def get(self, endpoint_id):
        """One studio webhook endpoint (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return studiohooks.get_endpoint(session, endpoint_id)

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(EndpointUpdateSchema)
    @bp.response(200, EndpointSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="webhook_endpoint_not_found")
    def patch(self, body, endpoint_id):
        """Change an endpoint's URL, events or description, or pause it (admin, audited)"""
        with platform().db.unit_of_work() as session:
            return studiohooks.update_endpoint(
                session,
                endpoint_id=endpoint_id,
                actor_id=staff("admin").id,
                origin=origin(),
                now=utcnow(),
                **body,
            )

    @bp.doc(security=BEARER_AUTH)
    @bp.response(204)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="webhook_endpoint_not_found")
    def delete(self, endpoint_id):
        """Remove an endpoint with its pending and past deliveries (admin, audited)"""
        with platform().db.unit_of_work() as session:
            studiohooks.delete_endpoint(
                session, endpoint_id=endpoint_id, actor_id=staff("admin").id, origin=origin()
            )


def _deliveries(session, deliveries: list) -> list[dict]:
    types = studiohooks.event_types(session, deliveries)
    fields = [name for name in DeliverySchema().fields if name != "event_type"]
    return [
        {**{k: getattr(d, k) for k in fields}, "event_type": types[d.event_id]} for d in deliveries
    ]


@bp.route("/admin/webhook-deliveries")
class DeliveryCollection(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(DeliveryQuerySchema, location="query")
    @bp.response(200, DeliveryPageSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self, query):
        """Studio webhook deliveries, newest first; `status=dead` is the dead-letter list
        (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            page = studiohooks.list_deliveries(session, **query)
            return {
                "items": _deliveries(session, page.items),
                "next_cursor": page.next_cursor,
            }


@bp.route("/admin/webhook-deliveries/<uuid:delivery_id>/replay")
class DeliveryReplay(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, DeliverySchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="webhook_delivery_not_found")
    def post(self, delivery_id):
        """Send a dead-lettered delivery again, with a fresh set of attempts (admin, audited);
        a pending or delivered one is left as it is"""
        p = platform()
        with p.db.unit_of_work() as session:
            delivery = studiohooks.replay(
                session,
                jobs=p.jobs,
                delivery_id=delivery_id,
                actor_id=staff("admin").id,
                origin=origin(),
                now=utcnow(),
            )
            return _deliveries(session, [delivery])[0]


# --- wishlists -------------------------------------------------------------------------------


def _wish(item, sku) -> dict:
    return {
        "sku_id": sku.sku_id,
        "name": sku.name,
        "type": sku.type,
        "prices": sku.prices,
        "active": sku.active,
        "added_at": item.created_at,
    }


@bp.route("/me/wishlist")
class Wishlist(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, WishlistSchema)
    def get(self):
        """My wishlist, newest first: I hear when a SKU on it is back in stock or cheaper"""
        with platform().db.unit_of_work() as session:
            user_id = current_player().id
            return {"items": [_wish(*row) for row in wishlists.items(session, user_id=user_id)]}

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(WishlistAddSchema)
    @bp.response(201, WishlistItemSchema)
    @bp.alt_response(404, description="sku_not_found")
    @bp.alt_response(409, description="wishlist_full")
    def post(self, body):
        """Put a SKU on my wishlist (again: no change)"""
        with platform().db.unit_of_work() as session:
            user_id = current_player().id
            item = wishlists.add(session, user_id=user_id, sku_id=body["sku_id"], now=utcnow())
            rows = wishlists.items(session, user_id=user_id)
            return next(_wish(i, sku) for i, sku in rows if i.sku_id == item.sku_id)


@bp.route("/me/wishlist/<string(maxlength=64):sku_id>")
class WishlistEntry(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(204)
    def delete(self, sku_id):
        """Take a SKU off my wishlist (not on it: no change)"""
        with platform().db.unit_of_work() as session:
            wishlists.remove(session, user_id=current_player().id, sku_id=sku_id)


# --- invoices --------------------------------------------------------------------------------


@bp.route("/orders/<uuid:order_id>/invoice")
class OrderInvoice(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, InvoiceSchema)
    @bp.alt_response(404, description="invoice_not_found")
    def get(self, order_id):
        """My order's invoice: its number, amounts and a short-lived link to the PDF"""
        p = platform()
        with p.db.unit_of_work() as session:
            invoice = invoices.buyer_invoice(
                session, user_id=current_player().id, order_id=order_id
            )
            now = utcnow()
            number = invoices.Seller.from_settings(p.settings).code(invoice)
            return {
                "number": number,
                "order_id": invoice.order_id,
                "currency": invoice.currency,
                "total": invoice.total,
                "tax": invoice.tax,
                "issued_at": invoice.issued_at,
                "url": p.storage.presigned_get(
                    invoice.storage_key,
                    expires_in=INVOICE_URL_SECONDS,
                    filename=f"{number}.pdf",
                ),
                "expires_at": now + timedelta(seconds=INVOICE_URL_SECONDS),
            }
