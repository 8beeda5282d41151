"""Turn what a client presents (a Steam ticket, an Epic id token, a Twitch code, an email and
password) into a ``ProviderIdentity``, after the provider vouched for it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from player_platform.config import Settings
from player_platform.errors import Forbidden
from player_platform.identity.epic import EpicVerifier
from player_platform.identity.linking import ProviderIdentity
from player_platform.identity.steam import SteamWebApi
from player_platform.identity.twitch import TwitchOAuth
from player_platform.security.passwords import hash_password
from player_platform.security.vault import Vault


@dataclass(frozen=True)
class SteamPolicy:
    """Who may sign in with Steam: owners only? publisher- or VAC-banned accounts?"""

    require_ownership: bool = False
    refuse_publisher_banned: bool = True
    refuse_vac_banned: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SteamPolicy:
        return cls(
            require_ownership=settings.steam_require_ownership,
            refuse_publisher_banned=settings.steam_refuse_publisher_banned,
            refuse_vac_banned=settings.steam_refuse_vac_banned,
        )


def steam_ticket(
    steam: SteamWebApi, policy: SteamPolicy, *, ticket: str, identity: str | None
) -> ProviderIdentity:
    """A game client's session ticket, checked with Steam, then the account's standing."""
    owner = steam.authenticate_ticket(ticket, identity=identity)
    if owner.publisher_banned and policy.refuse_publisher_banned:
        raise Forbidden("This Steam account is banned by the publisher.", code="steam_banned")
    if owner.vac_banned and policy.refuse_vac_banned:
        raise Forbidden("This Steam account has a VAC ban.", code="steam_banned")
    return steam_account(
        steam,
        policy,
        steam_id=owner.steam_id,
        flags={
            "vac_banned": owner.vac_banned,
            "publisher_banned": owner.publisher_banned,
            "family_shared": owner.family_shared,
        },
    )


def steam_account(
    steam: SteamWebApi, policy: SteamPolicy, *, steam_id: str, flags: dict | None = None
) -> ProviderIdentity:
    """A SteamID Steam vouched for (ticket or OpenID), with ownership and public profile."""
    owns = steam.owns_app(steam_id)
    if policy.require_ownership and not owns:
        raise Forbidden("This Steam account does not own the game.", code="game_not_owned")
    profile = steam.player_summary(steam_id)
    return ProviderIdentity(
        provider="steam",
        provider_id=steam_id,
        display_name=profile["persona_name"] or f"Steam {steam_id[-6:]}",
        details={**profile, **(flags or {}), "owns_app": owns},
    )


def epic_token(epic: EpicVerifier, *, id_token: str, now: datetime) -> ProviderIdentity:
    account = epic.verify(id_token, now=now)
    claims = account.claims
    return ProviderIdentity(
        provider=account.provider,
        provider_id=account.account_id,
        display_name=account.display_name or f"Epic {account.account_id[-6:]}",
        details={
            "display_name": account.display_name,
            "product_id": claims.get("pfpid"),
            "sandbox_id": claims.get("pfsid"),
            "deployment_id": claims.get("pfdid"),
        },
    )


def twitch_code(
    twitch: TwitchOAuth, vault: Vault, *, code: str, redirect_uri: str
) -> ProviderIdentity:
    grant = twitch.exchange(code=code, redirect_uri=redirect_uri)
    tokens = {"access_token": grant.access_token, "refresh_token": grant.refresh_token}
    return ProviderIdentity(
        provider="twitch",
        provider_id=grant.user_id,
        display_name=grant.login,
        details={"login": grant.login, "scopes": grant.scopes},
        credentials=vault.seal(json.dumps(tokens), context=f"twitch:{grant.user_id}"),
    )


def normalise_email(email: str) -> str:
    """Addresses compare case-insensitively and without surrounding space."""
    return email.strip().lower()


def email_password(
    *, email: str, password: str, display_name: str | None = None
) -> ProviderIdentity:
    """An email identity to sign up with or link; the address is normalised, the password
    hashed."""
    address = normalise_email(email)
    return ProviderIdentity(
        provider="email",
        provider_id=address,
        display_name=display_name or address.split("@")[0],
        email=address,
        secret_hash=hash_password(password),
    )
