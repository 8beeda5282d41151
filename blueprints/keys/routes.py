from flask import request
from flask.views import MethodView
from werkzeug.exceptions import UnsupportedMediaType

from blueprints.admin.schemas import PageQuerySchema
from blueprints.http import BEARER_AUTH, STAFF_ERRORS, current_player, origin, platform, staff
from blueprints.keys import bp
from blueprints.keys.schemas import (
    AdminKeyPageSchema,
    AdminKeyQuerySchema,
    AdminKeySchema,
    ImportQuerySchema,
    ImportResultSchema,
    InventorySchema,
    KeyPageSchema,
    KeyUpdateSchema,
    OrderKeysSchema,
    RevealedKeySchema,
)
from player_platform.commerce import catalog, orders
from player_platform.db import utcnow
from player_platform.keys import importer, inventory, store

IMPORT_TYPES = {"text/csv": "csv", "application/x-ndjson": "jsonl", "application/jsonl": "jsonl"}
IMPORT_BODY = {
    "required": True,
    "description": "One code per line: CSV (the code in the first column, an optional `code` "
    'header) or JSON lines (`{"code": "..."}`), streamed at any size.',
    "content": {kind: {"schema": {"type": "string"}} for kind in IMPORT_TYPES},
}


def _page(page, view):
    return {"items": [view(key) for key in page.items], "next_cursor": page.next_cursor}


@bp.route("/me/keys")
class MyKeys(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(PageQuerySchema, location="query")
    @bp.response(200, KeyPageSchema)
    def get(self, query):
        """The caller's game keys, newest first, masked (reveal one to see its code)"""
        with platform().db.unit_of_work() as session:
            page = store.owned(session, user_id=current_player().id, **query)
            return _page(page, store.view)


@bp.route("/me/keys/<uuid:key_id>/reveal")
class RevealKey(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, RevealedKeySchema)
    @bp.alt_response(404, description="key_not_found")
    @bp.alt_response(409, description="key_revoked")
    def get(self, key_id):
        """The code of one of the caller's keys; every reveal is audited with the caller's IP"""
        p = platform()
        with p.db.unit_of_work() as session:
            key, code = store.reveal(
                session,
                vault=p.vault,
                user_id=current_player().id,
                key_id=key_id,
                origin=origin(),
                now=utcnow(),
            )
            shown = {"id": key.id, "sku_id": key.sku_id, "platform": key.platform,
                     "code": code, "revealed_at": key.revealed_at}  # fmt: skip
        return shown, 200, {"Cache-Control": "no-store"}


@bp.route("/orders/<uuid:order_id>/keys")
class OrderKeys(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, OrderKeysSchema)
    @bp.alt_response(404, description="order_not_found")
    def get(self, order_id):
        """The keys of one of the caller's orders, masked"""
        with platform().db.unit_of_work() as session:
            order = orders.own_order(session, user_id=current_player().id, order_id=order_id)
            return {"items": [store.view(k) for k in store.of_order(session, order_id=order.id)]}


@bp.route("/admin/keys")
class AdminKeys(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(AdminKeyQuerySchema, location="query")
    @bp.response(200, AdminKeyPageSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self, query):
        """The warehouse's keys, newest first, masked (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return _page(store.listing(session, **query), store.admin_view)


@bp.route("/admin/keys/<uuid:key_id>")
class AdminKey(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, AdminKeySchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="key_not_found")
    def get(self, key_id):
        """One key, masked (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return store.admin_view(store.get(session, key_id))

    @bp.doc(security=BEARER_AUTH)
    @bp.arguments(KeyUpdateSchema)
    @bp.response(200, AdminKeySchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="key_not_found")
    @bp.alt_response(409, description="key_not_available")
    def patch(self, body, key_id):
        """Move an unsold key to another platform's pool of its SKU (admin; audited)"""
        p = platform()
        with p.db.unit_of_work() as session:
            key = store.admin_update(
                session,
                key_id=key_id,
                platform=body["platform"],
                actor_id=staff("admin").id,
                origin=origin(),
                now=utcnow(),
                threshold=p.settings.keys_low_stock_threshold,
            )
            return store.admin_view(key)

    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, AdminKeySchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="key_not_found")
    def delete(self, key_id):
        """Revoke a key for good: it is never sold again (admin; audited)"""
        with platform().db.unit_of_work() as session:
            key = store.admin_revoke(
                session, key_id=key_id, actor_id=staff("admin").id, origin=origin(), now=utcnow()
            )
            return store.admin_view(key)


@bp.route("/admin/inventory")
class Inventory(MethodView):
    @bp.doc(security=BEARER_AUTH)
    @bp.response(200, InventorySchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    def get(self):
        """Per SKU and platform: available, assigned, threshold and low-stock state (admin)"""
        with platform().db.unit_of_work() as session:
            staff("admin")
            return {"items": inventory.inventory(session)}


@bp.route("/admin/keys/bulk-import")
class BulkImport(MethodView):
    @bp.doc(security=BEARER_AUTH, requestBody=IMPORT_BODY)
    @bp.arguments(ImportQuerySchema, location="query")
    @bp.response(200, ImportResultSchema)
    @bp.alt_response(403, description=STAFF_ERRORS)
    @bp.alt_response(404, description="sku_not_found")
    @bp.alt_response(415, description="unsupported_media_type")
    @bp.alt_response(422, description="not_a_game_key")
    def post(self, query):
        """Import keys into a pool, streamed: CSV or JSON lines, checked per platform,
        duplicates refused across the warehouse (admin; audited, never the codes)"""
        p = platform()
        kind = IMPORT_TYPES.get(request.mimetype)
        if kind is None:
            raise UnsupportedMediaType("Send text/csv or application/x-ndjson.")
        with p.db.unit_of_work() as session:
            actor_id = staff("admin").id
            sku = catalog.get_sku(session, query["sku_id"])
        target = importer.Target(
            sku_id=sku.sku_id,
            platform=query["platform"] or inventory.default_platform(sku.platforms),
            actor_id=actor_id,
            origin=origin(),
        )
        return importer.import_codes(
            p.db,
            vault=p.vault,
            jobs=p.jobs,
            formats=p.key_formats,
            target=target,
            lines=iter(request.stream.readline, b""),
            kind=kind,
            batch=p.settings.keys_import_batch,
            threshold=p.settings.keys_low_stock_threshold,
            now=utcnow,
        ).as_dict()
