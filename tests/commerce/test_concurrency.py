"""Invariants 1 and 4 under real concurrency: threads against the live server on PostgreSQL."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from player_platform.commerce.models import Order
from player_platform.db import utcnow
from player_platform.wallet import service as wallet
from player_platform.wallet.models import Entitlement, LedgerEntry, Wallet
from tests.commerce.conftest import _steam_ids, seed_catalog


def _steam_sign_in(live_server, steam) -> tuple[dict, str]:
    steam_id = str(next(_steam_ids))
    body = requests.post(
        f"{live_server}/v1/auth/steam", json={"ticket": steam.add_ticket(steam_id)}, timeout=10
    ).json()
    return {"Authorization": f"Bearer {body['access_token']}"}, body["user"]["id"]


def test_fifty_concurrent_verifications_of_one_receipt_grant_once(
    live_server, live_platform, steam
):
    seed_catalog(live_platform)
    headers, user_id = _steam_sign_in(live_server, steam)
    init = requests.post(
        f"{live_server}/v1/commerce/steam/init",
        json={"sku_id": "starter", "quantity": 1},
        headers=headers,
        timeout=10,
    ).json()
    orderid = init["payment"]["orderid"]
    steam.approve(orderid)

    def verify(i: int) -> int:
        return requests.post(
            f"{live_server}/v1/commerce/verify-receipt",
            json={"provider": "steam", "orderid": orderid},
            headers={**headers, "Idempotency-Key": f"attempt-{i % 5}"},
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(verify, range(50)))
    assert set(statuses) <= {200, 409}  # 409: same key still in progress on another thread
    assert statuses.count(200) >= 5
    with live_platform.db.unit_of_work() as session:
        user = uuid.UUID(user_id)
        assert session.scalar(select(func.count()).where(Order.user_id == user)) == 1
        assert session.scalar(select(func.count()).select_from(Entitlement)) == 1
        gems = session.scalar(select(Wallet).where(Wallet.user_id == user))
        assert gems.balance == 100
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_two_hundred_concurrent_spends_never_overdraw_one_wallet(live_server, live_platform, steam):
    seed_catalog(live_platform)
    headers, user_id = _steam_sign_in(live_server, steam)
    with live_platform.db.unit_of_work() as session:
        wallet.credit(
            session, user_id=uuid.UUID(user_id), sku_id="gems", quantity=150, now=utcnow()
        )

    def spend(_: int) -> requests.Response:
        return requests.post(
            f"{live_server}/v1/me/wallet/spend",
            json={"sku_id": "gems", "quantity": 1, "reason": "potion"},
            headers=headers,
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(spend, range(200)))
    codes = [r.status_code for r in responses]
    assert codes.count(200) == 150
    assert {r.json()["code"] for r in responses if r.status_code != 200} == {"insufficient_funds"}
    with live_platform.db.unit_of_work() as session:
        account = session.scalar(select(Wallet).where(Wallet.user_id == uuid.UUID(user_id)))
        entries = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.wallet_id == account.id)
            .order_by(LedgerEntry.created_at, LedgerEntry.balance_after.desc())
        ).all()
        assert account.balance == 0
        assert sum(e.quantity for e in entries) == account.balance
        assert min(e.balance_after for e in entries) == 0
        assert sorted(e.balance_after for e in entries) == list(range(151))
        assert wallet.reconcile(session) == []
