"""The game-key store for admins: pools' stock and the masked key list (import a file,
revoke a key), suppliers' health, and orders the fraud rules held (approve or cancel).

Every action calls what the JSON API calls (blueprints/keys/imports.py, keys.store,
commerce.reviews and commerce.flows), so each is audited the same way. A key's code never
reaches a page: lists show ``store.admin_view``'s mask.
"""

from __future__ import annotations

import time
import uuid
from pathlib import PurePath

from flask import render_template, request, url_for
from flask_login import current_user

from blueprints.commerce.schemas import OrderReviewSchema
from blueprints.console import bp
from blueprints.console.auth import staff_only
from blueprints.console.web import action, arg, back, form_values, next_url, page_args, table
from blueprints.http import origin, platform
from blueprints.keys.imports import import_lines
from blueprints.keys.schemas import SHOWN_STATUSES, ImportQuerySchema
from player_platform.commerce import catalog, flows, orders, reviews
from player_platform.db import utcnow
from player_platform.errors import Invalid
from player_platform.keys import inventory, store
from player_platform.keys.models import KEY_PLATFORMS

# What a file's name says it holds; the API takes the same two formats by Content-Type.
KEY_COLUMNS = ("id", "sku_id", "platform", "masked_code", "status", "order_id", "user_id",
               "created_at", "revoked_at")  # fmt: skip
IMPORT_KINDS = {".csv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@bp.get("/keys")
@staff_only("admin")
def keys_page():
    status = arg("status")
    with platform().db.unit_of_work() as db:
        pools = inventory.inventory(db)
        skus = catalog.search(db, limit=200, type="game_key", include_inactive=True).items
        page = store.listing(
            db,
            sku_id=arg("sku_id"),
            status=status if status in SHOWN_STATUSES else None,
            **page_args(),
        )
        keys = [store.admin_view(key) for key in page.items]
    return table(
        "console/keys.html",
        rows=keys,
        columns=[(name, lambda k, name=name: k[name]) for name in KEY_COLUMNS],
        filename="game-keys",
        next_url=next_url(page.next_cursor),
        pools=pools,
        skus=[sku.sku_id for sku in skus],
        platforms=KEY_PLATFORMS,
        statuses=SHOWN_STATUSES,
    )


@bp.post("/keys/import")
@staff_only("admin")
def import_keys():
    """The uploaded file into a pool, through the API's import; the counts are on this answer
    (console.js shows the upload's progress and puts this page in place)."""
    query = form_values(ImportQuerySchema, ("sku_id", "platform"))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("Choose a file to import.", code="validation_error")
    kind = IMPORT_KINDS.get(PurePath(upload.filename).suffix.lower())
    if kind is None:
        raise Invalid("Send a .csv or a .jsonl file.", code="unsupported_media_type")
    result = import_lines(
        iter(upload.stream.readline, b""),
        kind=kind,
        sku_id=query["sku_id"],
        key_platform=query["platform"],
        actor_id=current_user.id,
    )
    return render_template(
        "console/key_import.html", result=result, sku_id=query["sku_id"], filename=upload.filename
    )


@bp.post("/keys/<uuid:key_id>/revoke")
@staff_only("admin")
@action
def revoke_key(key_id: uuid.UUID):
    with platform().db.unit_of_work() as db:
        key = store.admin_revoke(
            db, key_id=key_id, actor_id=current_user.id, origin=origin(), now=utcnow()
        )
        masked = store.admin_view(key)["masked_code"]
    return f"Key {masked} revoked.", back(url_for("console.keys_page"))


@bp.get("/suppliers")
@staff_only("admin")
def suppliers_page():
    return render_template(
        "console/suppliers.html", suppliers=platform().suppliers.health(now=time.time())
    )


@bp.get("/held-orders")
@staff_only("admin")
def held_orders_page():
    with platform().db.unit_of_work() as db:
        page = orders.list_orders(db, status="held", **page_args())
    return table(
        "console/held_orders.html",
        rows=page.items,
        columns=[
            ("id", lambda o: o.id),
            ("user_id", lambda o: o.user_id),
            ("provider", lambda o: o.provider),
            ("currency", lambda o: o.currency),
            ("total", lambda o: o.total),
            ("fraud_reasons", lambda o: " ".join(o.fraud_reasons)),
            ("held_at", lambda o: o.held_at.isoformat() if o.held_at else ""),
        ],
        filename="held-orders",
        next_url=next_url(page.next_cursor),
    )


@bp.post("/held-orders/<uuid:order_id>/approve")
@staff_only("admin")
@action
def approve_held_order(order_id: uuid.UUID):
    body = form_values(OrderReviewSchema, ("reason",))
    p = platform()
    with p.db.unit_of_work() as db:
        order = reviews.approve(
            db, order_id=order_id, rules=p.fraud_rules, storage=p.storage, jobs=p.jobs,
            actor_id=current_user.id, reason=body["reason"], origin=origin(), now=utcnow(),
        )  # fmt: skip
        status = order.status
    return f"Order approved: {status}.", url_for("console.held_orders_page")


@bp.post("/held-orders/<uuid:order_id>/cancel")
@staff_only("admin")
@action
def cancel_held_order(order_id: uuid.UUID):
    body = form_values(OrderReviewSchema, ("reason",))
    p = platform()
    order = flows.cancel_held(
        p.db, refunder=p.refunder, jobs=p.jobs,
        order_id=order_id, actor_id=current_user.id, reason=body["reason"], origin=origin(),
    )  # fmt: skip
    return f"Order cancelled: {order.status}.", url_for("console.held_orders_page")
