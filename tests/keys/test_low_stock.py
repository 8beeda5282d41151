"""The low-stock alert fires once per crossing (not per sale), re-arms when stock rises above
the threshold again, and shows in the log, /metrics and the admins' inbox."""

from __future__ import annotations

import logging

from tests.keys.conftest import buy, drain, import_csv, seed_game, steam_code
from tests.support import bearer, signed_up


def _alerts(client) -> str:
    metrics = client.get("/metrics").get_data(as_text=True)
    return [line for line in metrics.splitlines() if line.startswith("pp_key_")]


def test_one_alert_per_crossing_rearmed_above_the_threshold(
    client, admin, admin_user, platform, stripe, caplog
):
    seed_game(platform)
    caplog.set_level(logging.WARNING, logger="player_platform.keys.inventory")
    import_csv(client, admin, [steam_code() for _ in range(12)])  # threshold 10: above it
    assert not [r for r in caplog.records if r.message == "key pool low on stock"]
    buyer = bearer(signed_up(platform)["access_token"])
    for _ in range(4):  # 11, 10 (crossing), 9, 8
        buy(client, stripe, buyer)
        drain(platform)
    low = [r for r in caplog.records if r.message == "key pool low on stock"]
    assert [(r.sku, r.available, r.threshold) for r in low] == [("game", 10, 10)]
    inventory = client.get("/v1/admin/inventory", headers=admin).get_json()["items"]
    assert [(p["available"], p["assigned"], p["low_stock"]) for p in inventory] == [(8, 4, True)]
    inbox = client.get("/v1/me/inbox", headers=admin).get_json()["items"]
    assert [m["subject"] for m in inbox] == ["Game keys running low"]
    assert "pp_key_pools_low_stock 1.0" in _alerts(client)

    import_csv(client, admin, [steam_code() for _ in range(5)])  # 13: re-armed
    assert (
        client.get("/v1/admin/inventory", headers=admin).get_json()["items"][0]["low_stock"]
        is False
    )
    for _ in range(3):  # 12, 11, 10 (a second crossing)
        buy(client, stripe, buyer)
        drain(platform)
    low = [r for r in caplog.records if r.message == "key pool low on stock"]
    assert len(low) == 2
    assert admin_user.user_id
