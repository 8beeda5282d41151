"""POST /v1/servers/grants: game servers grant and spend for players with a grants:write key,
once per Idempotency-Key, audited with the key as the actor."""

from __future__ import annotations

from sqlalchemy import delete, select

from player_platform.audit.models import AuditLog
from player_platform.idempotency.models import IdempotencyRecord
from player_platform.wallet.models import LedgerEntry
from tests.support import bearer, create_api_key, signed_up


def server(key: str, idempotency_key: str) -> dict[str, str]:
    return {"Authorization": f"ApiKey {key}", "Idempotency-Key": idempotency_key}


def grant(client, headers, user_id, sku_id="starter", quantity=1, action="grant"):
    return client.post(
        "/v1/servers/grants",
        json={"user_id": user_id, "action": action, "sku_id": sku_id, "quantity": quantity},
        headers=headers,
    )


def test_server_grants_need_a_key_with_the_grants_scope(client, admin, catalog, platform):
    player = signed_up(platform)
    user_id = player["user"]["id"]
    anonymous = grant(client, {"Idempotency-Key": "a"}, user_id)
    assert (anonymous.status_code, anonymous.get_json()["code"]) == (401, "api_key_required")
    as_player = grant(client, {**bearer(player["access_token"]), "Idempotency-Key": "a"}, user_id)
    assert (as_player.status_code, as_player.get_json()["code"]) == (401, "api_key_required")
    wrong_key = grant(client, server("pp_not-a-key", "a"), user_id)
    assert (wrong_key.status_code, wrong_key.get_json()["code"]) == (401, "invalid_api_key")
    scores_only = create_api_key(client, admin, scopes=["leaderboards:write"])["key"]
    unscoped = grant(client, server(scores_only, "a"), user_id)
    assert (unscoped.status_code, unscoped.get_json()["code"]) == (403, "missing_scope")
    mine = bearer(player["access_token"])
    assert client.get("/v1/me/entitlements", headers=mine).get_json()["items"] == []
    assert client.get("/v1/me/wallet", headers=mine).get_json()["balances"] == {}


def test_a_retried_server_grant_is_one_grant(client, admin, catalog, platform, redis):
    player = signed_up(platform)
    user_id, mine = player["user"]["id"], bearer(player["access_token"])
    created = create_api_key(client, admin, scopes=["grants:write"])
    headers = server(created["key"], "match-42-reward")

    first = grant(client, headers, user_id)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert [e["sku_id"] for e in body["entitlements"]] == ["sword"]
    assert body["balances"] == {"gems": 100}
    again = grant(client, headers, user_id)
    assert again.get_json() == body
    assert again.headers["Idempotent-Replayed"] == "true"

    # Even once the replay record is gone (expired), the effects are keyed in SQL.
    with platform.db.unit_of_work() as session:
        session.execute(delete(IdempotencyRecord))
    redis.flushdb()
    late = grant(client, headers, user_id)
    assert late.status_code == 200
    assert late.get_json()["entitlements"] == body["entitlements"]

    assert client.get("/v1/me/wallet", headers=mine).get_json()["balances"] == {"gems": 100}
    owned = client.get("/v1/me/entitlements", headers=mine).get_json()["items"]
    assert [e["sku_id"] for e in owned] == ["sword"]
    reused = grant(client, headers, user_id, sku_id="gems", quantity=5)
    assert (reused.status_code, reused.get_json()["code"]) == (422, "idempotency_key_reused")
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(LedgerEntry.quantity)) == 100
        audits = session.scalars(
            select(AuditLog).where(AuditLog.action == "wallet.server_grant")
        ).all()
    assert {a.new_values["api_key_id"] for a in audits} == {created["id"]}
    assert all(a.resource_id == user_id for a in audits)
    assert created["key"] not in str([a.new_values for a in audits])


def test_a_server_spend_beyond_the_balance_is_refused(client, admin, catalog, platform):
    player = signed_up(platform)
    user_id, mine = player["user"]["id"], bearer(player["access_token"])
    key = create_api_key(client, admin, scopes=["grants:write"])["key"]
    assert grant(client, server(key, "g"), user_id, sku_id="gems", quantity=50).status_code == 200

    spent = grant(client, server(key, "s1"), user_id, sku_id="gems", quantity=30, action="spend")
    assert spent.status_code == 200
    assert spent.get_json()["balances"] == {"gems": 20}
    broke = grant(client, server(key, "s2"), user_id, sku_id="gems", quantity=30, action="spend")
    assert (broke.status_code, broke.get_json()["code"]) == (409, "insufficient_funds")
    assert broke.get_json()["balance"] == 20
    durable = grant(client, server(key, "s3"), user_id, sku_id="sword", action="spend")
    assert (durable.status_code, durable.get_json()["code"]) == (422, "not_a_consumable")
    assert client.get("/v1/me/wallet", headers=mine).get_json()["balances"] == {"gems": 20}
    with platform.db.unit_of_work() as session:
        actions = session.scalars(
            select(AuditLog.action).where(
                AuditLog.resource_id == user_id, AuditLog.action.like("wallet.%")
            )
        )
        assert sorted(actions) == ["wallet.server_grant", "wallet.server_spend"]


def test_a_server_grant_names_an_existing_player_and_takes_an_idempotency_key(
    client, admin, catalog, platform
):
    key = create_api_key(client, admin, scopes=["grants:write"])["key"]
    nobody = grant(client, server(key, "n"), "00000000-0000-4000-8000-000000000000")
    assert (nobody.status_code, nobody.get_json()["code"]) == (404, "user_not_found")
    player = signed_up(platform)
    keyless = grant(client, {"Authorization": f"ApiKey {key}"}, player["user"]["id"])
    assert keyless.status_code == 422
    assert "Idempotency-Key" in keyless.get_json()["errors"]
