"""Steam purchases end to end against the fake ISteamMicroTxn: grant once, replays refused."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from player_platform.audit.models import AuditLog
from player_platform.commerce.models import Order
from tests.commerce.conftest import buy_on_steam, steam_player


def test_steam_purchase_is_initiated_finalized_and_granted(client, steam, catalog, platform):
    headers, steam_id = steam_player(client, steam)
    init = client.post(
        "/v1/commerce/steam/init", json={"sku_id": "starter", "quantity": 2}, headers=headers
    ).get_json()
    assert init["order"]["status"] == "pending"
    assert init["order"]["total"] == 1998
    txn = steam.txns[init["payment"]["orderid"]]
    assert txn["steamid"] == steam_id
    assert txn["items"] == [
        {"itemid": 1003, "qty": 2, "amount": 1998, "vat": 0, "itemstatus": "Init"}
    ]

    not_yet = client.post(
        "/v1/commerce/steam/finalize", json={"order_id": init["order"]["id"]}, headers=headers
    )
    assert not_yet.status_code == 402
    assert not_yet.get_json()["code"] == "payment_pending"

    steam.approve(init["payment"]["orderid"])
    done = client.post(
        "/v1/commerce/steam/finalize", json={"order_id": init["order"]["id"]}, headers=headers
    ).get_json()
    assert done["order"]["status"] == "fulfilled"
    assert [e["sku_id"] for e in done["entitlements"]] == ["sword"]
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 200}
    assert steam.txns[init["payment"]["orderid"]]["status"] == "Succeeded"

    receipt = json.loads(platform.storage.get(f"receipts/{init['order']['id']}.json"))
    assert receipt["steam"]["status"] == "Succeeded"

    again = client.post(
        "/v1/commerce/steam/finalize", json={"order_id": init["order"]["id"]}, headers=headers
    ).get_json()
    assert again["order"]["status"] == "fulfilled"
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 200}


def test_verify_receipt_replays_by_owner_and_refuses_other_accounts(
    client, steam, catalog, platform
):
    owner, _ = steam_player(client, steam)
    bought = buy_on_steam(client, steam, owner)
    orderid = bought["order"]["provider_order_id"]

    replay = client.post(
        "/v1/commerce/verify-receipt",
        json={"provider": "steam", "orderid": orderid},
        headers={**owner, "Idempotency-Key": "k1"},
    )
    assert replay.status_code == 200
    assert replay.get_json()["entitlements"] == bought["entitlements"]

    thief, _ = steam_player(client, steam)
    for _ in range(2):  # the key is freed: a retry is judged again, not stuck "in progress"
        stolen = client.post(
            "/v1/commerce/verify-receipt",
            json={"provider": "steam", "orderid": orderid},
            headers={**thief, "Idempotency-Key": "k2"},
        )
        assert stolen.status_code == 409
        assert stolen.get_json()["code"] == "receipt_already_used"
    assert client.get("/v1/me/entitlements", headers=thief).get_json()["items"] == []
    with platform.db.unit_of_work() as session:
        order = session.get(Order, uuid.UUID(bought["order"]["id"]))
        assert order.flagged_at is not None
        audits = session.scalars(
            select(AuditLog).where(AuditLog.action == "receipt.replayed")
        ).all()
        assert len(audits) == 2 and audits[0].resource_id == str(order.id)


def test_a_receipt_of_another_steam_account_is_invalid(client, steam, catalog):
    owner, _ = steam_player(client, steam)
    init = client.post(
        "/v1/commerce/steam/init", json={"sku_id": "sword", "quantity": 1}, headers=owner
    ).get_json()
    orderid = init["payment"]["orderid"]
    steam.approve(orderid)
    # Unknown to us (say the order row was lost): it is adopted only for its Steam account.
    other, _ = steam_player(client, steam)
    response = client.post(
        "/v1/commerce/verify-receipt", json={"provider": "steam", "orderid": "12345"}, headers=other
    )
    assert response.status_code == 402
    assert response.get_json()["code"] == "receipt_invalid"


def test_init_needs_a_linked_steam_account_and_a_steam_price(client, steam, catalog, platform):
    from tests.support import bearer, signed_up

    email_only = bearer(signed_up(platform)["access_token"])
    response = client.post(
        "/v1/commerce/steam/init", json={"sku_id": "sword", "quantity": 1}, headers=email_only
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == "steam_not_linked"
    headers, _ = steam_player(client, steam)
    response = client.post(
        "/v1/commerce/steam/init",
        json={"sku_id": "sword", "quantity": 1, "currency": "JPY"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "price_unavailable"


def test_sandbox_setting_uses_the_sandbox_interface(app, client, steam, catalog, platform):
    import dataclasses

    sandboxed = dataclasses.replace(platform.settings, steam_sandbox=True)
    platform.settings = sandboxed
    headers, _ = steam_player(client, steam)
    buy_on_steam(client, steam, headers)
    assert steam.sandbox_calls >= 3
    assert platform.steam_microtxn.interface == "ISteamMicroTxnSandbox"


def test_only_the_buyer_can_finalize_a_steam_order(client, steam, catalog):
    buyer, _ = steam_player(client, steam)
    other, _ = steam_player(client, steam)
    init = client.post(
        "/v1/commerce/steam/init", json={"sku_id": "gems", "quantity": 1}, headers=buyer
    ).get_json()
    steam.approve(init["payment"]["orderid"])
    for order_id in (init["order"]["id"], "00000000-0000-4000-8000-000000000000"):
        refused = client.post(
            "/v1/commerce/steam/finalize", json={"order_id": order_id}, headers=other
        )
        assert (refused.status_code, refused.get_json()["code"]) == (404, "order_not_found")
    assert steam.txns[init["payment"]["orderid"]]["status"] == "Approved"  # not finalized
    assert client.get("/v1/me/wallet", headers=other).get_json()["balances"] == {}
