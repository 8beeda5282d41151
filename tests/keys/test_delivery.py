"""A paid key order: the key claimed from the pool, delivered masked, revealed to its owner
only (audited with the IP), announced in the inbox and by mail; a dry pool backorders and
the periodic retry delivers when stock arrives; refunds burn, revoke or return keys."""

from __future__ import annotations

import dataclasses
import json
import uuid

from sqlalchemy import select, update

from player_platform.app import create_app
from player_platform.audit.models import AuditLog
from player_platform.db import utcnow
from player_platform.identity.models import Identity, User
from player_platform.platform import Platform, bind_current
from player_platform.usecases import accounts
from tests.keys.conftest import buy, drain, import_csv, seed_game, steam_code
from tests.support import bearer, signed_up
from workers import keys as key_jobs


def _verified_player(platform) -> tuple[dict, dict]:
    player = signed_up(platform)
    with platform.db.unit_of_work() as session:
        session.execute(
            update(Identity)
            .where(Identity.provider_id == player["email"])
            .values(verified_at=Identity.linked_at)
        )
    return player, bearer(player["access_token"])


def test_a_paid_order_delivers_a_pool_key_masked_revealed_once_to_its_owner(
    client, admin, platform, stripe, mailbox
):
    seed_game(platform)
    code = steam_code()
    import_csv(client, admin, [code])
    player, headers = _verified_player(platform)
    order_id = buy(client, stripe, headers)
    drain(platform)

    mine = client.get("/v1/me/keys", headers=headers).get_json()["items"]
    assert [(k["sku_id"], k["status"], k["masked_code"]) for k in mine] == [
        ("game", "delivered", f"*****-{code[-5:]}")
    ]
    assert code not in json.dumps(mine)
    ordered = client.get(f"/v1/orders/{order_id}/keys", headers=headers).get_json()["items"]
    assert [k["id"] for k in ordered] == [mine[0]["id"]]
    inbox = client.get("/v1/me/inbox", headers=headers).get_json()["items"]
    assert [m["subject"] for m in inbox] == ["Your game key is ready"]
    mails = [m["Subject"] for m in mailbox.to(player["email"])]
    assert [s for s in mails if not s.startswith("Your invoice")] == ["Your game key is ready"]
    assert code not in str(mailbox.to(player["email"])[0])

    stranger = bearer(signed_up(platform)["access_token"])
    hidden = client.get(f"/v1/me/keys/{mine[0]['id']}/reveal", headers=stranger)
    assert (hidden.status_code, hidden.get_json()["code"]) == (404, "key_not_found")
    assert client.get(f"/v1/orders/{order_id}/keys", headers=stranger).status_code == 404

    shown = client.get(
        f"/v1/me/keys/{mine[0]['id']}/reveal",
        headers=headers,
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert shown.status_code == 200 and shown.get_json()["code"] == code
    assert shown.headers["Cache-Control"] == "no-store"
    with platform.db.unit_of_work() as session:
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "key.reveal")).one()
        assert audit.ip == "198.51.100.7" and audit.resource_id == mine[0]["id"]
        user = session.get(User, uuid.UUID(player["user"]["id"]))
        export = accounts.export(session, user=user, now=utcnow())
    assert export["keys"][0]["masked_code"] == f"*****-{code[-5:]}"
    assert code not in json.dumps(export, default=str)
    assert client.get("/v1/me/keys", headers=headers).get_json()["items"][0]["revealed_at"]


def test_a_dry_pool_backorders_then_the_retry_delivers_when_stock_arrives(
    client, admin, platform, stripe
):
    seed_game(platform)
    headers = bearer(signed_up(platform)["access_token"])
    order_id = buy(client, stripe, headers, quantity=2)
    import_csv(client, admin, [steam_code()])  # one of the two
    drain(platform)
    order = client.get(f"/v1/orders/{order_id}", headers=headers).get_json()
    assert order["status"] == "backordered"
    inbox = client.get("/v1/me/inbox", headers=headers).get_json()["items"]
    assert [m["subject"] for m in inbox] == ["Your key is on its way"]
    assert client.get("/v1/me/keys", headers=headers).get_json()["items"] == []  # not yet

    key_jobs.retry_backorders()  # still one short: nothing changes, nothing told again
    drain(platform)
    assert len(client.get("/v1/me/inbox", headers=headers).get_json()["items"]) == 1

    import_csv(client, admin, [steam_code()])
    key_jobs.retry_backorders()
    drain(platform)
    assert client.get(f"/v1/orders/{order_id}", headers=headers).get_json()["status"] == (
        "fulfilled"
    )
    keys = client.get("/v1/me/keys", headers=headers).get_json()["items"]
    assert [k["status"] for k in keys] == ["delivered", "delivered"]
    subjects = [
        m["subject"] for m in client.get("/v1/me/inbox", headers=headers).get_json()["items"]
    ]
    assert subjects.count("Your game key is ready") == 1
    key_jobs.retry_backorders()
    drain(platform)
    assert len(client.get("/v1/me/keys", headers=headers).get_json()["items"]) == 2


def _refund(client, headers, order_id):
    response = client.post(
        f"/v1/orders/{order_id}/refund-requests", json={"reason": "changed my mind"},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "approved"


def test_a_refund_burns_a_revealed_key_and_revokes_an_unrevealed_one(
    client, admin, platform, stripe
):
    seed_game(platform)
    import_csv(client, admin, [steam_code(), steam_code()])
    headers = bearer(signed_up(platform)["access_token"])
    order_id = buy(client, stripe, headers, quantity=2)
    drain(platform)
    first, second = client.get("/v1/me/keys", headers=headers).get_json()["items"]
    client.get(f"/v1/me/keys/{first['id']}/reveal", headers=headers)
    _refund(client, headers, order_id)
    _refund_again = client.post(
        f"/v1/orders/{order_id}/refund-requests", json={"reason": "again"}, headers=headers
    )
    assert _refund_again.status_code in (409, 422)
    statuses = {
        k["id"]: k["status"] for k in client.get("/v1/me/keys", headers=headers).get_json()["items"]
    }
    assert statuses == {first["id"]: "burned", second["id"]: "revoked"}
    burned = client.get("/v1/admin/keys?status=burned", headers=admin).get_json()["items"]
    assert [k["id"] for k in burned] == [first["id"]]
    gone = client.get(f"/v1/me/keys/{first['id']}/reveal", headers=headers)
    assert (gone.status_code, gone.get_json()["code"]) == (409, "key_revoked")
    # Revoked keys are never sold again.
    other = bearer(signed_up(platform)["access_token"])
    buy(client, stripe, other)
    drain(platform)
    assert client.get("/v1/me/keys", headers=other).get_json()["items"] == []


def test_with_the_return_policy_an_unrevealed_refunded_key_is_sold_again(
    client, admin, settings, db, stripe
):
    platform = Platform.from_settings(
        dataclasses.replace(settings, keys_return_unrevealed=True), db=db
    )
    bind_current(platform)
    client = create_app(platform=platform).test_client()
    seed_game(platform)
    import_csv(client, admin, [steam_code()])
    headers = bearer(signed_up(platform)["access_token"])
    order_id = buy(client, stripe, headers)
    drain(platform)
    key_id = client.get("/v1/me/keys", headers=headers).get_json()["items"][0]["id"]
    _refund(client, headers, order_id)
    assert client.get("/v1/me/keys", headers=headers).get_json()["items"] == []
    assert client.get(f"/v1/admin/keys/{key_id}", headers=admin).get_json()["status"] == (
        "available"
    )
    other = bearer(signed_up(platform)["access_token"])
    buy(client, stripe, other)
    drain(platform)
    assert [k["id"] for k in client.get("/v1/me/keys", headers=other).get_json()["items"]] == [
        key_id
    ]
