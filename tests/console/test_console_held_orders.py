"""Orders the fraud rules held, reviewed in the console (fake PayPal on loopback): the reasons
are listed, one order approved (delivered), another cancelled (refunded with PayPal); states
and audit entries checked in PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from player_platform.app import create_app
from player_platform.audit.models import AuditLog
from player_platform.commerce.models import Order
from tests.commerce.conftest import seed_catalog
from tests.commerce.test_paypal import capture, paypal_checkout
from tests.console.conftest import sign_in, staff_member
from tests.support import bearer, signed_up


@pytest.fixture
def settings(settings):
    """A player's second order within the hour is held (PP_FRAUD_ORDERS_PER_PLAYER=1)."""
    return dataclasses.replace(settings, fraud_orders_per_player=1)


def buy_with_paypal(client, paypal, headers, sku_id: str) -> dict:
    bought = paypal_checkout(client, headers, [{"sku_id": sku_id, "quantity": 1}])
    paypal.approve(bought["payment"]["paypal_order_id"], payer_id="PAYER1")
    done = capture(client, headers, bought["order"]["id"])
    assert done.status_code == 200, done.get_json()
    return done.get_json()["order"]


def test_an_admin_approves_one_held_order_and_cancels_another(
    live_server, live_platform, paypal, pages
):
    seed_catalog(live_platform)
    client = create_app(platform=live_platform).test_client()
    headers = bearer(signed_up(live_platform)["access_token"])
    buy_with_paypal(client, paypal, headers, "sword")
    held = buy_with_paypal(client, paypal, headers, "gems")
    also_held = buy_with_paypal(client, paypal, headers, "starter")
    assert (held["status"], also_held["status"]) == ("held", "held")

    admin = staff_member(live_platform, role="admin", name="Reviewer")
    page = pages()
    sign_in(page, live_server, admin)
    page.click("nav a:has-text('Held orders')")
    rows = page.locator("tbody tr[data-order-id]")
    assert rows.count() == 2
    assert page.locator(f"tr[data-order-id='{held['id']}'] .reasons").inner_text() == (
        "velocity_player"
    )

    row = page.locator(f"tr[data-order-id='{held['id']}']")
    row.locator("form:has(button:has-text('Approve')) input[name=reason]").fill("known buyer")
    row.locator("button:has-text('Approve')").click()
    assert "Order approved: fulfilled." in page.inner_text(".flash")
    row = page.locator(f"tr[data-order-id='{also_held['id']}']")
    row.locator("form:has(button:has-text('Cancel')) input[name=reason]").fill("stolen card")
    row.locator("button:has-text('Cancel')").click()
    assert "Order cancelled: refunded." in page.inner_text(".flash")
    assert "No held orders." in page.inner_text("table")

    with live_platform.db.unit_of_work() as session:
        statuses = {
            str(o.id): o.status
            for o in session.scalars(
                select(Order).where(Order.id.in_([held["id"], also_held["id"]]))
            )
        }
        audit = session.execute(
            select(AuditLog.action, AuditLog.actor_id, AuditLog.resource_id, AuditLog.new_values)
            .where(AuditLog.action.in_(["order.approve", "order.cancel"]))
            .order_by(AuditLog.created_at)
        ).all()
    assert statuses == {held["id"]: "fulfilled", also_held["id"]: "refunded"}
    assert [tuple(a) for a in audit] == [
        ("order.approve", admin.user_id, held["id"], {"reason": "known buyer"}),
        ("order.cancel", admin.user_id, also_held["id"], {"reason": "stolen card"}),
    ]
    assert [r["custom_id"] for r in paypal.refunds] == [also_held["id"]]  # refunded once
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 1}
