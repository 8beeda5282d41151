"""Access tokens: a pinned algorithm and checked iss, aud, exp and nbf."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from player_platform.db import utcnow
from player_platform.errors import Unauthorized
from player_platform.security.tokens import TokenSigner, signing_key
from tests.support import bearer, register, signed_up

SECRET = "another-secret-that-is-long-enough-to-be-real"


def signer(**overrides) -> TokenSigner:
    options = {
        "secret": SECRET,
        "issuer": "pp",
        "audience": "games",
        "lifetime_seconds": 1800,
        "refresh_days": 30,
    }
    return TokenSigner(**{**options, **overrides})


def issue(s: TokenSigner, *, now=None) -> str:
    return s.issue(
        user_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        roles=["player"],
        mfa=False,
        now=now or utcnow(),
    )


def test_a_fresh_token_verifies_with_its_claims():
    s = signer()
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    token = s.issue(
        user_id=user_id, session_id=session_id, roles=["player"], mfa=True, now=utcnow()
    )
    claims = s.verify(token, now=utcnow())
    assert (claims.user_id, claims.session_id, claims.mfa) == (user_id, session_id, True)


@pytest.mark.parametrize(
    "verifier",
    [
        signer(issuer="someone-else"),
        signer(audience="another-game"),
        signer(secret="a-different-secret-of-enough-length-too"),
    ],
)
def test_tokens_of_another_issuer_audience_or_key_are_refused(verifier):
    with pytest.raises(Unauthorized):
        verifier.verify(issue(signer()), now=utcnow())


def test_expired_and_not_yet_valid_tokens_are_refused():
    s = signer()
    with pytest.raises(Unauthorized):
        s.verify(issue(s, now=utcnow() - timedelta(minutes=31)), now=utcnow())
    with pytest.raises(Unauthorized):
        s.verify(issue(s, now=utcnow() + timedelta(minutes=5)), now=utcnow())


def test_the_algorithm_is_pinned_none_and_other_hmacs_are_refused():
    s = signer()
    good = issue(s)
    _, payload, _ = good.split(".")
    none_header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=")
    with pytest.raises(Unauthorized):
        s.verify(f"{none_header.decode()}.{payload}.", now=utcnow())
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    key = OctKey.import_key(b"x" * 64)
    hs512 = jwt.encode({"alg": "HS512"}, claims, key, algorithms=["HS512"])
    with pytest.raises(Unauthorized):
        s.verify(hs512, now=utcnow())


def test_a_tampered_token_gets_401_from_the_api(client, platform):
    tokens = signed_up(platform)
    header, payload, signature = tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = client.get("/v1/me", headers=bearer(f"{header}.{forged}.{signature}"))
    assert response.status_code == 401
    assert response.get_json()["code"] == "invalid_token"
    assert client.get("/v1/me").get_json()["code"] == "unauthorized"


WRONG_CLAIMS = [
    ("sub", 5),
    ("sub", None),
    ("sub", ["a"]),
    ("sid", 5),
    ("sid", None),
    ("sid", {"id": 1}),
    ("sid", True),
    ("sid", "not-a-uuid"),
    ("roles", "admin"),
    ("roles", 5),
    ("roles", [1]),
    ("mfa", "false"),
    ("mfa", 1),
    ("jti", 5),
    ("exp", "tomorrow"),
    ("nbf", [1]),
    ("iat", "now"),
    ("iss", 5),
    ("aud", 5),
]


@pytest.mark.parametrize(("claim", "value"), WRONG_CLAIMS)
def test_a_signed_token_with_a_claim_of_the_wrong_type_is_401_on_reads_and_writes(
    client, platform, claim, value
):
    """Signed with the app's own key (say, by a buggy service sharing it): still a 401."""
    tokens = register(client)
    _, payload, _ = tokens["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims[claim] = value
    key = signing_key(platform.settings.secret_key)
    token = jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, key, algorithms=["HS256"])
    for response in (
        client.get("/v1/me", headers=bearer(token)),
        client.patch("/v1/me", json={"region": "eu"}, headers=bearer(token)),
    ):
        assert response.status_code == 401, response.get_json()
        assert response.get_json()["code"] == "invalid_token"
