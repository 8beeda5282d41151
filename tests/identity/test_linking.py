"""One person, one user: link and unlink identities, the link race, and account merge."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from player_platform.audit.models import AuditLog
from player_platform.identity.models import AccountLink, Identity, User
from tests.support import PASSWORD, bearer, login, signed_up

ALICE = "76561198000000001"


def link_steam(client, tokens, ticket):
    return client.post(
        "/v1/me/identities/steam", json={"ticket": ticket}, headers=bearer(tokens["access_token"])
    )


def identities(client, tokens) -> list[tuple[str, str]]:
    listed = client.get("/v1/me/identities", headers=bearer(tokens["access_token"])).get_json()
    return [(i["provider"], i["provider_id"]) for i in listed["items"]]


def test_a_linked_steam_account_signs_into_the_same_user(client, platform, steam):
    player = signed_up(platform)
    linked = link_steam(client, player, steam.add_ticket(ALICE))
    assert linked.status_code == 201, linked.get_json()
    signed_in = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(ALICE)})
    assert signed_in.get_json()["user"]["id"] == player["user"]["id"]
    assert identities(client, player) == [("email", player["email"]), ("steam", ALICE)]
    with platform.db.unit_of_work() as session:
        links = session.execute(
            select(AccountLink.action, AccountLink.provider).order_by(AccountLink.created_at)
        ).all()
        # Registration is the first link (email), then Steam: each a row and an audit entry.
        assert [tuple(link) for link in links] == [("link", "email"), ("link", "steam")]
        linked = select(func.count()).where(AuditLog.action == "identity.link")
        assert session.scalar(linked) == 2


def test_linking_an_identity_of_another_user_is_refused_and_changes_nothing(
    client, steam, platform
):
    owner = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(ALICE)}).get_json()
    other = signed_up(platform)
    refused = link_steam(client, other, steam.add_ticket(ALICE))
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "identity_in_use"
    assert identities(client, other) == [("email", other["email"])]
    assert identities(client, owner) == [("steam", ALICE)]


def test_linking_email_never_replaces_the_email_already_linked(client, platform):
    player = signed_up(platform)
    second = client.post(
        "/v1/me/identities/email",
        json={"email": "second@example.com", "password": PASSWORD},
        headers=bearer(player["access_token"]),
    )
    assert second.status_code == 409
    assert second.get_json()["code"] == "provider_already_linked"
    assert login(client, player["email"]).status_code == 200
    assert login(client, "second@example.com").status_code == 401


def test_a_steam_player_adds_email_and_can_then_sign_in_with_it(client, steam):
    player = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(ALICE)}).get_json()
    added = client.post(
        "/v1/me/identities/email",
        json={"email": "Steam.Player@Example.com", "password": PASSWORD},
        headers=bearer(player["access_token"]),
    )
    assert added.status_code == 201
    assert (
        login(client, "steam.player@example.com").get_json()["user"]["id"] == (player["user"]["id"])
    )


def test_the_last_way_in_cannot_be_unlinked_but_others_can(client, platform, steam):
    player = signed_up(platform)
    headers = bearer(player["access_token"])
    last = client.delete("/v1/me/identities/email", headers=headers)
    assert last.status_code == 409
    assert last.get_json()["code"] == "last_identity"

    link_steam(client, player, steam.add_ticket(ALICE))
    assert client.delete("/v1/me/identities/email", headers=headers).status_code == 204
    assert identities(client, player) == [("steam", ALICE)]
    assert client.delete("/v1/me/identities/email", headers=headers).status_code == 404
    with platform.db.unit_of_work() as session:
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.created_at)).all()
        assert actions[-2:] == ["identity.link", "identity.unlink"]


def test_two_users_linking_one_steam_account_at_once_leave_one_owner(
    live_server, live_platform, steam
):
    players = [
        requests.post(
            f"{live_server}/v1/auth/register",
            json={"email": f"racer{i}@example.com", "password": PASSWORD, "display_name": "R"},
            timeout=10,
        ).json()
        for i in range(6)
    ]
    tickets = [steam.add_ticket(ALICE) for _ in players]
    barrier = threading.Barrier(len(players))

    def attempt(i):
        barrier.wait()
        return requests.post(
            f"{live_server}/v1/me/identities/steam",
            json={"ticket": tickets[i]},
            headers=bearer(players[i]["access_token"]),
            timeout=20,
        )

    with ThreadPoolExecutor(len(players)) as pool:
        responses = list(pool.map(attempt, range(len(players))))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * (len(players) - 1), [r.json() for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"identity_in_use"}
    with live_platform.db.unit_of_work() as session:
        owners = session.scalars(select(Identity.user_id).where(Identity.provider == "steam"))
        assert len(owners.all()) == 1


def test_merge_by_refresh_token_moves_identities_and_retires_the_other_account(
    client, platform, steam
):
    keeper = signed_up(platform)
    other = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(ALICE)}).get_json()
    merged = client.post(
        "/v1/me/merge",
        json={"proof": {"refresh_token": other["refresh_token"]}},
        headers=bearer(keeper["access_token"]),
    )
    assert merged.status_code == 200, merged.get_json()
    assert {i["provider"] for i in merged.get_json()["identities"]} == {"email", "steam"}

    gone = client.get("/v1/me", headers=bearer(other["access_token"]))
    assert gone.status_code == 401
    assert (
        client.post("/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code
        == 401
    )
    back = client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(ALICE)})
    assert back.get_json()["user"]["id"] == keeper["user"]["id"]
    with platform.db.unit_of_work() as session:
        retired = session.get(User, uuid.UUID(other["user"]["id"]))
        assert (retired.status, str(retired.merged_into_id)) == ("merged", keeper["user"]["id"])
        entry = session.scalar(select(AuditLog).where(AuditLog.action == "user.merge"))
        assert entry.resource_id == other["user"]["id"]
        assert entry.new_values["identities"] == ["steam"]


def test_merge_by_steam_ticket_proves_the_other_account(client, steam, platform):
    keeper = signed_up(platform)
    client.post("/v1/auth/steam", json={"ticket": steam.add_ticket(ALICE)})
    merged = client.post(
        "/v1/me/merge",
        json={"proof": {"provider": "steam", "ticket": steam.add_ticket(ALICE)}},
        headers=bearer(keeper["access_token"]),
    )
    assert merged.status_code == 200
    assert identities(client, keeper) == [("email", keeper["email"]), ("steam", ALICE)]


def test_merge_is_refused_when_both_accounts_hold_the_same_provider(client, platform):
    keeper, other = signed_up(platform), signed_up(platform)
    refused = client.post(
        "/v1/me/merge",
        json={"proof": {"refresh_token": other["refresh_token"]}},
        headers=bearer(keeper["access_token"]),
    )
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "merge_conflict"
    assert refused.get_json()["providers"] == ["email"]
    assert client.get("/v1/me", headers=bearer(other["access_token"])).status_code == 200


def test_merge_with_a_proof_of_this_same_account_or_of_nothing_is_refused(client, platform):
    player = signed_up(platform)
    same = client.post(
        "/v1/me/merge",
        json={"proof": {"refresh_token": player["refresh_token"]}},
        headers=bearer(player["access_token"]),
    )
    assert same.get_json()["code"] == "merge_same_account"
    unknown = client.post(
        "/v1/me/merge",
        json={"proof": {"refresh_token": "x" * 40}},
        headers=bearer(player["access_token"]),
    )
    assert unknown.status_code == 404
    assert unknown.get_json()["code"] == "merge_source_not_found"
    both = client.post(
        "/v1/me/merge",
        json={"proof": {"refresh_token": "x", "provider": "epic", "id_token": "y"}},
        headers=bearer(player["access_token"]),
    )
    assert both.status_code == 422
