"""Epic id tokens of Epic Account Services (``epic``) and EOS Connect (``eos``), PROVIDERS.md 3.

Both are RS256 JWTs signed by a key from a JWKS. The algorithm is pinned (``none``, HS256 and
every other algorithm are refused), the issuer says which kind the token is and which JWKS
signs it, and ``aud``, ``exp``, ``iat`` and the deployment id are checked.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from player_platform.config import Settings
from player_platform.errors import Unauthorized
from player_platform.outbound import Outbound, ProviderUnavailable

ALGORITHM = "RS256"
LEEWAY_SECONDS = 60
JWKS_REFRESH_SECONDS = 60  # an unknown kid refetches the JWKS at most this often


@dataclass(frozen=True)
class EpicAccount:
    provider: str  # "epic" (Epic Account ID) or "eos" (EOS Product User ID)
    account_id: str
    display_name: str | None
    claims: dict[str, Any]


class Jwks:
    """One JWKS URL's keys, cached; refetched when a token names a kid it does not hold.

    With ``per_kid`` the URL serves one JWK at ``{url}/{kid}`` (Epic's ecom public keys): the
    keys fetched that way accumulate, and an unknown kid (404) leaves them as they are."""

    clock = staticmethod(time.monotonic)

    def __init__(self, url: str, outbound: Outbound, *, per_kid: bool = False) -> None:
        self.url = url
        self.outbound = outbound
        self.per_kid = per_kid
        self.keys: KeySet | None = None
        self.fetched_at = float("-inf")
        self.lock = threading.Lock()

    def key_set(self, kid: str) -> KeySet:
        with self.lock:
            known = self.keys is not None and any(k.kid == kid for k in self.keys.keys)
            stale = self.clock() - self.fetched_at >= JWKS_REFRESH_SECONDS
            if not known and (self.keys is None or stale):
                self._fetch(kid)
            if self.keys is None:
                raise ProviderUnavailable("Epic's signing keys could not be read.")
            return self.keys

    def _fetch(self, kid: str) -> None:
        self.fetched_at = self.clock()
        url = f"{self.url}/{quote(kid, safe='')}" if self.per_kid else self.url
        status, body = self.outbound.json("GET", url)
        if self.per_kid and status == 404:
            self.keys = self.keys if self.keys is not None else KeySet([])
            return
        if status != 200 or not isinstance(body, dict):
            raise ProviderUnavailable(f"Epic's JWKS answered HTTP {status}.")
        try:
            fetched = KeySet.import_key_set(
                {"keys": [{"kty": "RSA", **body}]} if self.per_kid else body
            )
        except (JoseError, ValueError, TypeError, KeyError):
            raise ProviderUnavailable("Epic's JWKS holds no usable key.") from None
        if self.per_kid and self.keys is not None:
            fetched = KeySet([*self.keys.keys, *fetched.keys])
        self.keys = fetched


class EpicVerifier:
    def __init__(
        self,
        *,
        eas_jwks_url: str,
        connect_jwks_url: str,
        eas_issuer_prefix: str,
        connect_issuer: str,
        client_id: str | None,
        deployment_id: str | None,
    ) -> None:
        outbound = Outbound("Epic")
        self.eas = Jwks(eas_jwks_url, outbound)
        self.connect = Jwks(connect_jwks_url, outbound)
        self.eas_issuer_prefix = eas_issuer_prefix
        self.connect_issuer = connect_issuer
        self.client_id = client_id
        self.deployment_id = deployment_id

    @classmethod
    def from_settings(cls, settings: Settings) -> EpicVerifier:
        return cls(
            eas_jwks_url=settings.epic_jwks_url,
            connect_jwks_url=settings.epic_connect_jwks_url,
            eas_issuer_prefix=settings.epic_issuer,
            connect_issuer=settings.epic_connect_issuer,
            client_id=settings.epic_client_id,
            deployment_id=settings.epic_deployment_id,
        )

    def verify(self, id_token: str, *, now: datetime) -> EpicAccount:
        if not self.client_id:
            raise ProviderUnavailable("Epic is not configured: set PP_EPIC_CLIENT_ID.")
        header, unverified = _peek(id_token)
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise _refused("it is not signed with RS256 by a named key")
        issuer = unverified.get("iss")
        if issuer == self.connect_issuer:
            provider, jwks = "eos", self.connect
        elif isinstance(issuer, str) and issuer.startswith(self.eas_issuer_prefix):
            provider, jwks = "epic", self.eas
        else:
            raise _refused("its issuer is not Epic")
        try:
            claims = jwt.decode(
                id_token, jwks.key_set(header["kid"]), algorithms=[ALGORITHM]
            ).claims
            jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "value": self.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError, TypeError):
            raise _refused("its signature or claims do not hold") from None
        deployment = claims.get("pfdid")
        if self.deployment_id and deployment is not None and deployment != self.deployment_id:
            raise _refused("it was issued for another deployment")
        return EpicAccount(
            provider=provider,
            account_id=str(claims["sub"]),
            display_name=claims.get("dn"),
            claims=claims,
        )


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, unverified: only to choose the key set and how to check."""
    try:
        header, payload, _ = token.split(".")
        decoded = [
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in (header, payload)
        ]
    except ValueError:
        raise _refused("it is not a JWT") from None
    if not all(isinstance(part, dict) for part in decoded):
        raise _refused("it is not a JWT")
    return decoded[0], decoded[1]


def _refused(why: str) -> Unauthorized:
    return Unauthorized(f"The Epic id token was refused: {why}.", code="epic_token_invalid")
