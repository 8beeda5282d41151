"""Steam sign-in: session tickets from game clients and OpenID 2.0 on the web, against the fake
Steam on loopback (PROVIDERS.md 2)."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from sqlalchemy import select

from player_platform.app import create_app
from player_platform.identity.models import Identity, User
from player_platform.identity.steam import parse_steam_id
from player_platform.platform import Platform
from tests.support import bearer

ALICE = "76561198000000001"
BOB = "76561198000000002"


def steam_sign_in(client, ticket: str, **extra):
    return client.post("/v1/auth/steam", json={"ticket": ticket, **extra})


def client_with(platform: Platform, **settings):
    """A client of an app whose settings differ (say, a stricter Steam policy)."""
    changed = Platform.from_settings(
        dataclasses.replace(platform.settings, **settings), db=platform.db
    )
    return create_app(platform=changed).test_client()


def test_first_steam_sign_in_creates_the_user_and_keeps_the_profile(client, platform, steam):
    steam.owners.add(ALICE)
    steam.profiles[ALICE] = {"personaname": "Alice", "avatarfull": "https://cdn/a.jpg"}
    first = steam_sign_in(client, steam.add_ticket(ALICE))
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["user"]["display_name"] == "Alice"

    again = steam_sign_in(client, steam.add_ticket(ALICE))
    assert again.get_json()["user"]["id"] == first.get_json()["user"]["id"]
    with platform.db.unit_of_work() as session:
        identity = session.scalar(select(Identity).where(Identity.provider_id == ALICE))
        assert identity.details["owns_app"] is True
        assert identity.details["avatar_url"] == "https://cdn/a.jpg"
        assert identity.details["vac_banned"] is False
        assert session.query(User).count() == 1
    me = client.get("/v1/me", headers=bearer(again.get_json()["access_token"]))
    assert me.get_json()["identities"][0]["provider"] == "steam"


def test_a_returning_player_gets_a_new_session_and_fresh_details_unless_banned(
    client, platform, steam
):
    steam.profiles[ALICE] = {"personaname": "Alice"}
    first = steam_sign_in(client, steam.add_ticket(ALICE)).get_json()
    steam.profiles[ALICE] = {"personaname": "Alice", "avatarfull": "https://cdn/new.jpg"}
    steam.owners.add(ALICE)
    again = steam_sign_in(client, steam.add_ticket(ALICE))
    assert again.status_code == 200, again.get_json()
    pair = again.get_json()
    assert pair["user"]["id"] == first["user"]["id"]
    assert pair["refresh_token"] != first["refresh_token"]
    assert client.get("/v1/me", headers=bearer(pair["access_token"])).status_code == 200
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200
    with platform.db.unit_of_work() as session:
        identity = session.scalar(select(Identity).where(Identity.provider_id == ALICE))
        assert identity.details["avatar_url"] == "https://cdn/new.jpg"
        assert identity.details["owns_app"] is True
        identity.user.status, identity.user.status_reason = "banned", "cheating"
    banned = steam_sign_in(client, steam.add_ticket(ALICE))
    assert banned.status_code == 403
    assert banned.get_json()["code"] == "account_banned"


def test_a_ticket_steam_refuses_is_401_steam_ticket_invalid(client, steam):
    refused = steam_sign_in(client, "ab" * 40)
    assert refused.status_code == 401
    assert refused.get_json()["code"] == "steam_ticket_invalid"


def test_the_identity_string_must_match_the_one_the_client_used(client, steam):
    ticket = steam.add_ticket(ALICE, identity="playerplatform")
    assert steam_sign_in(client, ticket, identity="someoneelse").status_code == 401
    assert steam_sign_in(client, ticket, identity="playerplatform").status_code == 200


def test_a_ticket_that_is_not_hex_is_a_validation_error(client, steam):
    response = steam_sign_in(client, "not-hex!")
    assert response.status_code == 422
    assert "ticket" in response.get_json()["errors"]


def test_ownership_policy_refuses_players_without_the_game(platform, steam):
    client = client_with(platform, steam_require_ownership=True)
    refused = steam_sign_in(client, steam.add_ticket(ALICE))
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "game_not_owned"
    steam.owners.add(ALICE)
    assert steam_sign_in(client, steam.add_ticket(ALICE)).status_code == 200


def test_publisher_banned_accounts_are_refused(client, steam):
    refused = steam_sign_in(client, steam.add_ticket(ALICE, publisher_banned=True))
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "steam_banned"


def test_a_wrong_publisher_key_is_503_not_a_stack_trace(platform, steam):
    client = client_with(platform, steam_api_key="wrong")
    response = steam_sign_in(client, steam.add_ticket(ALICE))
    assert response.status_code == 503
    assert response.get_json()["code"] == "provider_unavailable"
    assert "wrong" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "value",
    ["12345", "7656119800000000", "765611980000000011", "76561197960265728", "abcdefghijklmnopq"],
)
def test_steam_ids_must_be_17_digit_individual_accounts(value):
    with pytest.raises(ValueError):
        parse_steam_id(value)


def _openid_callback(client, steam, who: str) -> str:
    """Go to Steam like a browser would and come back: the callback path with its query."""
    steam.openid_user = who
    start = client.get("/v1/auth/steam/openid")
    assert start.status_code == 302
    at_steam = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert at_steam.status_code == 302
    back = urlsplit(at_steam.headers["Location"])
    return f"{back.path}?{back.query}"


def test_openid_sign_in_checks_with_steam_and_refuses_a_replay(client, steam):
    callback = _openid_callback(client, steam, ALICE)
    signed_in = client.get(callback)
    assert signed_in.status_code == 200, signed_in.get_json()
    me = client.get("/v1/me", headers=bearer(signed_in.get_json()["access_token"]))
    assert me.get_json()["identities"][0]["provider_id"] == ALICE

    replay = client.get(callback)
    assert replay.status_code == 401
    assert replay.get_json()["code"] == "openid_replayed"


def _tampered(callback: str, **changes) -> str:
    path, _, query = callback.partition("?")
    fields = dict(parse_qsl(query))
    fields.update(changes)
    return (
        path + "?" + "&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in fields.items())
    )


def test_openid_answers_that_were_tampered_with_are_refused(client, steam):
    other = f"https://steamcommunity.com/openid/id/{BOB}"
    # Claimed id changed alone: the local check sees it differ from identity.
    only_claimed = _tampered(_openid_callback(client, steam, ALICE), **{"openid.claimed_id": other})
    assert client.get(only_claimed).get_json()["code"] == "steam_openid_invalid"
    # Both changed consistently: only Steam can tell, and it says is_valid:false.
    both = _tampered(
        _openid_callback(client, steam, ALICE),
        **{"openid.claimed_id": other, "openid.identity": other},
    )
    refused = client.get(both)
    assert refused.status_code == 401
    assert refused.get_json()["code"] == "steam_openid_invalid"


def test_openid_answers_without_our_state_or_from_elsewhere_are_refused(client, steam):
    callback = _openid_callback(client, steam, ALICE)
    assert client.get(_tampered(callback, state="forged")).status_code == 401
    foreign = _tampered(callback, **{"openid.op_endpoint": "https://evil.example/openid/login"})
    assert client.get(foreign).get_json()["code"] == "steam_openid_invalid"
    stale = _tampered(callback, **{"openid.response_nonce": "2020-01-01T00:00:00Zabc"})
    assert client.get(stale).get_json()["code"] == "steam_openid_invalid"
    cancelled = client.get("/v1/auth/steam/openid/callback?state=x&openid.mode=cancel")
    assert cancelled.get_json()["code"] == "steam_openid_cancelled"
