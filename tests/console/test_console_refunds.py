"""A refund an admin approves in the console: the order shows refunded, the player's
entitlement is revoked, the audit page shows the approval (fake Steam on loopback)."""

from __future__ import annotations

from player_platform.app import create_app
from tests.commerce.conftest import buy_on_steam, seed_catalog, steam_player
from tests.console.conftest import sign_in, staff_member


def test_an_admin_approves_a_refund_in_the_console(live_server, live_platform, steam, pages):
    seed_catalog(live_platform)
    client = create_app(platform=live_platform).test_client()
    headers, _ = steam_player(client, steam)
    bought = buy_on_steam(client, steam, headers, sku_id="starter")  # the sword and 100 gems
    order_id = bought["order"]["id"]
    client.post("/v1/me/wallet/spend", json={"sku_id": "gems", "quantity": 10}, headers=headers)
    refund = client.post(
        f"/v1/orders/{order_id}/refund-requests", json={"reason": "changed my mind"},
        headers=headers,
    ).get_json()  # fmt: skip
    assert refund["status"] == "pending"  # gems were spent: an admin decides

    page = pages()
    sign_in(page, live_server, staff_member(live_platform, role="admin", name="Refunder"))
    page.goto(f"{live_server}/moderation/refunds")
    row = page.locator("tr", has_text="changed my mind")
    row.locator("input[name=reason]").fill("goodwill")
    row.locator("button:has-text('Approve')").click()
    assert "Refund request" in page.inner_text(".flash")
    assert steam.txns[bought["order"]["provider_order_id"]]["status"] == "Refunded"

    page.goto(f"{live_server}/moderation/orders?status=refunded")
    assert order_id in page.inner_text("table")
    assert client.get(f"/v1/orders/{order_id}", headers=headers).get_json()["status"] == "refunded"
    revoked = client.get("/v1/me/entitlements?status=revoked", headers=headers).get_json()
    assert [(e["sku_id"], e["revocation_reason"]) for e in revoked["items"]] == [
        ("sword", "refunded")
    ]
    assert client.get("/v1/me/entitlements", headers=headers).get_json()["items"] == []

    page.goto(f"{live_server}/moderation/audit?action=refund.approved")
    log = page.inner_text("table")
    assert "refund.approved" in log and "Refunder" in log and refund["id"] in log
