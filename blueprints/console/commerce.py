"""Commerce for admins: orders, refund requests, failed webhook events, server API keys."""

from __future__ import annotations

import uuid

from flask import render_template, request, url_for
from flask_login import current_user

from blueprints.admin.schemas import ApiKeyCreateSchema
from blueprints.commerce.schemas import RefundDecisionSchema
from blueprints.console import bp
from blueprints.console.auth import staff_only
from blueprints.console.web import (
    action,
    arg,
    form_values,
    next_url,
    page_args,
    table,
    uuid_arg,
)
from blueprints.http import origin, platform
from player_platform.commerce import flows, orders, refunds
from player_platform.commerce.models import ORDER_STATUSES, PROVIDERS
from player_platform.db import utcnow
from player_platform.security import api_keys
from player_platform.webhooks import service as webhooks


@bp.get("/orders")
@staff_only("admin")
def orders_page():
    status, provider = arg("status"), arg("provider")
    with platform().db.unit_of_work() as db:
        page = orders.list_orders(
            db,
            user_id=uuid_arg("user_id"),
            status=status if status in ORDER_STATUSES else None,
            provider=provider if provider in PROVIDERS else None,
            **page_args(),
        )
    return table(
        "console/orders.html",
        rows=page.items,
        columns=[
            ("id", lambda o: o.id),
            ("user_id", lambda o: o.user_id),
            ("status", lambda o: o.status),
            ("provider", lambda o: o.provider),
            ("currency", lambda o: o.currency),
            ("total", lambda o: o.total),
            ("refunded_amount", lambda o: o.refunded_amount),
            ("created_at", lambda o: o.created_at.isoformat()),
        ],
        filename="orders",
        next_url=next_url(page.next_cursor),
        statuses=ORDER_STATUSES,
        providers=PROVIDERS,
    )


@bp.get("/refunds")
@staff_only("admin")
def refunds_page():
    status = request.args.get("status", "pending") or None
    with platform().db.unit_of_work() as db:
        page = refunds.list_requests(db, status=status, **page_args())
    return table(
        "console/refunds.html",
        rows=page.items,
        columns=[
            ("id", lambda r: r.id),
            ("order_id", lambda r: r.order_id),
            ("user_id", lambda r: r.user_id),
            ("status", lambda r: r.status),
            ("reason", lambda r: r.reason),
            ("decision_reason", lambda r: r.decision_reason),
            ("created_at", lambda r: r.created_at.isoformat()),
        ],
        filename="refund-requests",
        next_url=next_url(page.next_cursor),
        status=status or "",
    )


@bp.post("/refunds/<uuid:refund_id>/<any(approve, deny):decision>")
@staff_only("admin")
@action
def decide_refund(refund_id: uuid.UUID, decision: str):
    body = form_values(RefundDecisionSchema, ("reason",))
    p = platform()
    refund = flows.decide_refund(
        p.db,
        refunder=p.refunder,
        jobs=p.jobs,
        refund_id=refund_id,
        approve=decision == "approve",
        actor_id=current_user.id,
        reason=body.get("reason"),
        origin=origin(),
    )
    return f"Refund request {refund.status}.", url_for("console.refunds_page")


@bp.get("/webhooks")
@staff_only("admin")
def webhooks_page():
    status = request.args.get("status", "failed") or None
    with platform().db.unit_of_work() as db:
        page = webhooks.list_events(db, status=status, provider=arg("provider"), **page_args())
    return table(
        "console/webhooks.html",
        rows=page.items,
        columns=[
            ("id", lambda e: e.id),
            ("provider", lambda e: e.provider),
            ("event_type", lambda e: e.event_type),
            ("status", lambda e: e.status),
            ("attempts", lambda e: e.attempts),
            ("last_error", lambda e: e.last_error),
            ("received_at", lambda e: e.received_at.isoformat()),
        ],
        filename="webhook-events",
        next_url=next_url(page.next_cursor),
        status=status or "",
    )


@bp.post("/webhooks/<uuid:event_id>/replay")
@staff_only("admin")
@action
def replay_webhook(event_id: uuid.UUID):
    p = platform()
    with p.db.unit_of_work() as db:
        webhooks.replay(
            db, jobs=p.jobs, row_id=event_id, actor_id=current_user.id, origin=origin(),
            now=utcnow(),
        )  # fmt: skip
    return "Event queued again.", url_for("console.webhooks_page")


@bp.get("/api-keys")
@staff_only("admin")
def api_keys_page():
    with platform().db.unit_of_work() as db:
        page = api_keys.list_keys(db, **page_args())
    return table(
        "console/api_keys.html",
        rows=page.items,
        columns=[
            ("id", lambda k: k.id),
            ("name", lambda k: k.name),
            ("prefix", lambda k: k.prefix),
            ("scopes", lambda k: " ".join(k.scopes)),
            ("created_at", lambda k: k.created_at.isoformat()),
            ("revoked_at", lambda k: k.revoked_at.isoformat() if k.revoked_at else ""),
        ],
        filename="api-keys",
        next_url=next_url(page.next_cursor),
        scopes=api_keys.SCOPES,
    )


@bp.post("/api-keys")
@staff_only("admin")
def create_api_key():
    """The new key is on this answer only (not a redirect: it must never sit in a cookie or a
    flash message); the page is not cached."""
    body = form_values(ApiKeyCreateSchema, ("name",), scopes=request.form.getlist("scopes") or None)
    with platform().db.unit_of_work() as db:
        created = api_keys.create_key(
            db, actor_id=current_user.id, origin=origin(), now=utcnow(), **body
        )
        key, name = created.key, created.name
    return render_template("console/api_key_created.html", key=key, name=name)


@bp.post("/api-keys/<uuid:key_id>/revoke")
@staff_only("admin")
@action
def revoke_api_key(key_id: uuid.UUID):
    with platform().db.unit_of_work() as db:
        api_keys.revoke_key(
            db, actor_id=current_user.id, key_id=key_id, origin=origin(), now=utcnow()
        )
    return "Key revoked.", url_for("console.api_keys_page")
