"""Access tokens (JWT, HS256 pinned) and opaque refresh tokens (stored only as a hash)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from player_platform.errors import Unauthorized

ALGORITHM = "HS256"
LEEWAY_SECONDS = 30  # clock skew tolerated on exp and nbf
VERIFIED_TOKENS = 4096  # signatures remembered per process


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    roles: tuple[str, ...]
    mfa: bool
    token_id: str


class TokenSigner:
    def __init__(
        self,
        *,
        secret: str,
        issuer: str,
        audience: str,
        lifetime_seconds: int,
        refresh_days: int,
        refresh_reuse_seconds: int = 10,
    ) -> None:
        self._key = signing_key(secret)
        self._successor_key = hashlib.sha256(b"refresh-successor:" + secret.encode()).digest()
        self.issuer = issuer
        self.audience = audience
        self.lifetime_seconds = lifetime_seconds
        self.refresh_lifetime = timedelta(days=refresh_days)
        self.refresh_reuse_window = timedelta(seconds=refresh_reuse_seconds)

    def successor(self, refresh_token: str) -> str:
        """The refresh token that replaces ``refresh_token`` when it is spent: derived (keyed
        HMAC), not drawn, so a retry within the reuse window can be answered with the same one
        although only hashes are stored."""
        digest = hmac.new(self._successor_key, refresh_token.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(
        self,
        *,
        user_id: uuid.UUID,
        session_id: uuid.UUID,
        roles: list[str],
        mfa: bool,
        now: datetime,
    ) -> str:
        issued = int(now.timestamp())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "roles": list(roles),
            "mfa": mfa,
            "jti": uuid.uuid4().hex,
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.lifetime_seconds,
        }
        return jwt.encode(
            {"alg": ALGORITHM, "typ": "JWT"}, claims, self._key, algorithms=[ALGORITHM]
        )

    def verify(self, token: str, *, now: datetime) -> AccessClaims:
        try:
            decoded = self._decode(token)
            jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                sub={"essential": True},
                exp={"essential": True},
                nbf={"essential": True},
                sid={"essential": True},
            ).validate(decoded.claims)
            return _access_claims(decoded.claims)
        except (JoseError, ValueError):
            raise Unauthorized(
                "The access token is invalid or expired.", code="invalid_token"
            ) from None

    @functools.cached_property
    def _decode(self) -> Callable[[str], jwt.Token]:
        """The token with its signature checked (not its claims: they depend on the time),
        remembered for the last ``VERIFIED_TOKENS`` tokens: a player sends the same token for
        up to its lifetime, and joserfc's HMAC and base64 were ~4 % of a /v1/me."""

        @functools.lru_cache(maxsize=VERIFIED_TOKENS)
        def decode(token: str) -> jwt.Token:
            return jwt.decode(token, self._key, algorithms=[ALGORITHM])

        return decode


def signing_key(secret: str) -> OctKey:
    """The HS256 key of access tokens, derived from PP_SECRET_KEY (which also signs cookies)."""
    return OctKey.import_key(hashlib.sha256(b"jwt:" + secret.encode()).digest())


def _access_claims(claims: dict[str, Any]) -> AccessClaims:
    """The claims, each of the type we issue: a correctly signed token with a claim of another
    type (a number for ``sid``, a string for ``roles``) is invalid, never a crash."""
    sub, sid = claims.get("sub"), claims.get("sid")
    roles, mfa, jti = claims.get("roles", []), claims.get("mfa", False), claims.get("jti", "")
    typed = (
        isinstance(sub, str)
        and isinstance(sid, str)
        and isinstance(roles, list)
        and all(isinstance(role, str) for role in roles)
        and isinstance(mfa, bool)
        and isinstance(jti, str)
    )
    if not typed:
        raise ValueError("an access token claim has the wrong type")
    return AccessClaims(
        user_id=uuid.UUID(sub), session_id=uuid.UUID(sid), roles=tuple(roles), mfa=mfa, token_id=jti
    )


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
