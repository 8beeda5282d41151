"""Epic ownership-verification tokens (PROVIDERS.md 3.4): what the game client gets from
``EOS_Ecom_QueryOwnershipToken`` and hands us as its receipt.

An RS512 JWT signed by a key Epic publishes per ``kid``; it proves what the Epic account in
``sub`` owns. It is accepted only when it is signed by that key, unexpired, issued to the
caller's own linked Epic account, and shows every catalog item the SKU needs as owned (Epic
issues tokens for any catalog id, owned or not, so the ids we care about are checked one by one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from player_platform.config import Settings
from player_platform.errors import PaymentRequired
from player_platform.identity.epic import LEEWAY_SECONDS, Jwks
from player_platform.outbound import Outbound

ALGORITHM = "RS512"


class EpicOwnership:
    def __init__(self, *, keys_url: str) -> None:
        self.keys = Jwks(keys_url, Outbound("Epic ecom"), per_kid=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> EpicOwnership:
        return cls(keys_url=settings.epic_ecom_keys_url)

    def verify(
        self, token: str, *, account_id: str, catalog_item_ids: list[str], now: datetime
    ) -> dict[str, Any]:
        """The token's claims, once every check holds; 402 receipt_invalid otherwise."""
        try:
            header = extract_compact(token.encode()).headers()
        except (JoseError, ValueError, TypeError):
            raise _refused("it is not a JWT") from None
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise _refused("it is not signed with RS512 by a named key")
        try:
            claims = jwt.decode(token, self.keys.key_set(kid), algorithms=[ALGORITHM]).claims
            jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                leeway=LEEWAY_SECONDS,
                sub={"essential": True},
                exp={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError, TypeError):
            raise _refused("its signature or expiry does not hold") from None
        if claims["sub"] != account_id:
            raise _refused("it was issued to another Epic account")
        entries = claims.get("ent")
        owned = {
            entry.get("catalogItemId")
            for entry in (entries if isinstance(entries, list) else [])
            if isinstance(entry, dict) and entry.get("owned") is True
        }
        if not set(catalog_item_ids) <= owned:
            raise _refused("it does not show the items of this SKU as owned")
        return claims


def _refused(why: str) -> PaymentRequired:
    return PaymentRequired(f"The Epic ownership token was refused: {why}.", code="receipt_invalid")
