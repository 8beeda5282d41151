"""Invariant 2 under real concurrency on PostgreSQL: purchases through the live server and
their fulfilment jobs run at once over a pool smaller than the demand; every key is sold
once, every other order is backordered; killed workers and re-runs deliver nothing twice;
rotation re-seals while claims run."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import requests
from sqlalchemy import func, select, update

from player_platform.commerce.models import Order
from player_platform.db import utcnow
from player_platform.keys import codes, fulfilment, rotation
from player_platform.keys.models import GameKey, KeyLine
from player_platform.messaging.models import Message
from player_platform.platform import Platform
from player_platform.security.vault import Vault
from tests.keys.conftest import drain, seed_game, steam_code
from tests.support import bearer, kill_worker, signed_up, staff_tokens, worker_process

POOL, BUYERS = 12, 30


def _import(live_server, admin, count) -> list[str]:
    batch = [steam_code() for _ in range(count)]
    response = requests.post(
        f"{live_server}/v1/admin/keys/bulk-import?sku_id=game",
        data="\n".join(batch).encode(),
        headers={**admin, "Content-Type": "text/csv"},
        timeout=60,
    )
    assert response.json()["imported"] == count
    return batch


def _purchase(live_server, stripe, headers) -> str:
    bought = requests.post(
        f"{live_server}/v1/checkout",
        json={"items": [{"sku_id": "game", "quantity": 1}], "currency": "USD"},
        headers=headers,
        timeout=60,
    )
    assert bought.status_code == 201, bought.text
    bought = bought.json()
    intent_id = bought["payment"]["payment_intent_id"]
    stripe.succeed(intent_id)
    verified = requests.post(
        f"{live_server}/v1/commerce/verify-receipt",
        json={"provider": "stripe", "payment_intent_id": intent_id},
        headers=headers,
        timeout=60,
    )
    assert verified.status_code == 200, verified.text
    return bought["order"]["id"]


def test_concurrent_purchases_over_a_small_pool_sell_each_key_once_and_backorder_the_rest(
    live_server, live_platform, stripe
):
    seed_game(live_platform)
    admin = bearer(staff_tokens(live_platform, role="admin")["access_token"])
    _import(live_server, admin, POOL)
    buyers = [bearer(signed_up(live_platform)["access_token"]) for _ in range(BUYERS)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        order_ids = list(pool.map(lambda h: _purchase(live_server, stripe, h), buyers))
    ctx = live_platform.key_fulfilment

    def fulfil(order_id: str) -> None:
        fulfilment.fulfil_order(ctx, uuid.UUID(order_id))

    # Every order twice (a duplicate job), concurrently on 6 threads.
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(fulfil, order_ids + order_ids))

    with live_platform.db.unit_of_work() as session:
        sold = session.execute(
            select(GameKey.order_id, func.count())
            .where(GameKey.status == "delivered")
            .group_by(GameKey.order_id)
        ).all()
        statuses = dict(
            session.execute(
                select(Order.id, Order.status).where(Order.id.in_(map(uuid.UUID, order_ids)))
            ).all()
        )
        keys = session.scalar(select(func.count()).select_from(GameKey))
    assert keys == POOL
    assert len(sold) == POOL and {count for _, count in sold} == {1}
    with_key = {order_id for order_id, _ in sold}
    assert all(statuses[o] == "fulfilled" for o in with_key)
    without = set(statuses) - with_key
    assert len(without) == BUYERS - POOL
    assert {statuses[o] for o in without} == {"backordered"}


def test_a_killed_worker_and_reruns_deliver_each_key_once(live_platform, settings, stripe):
    seed_game(live_platform)
    with live_platform.db.unit_of_work() as session:
        from player_platform.keys import importer  # the service, as the CLI uses it

        del importer
    from player_platform.app import create_app

    client = create_app(platform=live_platform).test_client()
    admin = bearer(staff_tokens(live_platform, role="admin")["access_token"])
    client.post(
        "/v1/admin/keys/bulk-import?sku_id=game",
        data="\n".join(steam_code() for _ in range(3)).encode(),
        headers={**admin, "Content-Type": "text/csv"},
    )
    from tests.keys.conftest import buy

    headers = bearer(signed_up(live_platform)["access_token"])
    order_id = buy(client, stripe, headers, quantity=3)
    worker = worker_process(settings, "fulfilment")
    kill_worker(worker)  # at whatever point it had reached
    # A run that died after asking a supplier, as the retry finds it much later.
    with live_platform.db.unit_of_work() as session:
        session.execute(update(KeyLine).values(updated_at=utcnow() - timedelta(hours=1)))
    ctx = live_platform.key_fulfilment
    fulfilment.retry(ctx)
    fulfilment.fulfil_order(ctx, uuid.UUID(order_id))
    fulfilment.retry(ctx)
    drain(live_platform)
    with live_platform.db.unit_of_work() as session:
        delivered = session.scalars(
            select(GameKey.id).where(
                GameKey.order_id == uuid.UUID(order_id), GameKey.status == "delivered"
            )
        ).all()
        notices = session.scalar(
            select(func.count()).select_from(Message).where(Message.kind == "keys.delivered")
        )
        order = session.get(Order, uuid.UUID(order_id))
    assert len(delivered) == 3 and order.status == "fulfilled"
    assert notices == 1


def test_rotation_reseals_every_key_while_claims_run(live_platform, settings, stripe):
    seed_game(live_platform)
    old_vault = live_platform.vault
    with live_platform.db.unit_of_work() as session:
        from player_platform.keys import inventory

        pool = inventory.ensure_pool(
            session, sku_id="game", platform="steam", threshold=0, now=utcnow()
        )
        plain = {}
        for _ in range(400):
            code = steam_code()
            sealed = codes.seal(old_vault, code)
            plain[sealed.id] = code
            session.add(
                GameKey(
                    id=sealed.id, pool_id=pool.id, sku_id="game", platform="steam",
                    sealed_code=sealed.sealed_code, vault_kid=sealed.vault_kid,
                    code_hash=sealed.code_hash, hint=sealed.hint,
                )
            )  # fmt: skip
    new_spec = "next:" + "N" * 43 + "=," + settings.key_vault_keys
    new_vault = Vault(new_spec, hash_secret=settings.secret_key)
    owner = uuid.UUID(signed_up(live_platform)["user"]["id"])
    claimed: list[uuid.UUID] = []

    def claim_many() -> None:
        for _ in range(100):
            with live_platform.db.unit_of_work() as session:
                from player_platform.keys import store

                claimed.extend(
                    k.id for k in store.claim(
                        session, sku_id="game", quantity=1, owner_id=owner, now=utcnow()
                    )
                )  # fmt: skip

    claimers = [threading.Thread(target=claim_many) for _ in range(2)]
    for thread in claimers:
        thread.start()
    done = rotation.rotate(live_platform.db, new_vault, batch=25)
    for thread in claimers:
        thread.join()
    assert done == 400 and len(claimed) == len(set(claimed)) == 200
    assert rotation.remaining(live_platform.db, new_vault) == 0
    with live_platform.db.unit_of_work() as session:
        rows = session.execute(select(GameKey.id, GameKey.sealed_code)).all()
    assert {sealed.partition(":")[0] for _, sealed in rows} == {"next"}
    for key_id, sealed in rows:
        assert new_vault.open(sealed, context=codes.context(key_id)) == plain[key_id]
    assert isinstance(live_platform, Platform)
