"""Keys a supplier delivers later (its webhook or a poll): ``receive_supplier_keys`` completes
the line that waits on that supplier order, once, and the order leaves its backorder."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update

from player_platform.db import utcnow
from player_platform.keys import fulfilment
from player_platform.keys.models import GameKey, KeyLine
from tests.keys.conftest import buy, drain, seed_game, steam_code
from tests.support import bearer, signed_up


def test_supplier_keys_complete_the_waiting_line_once(client, platform, stripe):
    seed_game(platform)
    headers = bearer(signed_up(platform)["access_token"])
    order_id = buy(client, stripe, headers)
    drain(platform)
    assert client.get(f"/v1/orders/{order_id}", headers=headers).get_json()["status"] == (
        "backordered"
    )
    # The supplier accepted the order and will deliver later (as a KeySource answers pending).
    with platform.db.unit_of_work() as session:
        session.execute(
            update(KeyLine)
            .where(KeyLine.order_id == uuid.UUID(order_id))
            .values(status="supplier_pending", supplier="kinguin", external_order_id="K-1")
        )
    code = steam_code()
    received = []
    for _ in range(2):  # the webhook, then its retry
        with platform.db.unit_of_work() as session:
            received.append(
                fulfilment.receive_supplier_keys(
                    session,
                    keeper=platform.key_keeper,
                    supplier="kinguin",
                    external_order_id="K-1",
                    codes=(code.lower(),),
                    now=utcnow(),
                )
            )
    drain(platform)
    assert received == [1, 0]
    keys = client.get("/v1/me/keys", headers=headers).get_json()["items"]
    assert [(k["status"], k["source"], k["masked_code"]) for k in keys] == [
        ("delivered", "kinguin", f"*****-{code[-5:]}")
    ]
    assert client.get(f"/v1/orders/{order_id}", headers=headers).get_json()["status"] == (
        "fulfilled"
    )
    subjects = [
        m["subject"] for m in client.get("/v1/me/inbox", headers=headers).get_json()["items"]
    ]
    assert subjects.count("Your game key is ready") == 1
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(GameKey)) == 1
        unknown = fulfilment.receive_supplier_keys(
            session, keeper=platform.key_keeper, supplier="kinguin",
            external_order_id="K-404", codes=(steam_code(),), now=utcnow(),
        )  # fmt: skip
    assert unknown == 0
