"""Epic id tokens (Epic Account Services and EOS Connect) and Twitch linking, against fakes."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from player_platform.db import utcnow
from player_platform.errors import Unauthorized
from player_platform.identity.models import Identity
from tests.fakes import epic as fake_epic
from tests.fakes.epic import b64url
from tests.support import bearer, signed_up

REDIRECT = "https://game.example/twitch/callback"


def epic_sign_in(client, token: str):
    return client.post("/v1/auth/epic", json={"id_token": token})


def test_epic_account_services_token_signs_in_once_per_account(client, epic):
    account = uuid.uuid4().hex
    first = epic_sign_in(client, epic.eas_token(account))
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["user"]["display_name"] == "Epic Player"
    again = epic_sign_in(client, epic.eas_token(account))
    assert again.get_json()["user"]["id"] == first.get_json()["user"]["id"]
    me = client.get("/v1/me", headers=bearer(first.get_json()["access_token"])).get_json()
    assert [(i["provider"], i["provider_id"]) for i in me["identities"]] == [("epic", account)]


def test_eos_connect_token_is_a_product_user_identity(client, epic):
    puid = uuid.uuid4().hex
    signed_in = epic_sign_in(client, epic.connect_token(puid))
    assert signed_in.status_code == 200, signed_in.get_json()
    me = client.get("/v1/me", headers=bearer(signed_in.get_json()["access_token"])).get_json()
    assert me["identities"][0] == {**me["identities"][0], "provider": "eos", "provider_id": puid}


def _refusals(epic):
    now = int(time.time())
    return {
        "expired": epic.eas_token(exp=now - 3600, iat=now - 7200),
        "issued in the future": epic.eas_token(iat=now + 3600),
        "wrong audience": epic.eas_token(aud="someone-else"),
        "wrong issuer": epic.eas_token(iss="https://evil.example/epic/oauth/v1"),
        "connect issuer not exact": epic.connect_token(iss="https://api.epicgames.dev/auth/v1/x"),
        "other deployment": epic.eas_token(pfdid="another-deployment"),
        "alg none": _unsigned(epic.eas_token()),
        "hs256 with the public key": epic.hs256_with_public_key(
            {"iss": fake_epic.EAS_ISSUER, "sub": "x", "aud": fake_epic.CLIENT_ID, "exp": now + 60}
        ),
        "not a jwt": "not.a.jwt",
        "signed by a stranger": epic.sign(
            {"iss": fake_epic.EAS_ISSUER, "sub": "x", "aud": fake_epic.CLIENT_ID},
            key=fake_epic._new_key(),
        ),
    }


def _unsigned(token: str) -> str:
    header = b64url(b'{"alg":"none","typ":"JWT"}')
    return f"{header}.{token.split('.')[1]}."


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "issued in the future",
        "wrong audience",
        "wrong issuer",
        "connect issuer not exact",
        "other deployment",
        "alg none",
        "hs256 with the public key",
        "not a jwt",
        "signed by a stranger",
    ],
)
def test_epic_tokens_that_must_not_pass_are_refused(client, epic, case):
    refused = epic_sign_in(client, _refusals(epic)[case])
    assert refused.status_code == 401, refused.get_json()
    assert refused.get_json()["code"] == "epic_token_invalid"


def test_a_new_signing_key_is_fetched_once_and_unknown_keys_do_not_hammer_the_jwks(client, epic):
    assert epic_sign_in(client, epic.eas_token()).status_code == 200
    fetches = epic.jwks_fetches
    assert epic_sign_in(client, epic.eas_token()).status_code == 200
    assert epic.jwks_fetches == fetches  # cached

    epic.rotate()
    # The key is unknown, but the JWKS was read less than a minute ago: refused, no refetch.
    assert epic_sign_in(client, epic.eas_token()).status_code == 401
    assert epic.jwks_fetches == fetches


def test_an_unknown_key_refetches_the_jwks_once_a_minute_has_passed(platform, epic):
    verifier = platform.epic
    now = [1000.0]
    verifier.eas.clock = lambda: now[0]
    assert verifier.verify(epic.eas_token(), now=utcnow()).provider == "epic"
    epic.rotate()
    now[0] += 59
    with pytest.raises(Unauthorized):
        verifier.verify(epic.eas_token(), now=utcnow())
    now[0] += 1
    assert verifier.verify(epic.eas_token(), now=utcnow()).provider == "epic"
    assert epic.jwks_fetches == 2


def test_twitch_is_linked_with_an_oauth_code_and_its_tokens_are_sealed(client, platform, twitch):
    player = signed_up(platform)
    code = twitch.authorize("44322889", "dallas", REDIRECT)
    linked = client.post(
        "/v1/me/identities/twitch",
        json={"code": code, "redirect_uri": REDIRECT},
        headers=bearer(player["access_token"]),
    )
    assert linked.status_code == 201, linked.get_json()
    assert linked.get_json()["provider_id"] == "44322889"
    with platform.db.unit_of_work() as session:
        identity = session.scalar(select(Identity).where(Identity.provider == "twitch"))
        access_token = next(iter(twitch.tokens))
        assert access_token not in identity.credentials
        assert access_token in platform.vault.open(identity.credentials, context="twitch:44322889")
    export = client.get("/v1/me/export", headers=bearer(player["access_token"]))
    assert access_token not in export.get_data(as_text=True)


def test_a_twitch_code_that_was_used_or_made_up_is_refused(client, twitch, platform):
    player = signed_up(platform)
    code = twitch.authorize("44322889", "dallas", REDIRECT)
    body = {"code": code, "redirect_uri": REDIRECT}
    headers = bearer(player["access_token"])
    assert client.post("/v1/me/identities/twitch", json=body, headers=headers).status_code == 201
    again = client.post("/v1/me/identities/twitch", json=body, headers=headers)
    assert again.status_code == 401
    assert again.get_json()["code"] == "twitch_code_invalid"
