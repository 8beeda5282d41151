"""Epic purchases: verify-receipt with an ownership-verification token (RS512, key by kid from
the fake ecom public-keys endpoint) grants the SKUs mapped to owned catalog items, once."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from joserfc.jwk import RSAKey

from player_platform.commerce.models import Order
from tests.support import bearer, signed_up

STARTER_ITEM = "4fe75bbc5a674f4f9b356b5c90567da5"
DLC_ITEM = "9a0c3b1e2d4f4a5b8c7d6e5f4a3b2c1d"


@pytest.fixture
def epic_catalog(client, admin, catalog) -> None:
    """The starter pack is sold on Epic as two catalog items (base pack and its DLC)."""
    mapped = client.patch(
        "/v1/admin/skus/starter",
        json={"epic_catalog_item_ids": [STARTER_ITEM, DLC_ITEM]},
        headers=admin,
    )
    assert mapped.status_code == 200, mapped.get_json()


def epic_player(client, platform, epic) -> tuple[dict[str, str], str]:
    """A player signed up by email with an Epic account linked: headers and account id."""
    headers = bearer(signed_up(platform)["access_token"])
    account_id = uuid.uuid4().hex
    linked = client.post(
        "/v1/me/identities/epic", json={"id_token": epic.eas_token(account_id)}, headers=headers
    )
    assert linked.status_code == 201, linked.get_json()
    return headers, account_id


def verify(client, headers, token, sku_id="starter", key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(
        "/v1/commerce/verify-receipt",
        json={"provider": "epic", "sku_id": sku_id, "ownership_token": token},
        headers={**headers, **extra},
    )


def test_an_epic_ownership_token_grants_the_mapped_sku_once(client, epic, epic_catalog, platform):
    headers, account_id = epic_player(client, platform, epic)
    bought = verify(client, headers, epic.ownership_token(account_id, [STARTER_ITEM, DLC_ITEM]))
    assert bought.status_code == 200, bought.get_json()
    order = bought.get_json()["order"]
    assert (order["status"], order["provider"]) == ("fulfilled", "epic")
    assert order["provider_order_id"] == f"{account_id}:starter"
    assert [e["sku_id"] for e in bought.get_json()["entitlements"]] == ["sword"]
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 100}
    receipt = json.loads(platform.storage.get(f"receipts/{order['id']}.json"))
    assert receipt["epic"]["ownership"]["sub"] == account_id

    # The game asks again later with a fresh token: same order, nothing granted twice.
    again = verify(client, headers, epic.ownership_token(account_id, [DLC_ITEM, STARTER_ITEM]))
    assert again.status_code == 200
    assert again.get_json()["order"]["id"] == order["id"]
    assert again.get_json()["entitlements"] == bought.get_json()["entitlements"]
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 100}
    assert len(client.get("/v1/orders", headers=headers).get_json()["items"]) == 1


def _forged_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex})


REFUSED = {
    "issued to another Epic account": lambda epic, me: epic.ownership_token(
        uuid.uuid4().hex, [STARTER_ITEM, DLC_ITEM]
    ),
    "items not owned": lambda epic, me: epic.ownership_token(
        me, [STARTER_ITEM, DLC_ITEM], owned=False
    ),
    "one required item missing": lambda epic, me: epic.ownership_token(me, [STARTER_ITEM]),
    "expired": lambda epic, me: epic.ownership_token(
        me, [STARTER_ITEM, DLC_ITEM], exp=int(time.time()) - 3600
    ),
    "signed by a key Epic does not publish": lambda epic, me: epic.sign(
        {"sub": me, "ent": [{"catalogItemId": STARTER_ITEM, "owned": True}], "exp": 2**31},
        alg="RS512",
        key=_forged_key(),
    ),
    "signed with RS256": lambda epic, me: epic.sign(
        {"sub": me, "ent": [{"catalogItemId": STARTER_ITEM, "owned": True}], "exp": 2**31},
        alg="RS256",
        key=epic.ecom_key,
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_epic_tokens_that_do_not_prove_ownership_are_refused(
    client, epic, epic_catalog, case, platform
):
    headers, account_id = epic_player(client, platform, epic)
    refused = verify(client, headers, REFUSED[case](epic, account_id))
    assert refused.status_code == 402
    assert refused.get_json()["code"] == "receipt_invalid"
    assert client.get("/v1/me/entitlements", headers=headers).get_json()["items"] == []
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {}
    assert client.get("/v1/orders", headers=headers).get_json()["items"] == []


def test_an_epic_purchase_replayed_by_the_same_user_is_idempotent(
    client, epic, epic_catalog, platform
):
    headers, account_id = epic_player(client, platform, epic)
    token = epic.ownership_token(account_id, [STARTER_ITEM, DLC_ITEM])
    first = verify(client, headers, token, key="epic-1")
    replayed = verify(client, headers, token, key="epic-1")
    assert replayed.get_json() == first.get_json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert verify(client, headers, token, key="epic-2").get_json() == first.get_json()
    assert client.get("/v1/me/wallet", headers=headers).get_json()["balances"] == {"gems": 100}


def test_an_epic_purchase_presented_by_another_user_is_refused_and_flagged(
    client, epic, epic_catalog, platform
):
    owner, account_id = epic_player(client, platform, epic)
    bought = verify(client, owner, epic.ownership_token(account_id, [STARTER_ITEM, DLC_ITEM]))
    assert bought.status_code == 200
    # The Epic account moves to another player, who presents the same ownership again.
    assert client.delete("/v1/me/identities/epic", headers=owner).status_code == 204
    other = bearer(signed_up(platform)["access_token"])
    relinked = client.post(
        "/v1/me/identities/epic", json={"id_token": epic.eas_token(account_id)}, headers=other
    )
    assert relinked.status_code == 201, relinked.get_json()
    stolen = verify(client, other, epic.ownership_token(account_id, [STARTER_ITEM, DLC_ITEM]))
    assert stolen.status_code == 409
    assert stolen.get_json()["code"] == "receipt_already_used"
    assert client.get("/v1/me/entitlements", headers=other).get_json()["items"] == []
    with platform.db.unit_of_work() as session:
        order = session.get(Order, uuid.UUID(bought.get_json()["order"]["id"]))
        assert order.flagged_at is not None
        assert order.user_id != other


def test_epic_purchases_need_a_linked_account_and_a_sku_sold_on_epic(
    client, epic, epic_catalog, platform
):
    unlinked = bearer(signed_up(platform)["access_token"])
    token = epic.ownership_token(uuid.uuid4().hex, [STARTER_ITEM, DLC_ITEM])
    refused = verify(client, unlinked, token)
    assert (refused.status_code, refused.get_json()["code"]) == (409, "epic_not_linked")
    headers, account_id = epic_player(client, platform, epic)
    not_on_epic = verify(client, headers, epic.ownership_token(account_id, ["x"]), sku_id="sword")
    assert (not_on_epic.status_code, not_on_epic.get_json()["code"]) == (422, "not_sold_on_epic")
