"""Resellers buy game keys in bulk from a prepaid balance with a `keys:purchase` API key:
exactly one order per Idempotency-Key (also under concurrent retries), 409
insufficient_funds leaving nothing behind, admin top-ups audited."""

from __future__ import annotations

import threading
import uuid
from typing import NamedTuple

import requests
from sqlalchemy import func, select

from player_platform.app import create_app
from player_platform.audit.models import AuditLog
from player_platform.commerce.models import Order
from player_platform.identity.models import User
from player_platform.wallet.models import LedgerEntry
from tests import factories
from tests.keys.conftest import drain, import_csv, steam_code
from tests.support import bearer

KEY_SKU = {
    "sku_id": "indie-key",
    "type": "game_key",
    "name": "Indie Game (Steam key)",
    "prices": {"USD": 1500},
    "platforms": ["steam"],
}
BALANCE_SKU = {
    "sku_id": "reseller_credit",
    "type": "consumable",
    "name": "Reseller balance (cents)",
    "prices": {"USD": 1},
}


class Reseller(NamedTuple):
    user_id: uuid.UUID
    api_key: dict[str, str]  # Authorization: ApiKey ...
    signed_in: dict[str, str]  # the account's own Bearer headers


def reseller_key(platform, client, admin) -> Reseller:
    """The catalog resellers buy from, a reseller account and its API key's headers."""
    with platform.db.unit_of_work() as session:
        factories.sku(session, **KEY_SKU)
        factories.sku(session, **BALANCE_SKU)
    return reseller_key_for(platform, client, admin, "key shop")


def reseller_key_for(platform, client, admin, name: str) -> Reseller:
    """A reseller account and its API key's headers."""
    with platform.db.unit_of_work() as session:
        reseller = factories.player(session, platform, display_name=name)
        session.get(User, reseller.user_id).roles = ["player", "reseller"]
    created = client.post(
        "/v1/admin/api-keys",
        json={"name": name, "scopes": ["keys:purchase"], "owner_id": str(reseller.user_id)},
        headers=admin,
    )
    assert created.status_code == 201, created.get_json()
    return Reseller(
        reseller.user_id,
        {"Authorization": f"ApiKey {created.get_json()['key']}"},
        bearer(reseller.access_token),
    )


def top_up(client, admin, user_id, amount, **headers):
    return client.post(
        f"/v1/admin/resellers/{user_id}/balance",
        json={"amount": amount, "reason": "wire transfer 42"},
        headers={**admin, **headers},
    )


def buy(client, headers, idempotency_key, quantity=3):
    return client.post(
        "/v1/reseller/orders",
        json={"items": [{"sku_id": "indie-key", "quantity": quantity}]},
        headers={**headers, "Idempotency-Key": idempotency_key},
    )


def test_a_reseller_buys_from_its_balance_once_per_idempotency_key(client, platform, admin):
    user_id, headers, _ = reseller_key(platform, client, admin)
    topped = top_up(client, admin, user_id, 5000, **{"Idempotency-Key": "wire-42"})
    assert topped.get_json() == {"user_id": str(user_id), "balance": 5000}
    assert (
        top_up(client, admin, user_id, 5000, **{"Idempotency-Key": "wire-42"}).get_json()["balance"]
        == 5000
    )

    bought = buy(client, headers, "po-1001")
    assert bought.status_code == 201, bought.get_json()
    order = bought.get_json()["order"]
    assert bought.get_json()["balance"] == 500
    assert (order["provider"], order["status"], order["total"]) == (
        "reseller_balance",
        "fulfilled",
        4500,
    )
    again = buy(client, headers, "po-1001")
    assert again.get_json()["order"]["id"] == order["id"]
    assert again.headers["Idempotent-Replayed"] == "true"

    short = buy(client, headers, "po-1002", quantity=1)
    assert short.status_code == 409 and short.get_json()["code"] == "insufficient_funds"
    no_key = client.post(
        "/v1/reseller/orders",
        json={"items": [{"sku_id": "indie-key", "quantity": 1}]},
        headers=headers,
    )
    assert no_key.status_code == 422
    not_keys = client.post(
        "/v1/reseller/orders",
        json={"items": [{"sku_id": "reseller_credit", "quantity": 1}]},
        headers={**headers, "Idempotency-Key": "po-1003"},
    )
    assert not_keys.status_code == 422 and not_keys.get_json()["code"] == "not_a_game_key"
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.action.like("reseller.%"))
        ).all()
        assert sorted(actions) == ["reseller.purchase", "reseller.top_up"]


def test_keys_without_the_scope_or_a_reseller_account_cannot_buy(client, platform, admin):
    user_id, _, _ = reseller_key(platform, client, admin)
    grants_key = client.post(
        "/v1/admin/api-keys", json={"name": "server", "scopes": ["grants:write"]}, headers=admin
    ).get_json()["key"]
    ownerless = client.post(
        "/v1/admin/api-keys", json={"name": "nobody", "scopes": ["keys:purchase"]}, headers=admin
    ).get_json()["key"]
    for key, code in ((grants_key, "missing_scope"), (ownerless, "not_a_reseller")):
        refused = buy(client, {"Authorization": f"ApiKey {key}"}, "po-x")
        assert refused.status_code == 403 and refused.get_json()["code"] == code
    with platform.db.unit_of_work() as session:
        player_id = factories.player(session, platform).user_id
    not_reseller = top_up(client, admin, player_id, 100)
    assert not_reseller.status_code == 422 and not_reseller.get_json()["code"] == "not_a_reseller"
    assert top_up(client, admin, user_id, 100).get_json()["balance"] == 100


def test_concurrent_retries_of_one_idempotency_key_make_one_order(live_server, live_platform):
    with live_platform.db.unit_of_work() as session:
        admin = bearer(factories.staff(session, live_platform, role="admin").access_token)
    client = create_app(platform=live_platform).test_client()
    user_id, headers, _ = reseller_key(live_platform, client, admin)
    top_up(client, admin, user_id, 10_000)
    answers: list[tuple[int, str | None]] = []

    def retry():
        response = requests.post(
            f"{live_server}/v1/reseller/orders",
            json={"items": [{"sku_id": "indie-key", "quantity": 2}]},
            headers={**headers, "Idempotency-Key": "po-storm"},
            timeout=30,
        )
        body = response.json()
        answers.append(
            (response.status_code, (body.get("order") or {}).get("id") or body.get("code"))
        )

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = {value for status, value in answers if status == 201}
    assert len(created) == 1
    assert {value for status, value in answers if status != 201} <= {"idempotency_key_in_progress"}
    with live_platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        ledger = session.scalars(
            select(LedgerEntry.quantity).where(LedgerEntry.sku_id == "reseller_credit")
        ).all()
        assert sorted(ledger) == [-3000, 10_000]


def test_a_reseller_gets_the_codes_of_its_bulk_order_from_the_pool(client, platform, admin):
    user_id, headers, _ = reseller_key(platform, client, admin)
    codes = [steam_code() for _ in range(5)]
    assert import_csv(client, admin, codes, sku_id="indie-key")["imported"] == 5
    top_up(client, admin, user_id, 10_000)
    order = buy(client, headers, "po-keys", quantity=3).get_json()["order"]
    drain(platform, "fulfilment")

    delivered = client.get(f"/v1/reseller/orders/{order['id']}/keys", headers=headers)
    assert delivered.status_code == 200 and delivered.headers["Cache-Control"] == "no-store"
    got = [k["code"] for k in delivered.get_json()["items"]]
    assert len(got) == 3 and set(got) <= set(codes)
    again = client.get(f"/v1/reseller/orders/{order['id']}/keys", headers=headers).get_json()
    assert [k["code"] for k in again["items"]] == got
    with platform.db.unit_of_work() as session:
        reveals = session.scalars(select(AuditLog).where(AuditLog.action == "key.reveal")).all()
        assert len(reveals) == 6 and {r.actor_id for r in reveals} == {user_id}

    _, other, _ = reseller_key_for(platform, client, admin, "other shop")
    foreign = client.get(f"/v1/reseller/orders/{order['id']}/keys", headers=other)
    assert foreign.status_code == 404 and foreign.get_json()["code"] == "order_not_found"


def test_a_refunded_reseller_order_returns_its_price_to_the_balance(client, platform, admin):
    user_id, headers, account = reseller_key(platform, client, admin)
    top_up(client, admin, user_id, 5000)
    order = buy(client, headers, "po-refund", quantity=2).get_json()["order"]
    asked = client.post(
        f"/v1/orders/{order['id']}/refund-requests", json={"reason": "wrong game"}, headers=account
    ).get_json()
    if asked["status"] == "pending":
        decided = client.post(
            f"/v1/admin/refund-requests/{asked['id']}/approve", json={}, headers=admin
        )
        asked = decided.get_json()
    assert asked["status"] == "approved"
    assert client.get(f"/v1/orders/{order['id']}", headers=account).get_json()["status"] == (
        "refunded"
    )
    ledger = client.get("/v1/me/ledger", headers=account).get_json()["items"]
    assert [(e["change_type"], e["quantity"], e["balance_after"]) for e in ledger] == [
        ("refund", 3000, 5000),
        ("spend", -3000, 2000),
        ("grant", 5000, 5000),
    ]
