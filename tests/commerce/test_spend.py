"""A spend moves the balance and writes its ledger entry together (one statement on
PostgreSQL); what it cannot spend it refuses with the reason, and spends nothing."""

from __future__ import annotations

from sqlalchemy import select

from player_platform.db import utcnow
from player_platform.identity.models import Identity
from player_platform.wallet import service as wallet
from player_platform.wallet.models import LedgerEntry, Wallet
from tests.commerce.conftest import steam_player


def spend(client, headers, **body):
    return client.post("/v1/me/wallet/spend", json={"sku_id": "gems", **body}, headers=headers)


def test_a_spend_writes_its_entry_with_the_balance_it_left(client, platform, steam, catalog):
    headers, steam_id = steam_player(client, steam)
    with platform.db.unit_of_work() as session:
        user_id = session.scalar(select(Identity.user_id).where(Identity.provider_id == steam_id))
        wallet.credit(session, user_id=user_id, sku_id="gems", quantity=10, now=utcnow())

    first = spend(client, headers, quantity=3, reason="potion")
    assert (first.status_code, first.get_json()) == (200, {"sku_id": "gems", "balance": 7})
    too_much = spend(client, headers, quantity=8)
    assert (too_much.status_code, too_much.get_json()["code"]) == (409, "insufficient_funds")
    assert too_much.get_json()["balance"] == 7
    unknown = client.post(
        "/v1/me/wallet/spend", json={"sku_id": "nothing", "quantity": 1}, headers=headers
    )
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "sku_not_found")

    with platform.db.unit_of_work() as session:
        held = session.scalar(select(Wallet).where(Wallet.user_id == user_id))
        entries = session.execute(
            select(LedgerEntry.change_type, LedgerEntry.quantity, LedgerEntry.balance_after)
            .add_columns(LedgerEntry.reason)
            .where(LedgerEntry.wallet_id == held.id)
            .order_by(LedgerEntry.balance_after.desc())
        ).all()
        assert held.balance == 7
        assert [tuple(e) for e in entries] == [("grant", 10, 10, None), ("spend", -3, 7, "potion")]
        assert wallet.reconcile(session) == []


def test_a_player_without_a_wallet_cannot_spend(client, steam, catalog):
    headers, _ = steam_player(client, steam)
    refused = spend(client, headers, quantity=1)
    assert (refused.status_code, refused.get_json()["code"]) == (409, "insufficient_funds")
