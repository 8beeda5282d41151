"""A fake Epic (PROVIDERS.md 3.5): JWKS of Epic Account Services and EOS Connect, the ecom
public keys of ownership-verification tokens, and tokens minted with the claim sets real Epic
tokens carry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field

from flask import Flask, jsonify
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "xyza7891fakeclientid"
DEPLOYMENT_ID = "fake-deployment-0001"
EAS_ISSUER = "https://api.epicgames.dev/epic/oauth/v1"
CONNECT_ISSUER = "https://api.epicgames.dev/auth/v1/oauth"


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": uuid.uuid4().hex, "use": "sig"})


@dataclass
class FakeEpic:
    keys: list[RSAKey] = field(default_factory=lambda: [_new_key()])
    jwks_fetches: int = 0
    # Signs ownership-verification tokens (RS512), published at .../publickeys/{kid}.
    ecom_key: RSAKey = field(default_factory=_new_key)

    def reset(self) -> None:
        self.keys = [_new_key()]
        self.jwks_fetches = 0
        self.ecom_key = _new_key()

    def rotate(self) -> None:
        """Sign with a new key from now on (published next to the old one)."""
        self.keys.insert(0, _new_key())

    def eas_token(self, account_id: str | None = None, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": EAS_ISSUER,
            "sub": account_id or uuid.uuid4().hex,
            "aud": CLIENT_ID,
            "exp": now + 3600,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "pfdid": DEPLOYMENT_ID,
            "pfpid": "fakeproduct",
            "pfsid": "fakesandbox",
            "appid": "fakeapp",
            "dn": "Epic Player",
            "t": "id_token",
        }
        return self.sign({**claims, **overrides})

    def connect_token(self, product_user_id: str | None = None, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": CONNECT_ISSUER,
            "sub": product_user_id or uuid.uuid4().hex,
            "aud": CLIENT_ID,
            "exp": now + 3600,
            "iat": now,
            "pfdid": DEPLOYMENT_ID,
            "pfpid": "fakeproduct",
            "pfsid": "fakesandbox",
            "tokenType": "idToken",
            "act": {"eat": "steam", "eaid": "76561198000000001"},
        }
        return self.sign({**claims, **overrides})

    def ownership_token(
        self, account_id: str, catalog_item_ids: list[str], *, owned: bool = True, **overrides
    ) -> str:
        """What EOS_Ecom_QueryOwnershipToken hands the game client (PROVIDERS.md 3.4)."""
        now = int(time.time())
        claims = {
            "sub": account_id,
            "ent": [{"catalogItemId": item, "owned": owned} for item in catalog_item_ids],
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        return self.sign({**claims, **overrides}, alg="RS512", key=self.ecom_key)

    def sign(self, claims: dict, *, alg: str = "RS256", key=None) -> str:
        key = key or self.keys[0]
        return jwt.encode({"alg": alg, "kid": key.kid, "typ": "JWT"}, claims, key, algorithms=[alg])

    def hs256_with_public_key(self, claims: dict) -> str:
        """The classic confusion attack: HMAC keyed with the published RSA key (made by hand:
        JOSE libraries refuse to build it)."""
        header = {"alg": "HS256", "kid": self.keys[0].kid, "typ": "JWT"}
        signing_input = ".".join(b64url(json.dumps(part).encode()) for part in (header, claims))
        public = self.keys[0].as_pem(private=False)
        signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(signature)}"

    def jwks(self) -> dict:
        self.jwks_fetches += 1
        return {"keys": [k.as_dict(private=False) for k in self.keys]}


def epic_app(state: FakeEpic) -> Flask:
    app = Flask("fake_epic")

    @app.get("/epic/oauth/v2/.well-known/jwks.json")
    def eas_jwks():
        return jsonify(state.jwks())

    @app.get("/auth/v1/oauth/jwks")
    def connect_jwks():
        return jsonify(state.jwks())

    _ecom_routes(app, state)
    return app


def _ecom_routes(app: Flask, state: FakeEpic) -> None:
    @app.get("/ecommerceintegration/api/public/publickeys/<kid>")
    def ecom_public_key(kid: str):
        if kid != state.ecom_key.kid:
            error = {
                "errorCode": "errors.com.epicgames.ecommerceintegration.public_key_not_found",
                "errorMessage": f"No public key {kid}",
            }
            return jsonify(error), 404
        public = state.ecom_key.as_dict(private=False)
        return jsonify({"kid": kid, "n": public["n"], "e": public["e"]})


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
