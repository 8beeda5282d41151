"""Account merge moves wallets (as transfer entries) and entitlements to the surviving account."""

from __future__ import annotations

from tests.commerce.conftest import buy_on_steam, steam_player
from tests.support import bearer, signed_up


def test_merge_moves_entitlements_and_balances_as_transfers(client, steam, catalog, platform):
    retired_headers, steam_id = steam_player(client, steam)
    buy_on_steam(client, steam, retired_headers, sku_id="starter")
    proof = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(steam_id)}).get_json()
    headers = bearer(signed_up(platform)["access_token"])

    merged = client.post(
        "/v1/me/merge", json={"proof": {"refresh_token": proof["refresh_token"]}}, headers=headers
    )
    assert merged.status_code == 200, merged.get_json()
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 100}
    owned = client.get("/v1/me/entitlements", headers=headers).get_json()["items"]
    assert [e["sku_id"] for e in owned] == ["sword"]
    ledger = client.get("/v1/me/ledger", headers=headers).get_json()["items"]
    assert [(e["change_type"], e["quantity"], e["balance_after"]) for e in ledger] == [
        ("transfer", 100, 100)
    ]
