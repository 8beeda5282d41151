"""Twitch account linking: exchange an OAuth authorization code, then read whose token it is.

Twitch is linked, never used to sign in (drops need the player's Twitch user id). Its answers
to bad input are ``{"status": 400, "message": ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from player_platform.config import Settings
from player_platform.errors import Unauthorized
from player_platform.outbound import Outbound, ProviderUnavailable


@dataclass(frozen=True)
class TwitchGrant:
    user_id: str
    login: str
    access_token: str
    refresh_token: str | None
    scopes: list[str]


class TwitchOAuth:
    def __init__(self, *, auth_url: str, client_id: str | None, client_secret: str | None) -> None:
        self.auth_url = auth_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.outbound = Outbound("Twitch")

    @classmethod
    def from_settings(cls, settings: Settings) -> TwitchOAuth:
        return cls(
            auth_url=settings.twitch_auth_url,
            client_id=settings.twitch_client_id,
            client_secret=settings.twitch_client_secret,
        )

    def exchange(self, *, code: str, redirect_uri: str) -> TwitchGrant:
        if not (self.client_id and self.client_secret):
            raise ProviderUnavailable("Twitch is not configured: set PP_TWITCH_CLIENT_ID/SECRET.")
        status, tokens = self.outbound.json(
            "POST",
            f"{self.auth_url}/token",
            data={
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
            },
        )
        if status == 400:
            raise Unauthorized(
                f"Twitch refused the code: {tokens.get('message', 'invalid code')}.",
                code="twitch_code_invalid",
            )
        if status != 200 or "access_token" not in tokens:
            raise ProviderUnavailable(f"Twitch answered HTTP {status} to the code exchange.")
        status, owner = self.outbound.json(
            "GET",
            f"{self.auth_url}/validate",
            headers={"Authorization": f"OAuth {tokens['access_token']}"},
        )
        if status != 200 or not owner.get("user_id"):
            raise ProviderUnavailable(f"Twitch answered HTTP {status} to token validation.")
        return TwitchGrant(
            user_id=str(owner["user_id"]),
            login=str(owner.get("login", "")),
            access_token=tokens["access_token"],
            refresh_token=tokens.get("refresh_token"),
            scopes=list(owner.get("scopes") or tokens.get("scope") or []),
        )
