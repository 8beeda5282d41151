"""Steam Web API calls made for identity: session tickets, ownership, profiles, friends.

Steam answers business errors with HTTP 200 and an ``error`` object; a missing or wrong
publisher key is HTTP 403. Array and list parameters follow Steam's conventions (PROVIDERS.md 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from steam.enums import EType, EUniverse
from steam.steamid import SteamID

from player_platform.config import Settings
from player_platform.errors import Invalid, Unauthorized
from player_platform.outbound import Outbound, ProviderUnavailable

STEAM_ID64 = re.compile(r"^\d{17}$")
TICKET = re.compile(r"^[0-9a-fA-F]{16,4096}$")


def parse_steam_id(value: str) -> str:
    """A SteamID64 of an individual public account, exactly 17 digits, or ValueError.

    The ``steam`` package promotes small numbers to account ids, so the digits are checked
    first and the canonical form must round-trip.
    """
    if not STEAM_ID64.match(value):
        raise ValueError("a SteamID64 has 17 digits")
    sid = SteamID(int(value))
    if not (sid.is_valid() and sid.type == EType.Individual and sid.universe == EUniverse.Public):
        raise ValueError("not an individual public Steam account")
    if str(sid.as_64) != value:
        raise ValueError("not a canonical SteamID64")
    return value


@dataclass(frozen=True)
class TicketOwner:
    steam_id: str
    owner_steam_id: str
    vac_banned: bool
    publisher_banned: bool

    @property
    def family_shared(self) -> bool:
        return self.owner_steam_id != self.steam_id


class SteamWebApi:
    def __init__(self, *, base_url: str, key: str | None, app_id: int | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.app_id = app_id
        self.outbound = Outbound("Steam")

    @classmethod
    def from_settings(cls, settings: Settings) -> SteamWebApi:
        return cls(
            base_url=settings.steam_api_url,
            key=settings.steam_api_key,
            app_id=settings.steam_app_id,
        )

    def call(
        self, method: str, path: str, *, not_authorized_ok: bool = False, **params: Any
    ) -> dict[str, Any]:
        """Call ``/<Interface>/<Method>/vN/`` with the publisher key; the decoded body.

        ``not_authorized_ok``: HTTP 401 means "private" (friend lists) and reads as ``{}``.
        """
        if not self.key or not self.app_id:
            raise ProviderUnavailable(
                "Steam is not configured: set PP_STEAM_API_KEY and PP_STEAM_APP_ID."
            )
        params = {"key": self.key, **{k: _param(v) for k, v in params.items() if v is not None}}
        url = f"{self.base_url}/{path.strip('/')}/"
        options = {"params": params} if method == "GET" else {"data": params}
        response = self.outbound.request(method, url, **options)
        if response.status_code == 403:
            raise ProviderUnavailable("Steam refused our publisher key (HTTP 403).")
        if response.status_code == 401 and not_authorized_ok:
            return {}
        try:
            body = response.json() if response.status_code == 200 else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderUnavailable(f"Steam answered HTTP {response.status_code} to {path}.")
        return body

    def authenticate_ticket(self, ticket: str, *, identity: str | None = None) -> TicketOwner:
        """Who holds this session ticket (ISteamUserAuth/AuthenticateUserTicket)."""
        if not TICKET.match(ticket):
            raise Invalid(
                "The ticket must be hex.", code="validation_error", errors={"ticket": ["Not hex."]}
            )
        body = self.call(
            "GET",
            "ISteamUserAuth/AuthenticateUserTicket/v1",
            appid=self.app_id,
            ticket=ticket,
            identity=identity,
        )
        response = body.get("response") or {}
        params = response.get("params") or {}
        if "error" in response or params.get("result") != "OK":
            error = response.get("error") or {}
            raise Unauthorized(
                f"Steam refused the ticket: {error.get('errordesc', 'invalid ticket')}.",
                code="steam_ticket_invalid",
            )
        try:
            steam_id = parse_steam_id(str(params["steamid"]))
            owner = parse_steam_id(str(params.get("ownersteamid") or steam_id))
        except (KeyError, ValueError):
            raise ProviderUnavailable("Steam answered without a valid steamid.") from None
        return TicketOwner(
            steam_id=steam_id,
            owner_steam_id=owner,
            vac_banned=bool(params.get("vacbanned")),
            publisher_banned=bool(params.get("publisherbanned")),
        )

    def owns_app(self, steam_id: str) -> bool:
        """Whether the account owns our app (ISteamUser/CheckAppOwnership)."""
        body = self.call(
            "GET", "ISteamUser/CheckAppOwnership/v2", steamid=steam_id, appid=self.app_id
        )
        ownership = body.get("appownership") or {}
        return ownership.get("result") == "OK" and bool(ownership.get("ownsapp"))

    def player_summary(self, steam_id: str) -> dict[str, Any]:
        """Public profile fields (persona name, avatar, profile URL); empty if Steam has none."""
        body = self.call("GET", "ISteamUser/GetPlayerSummaries/v2", steamids=steam_id)
        players = (body.get("response") or {}).get("players") or []
        player = next((p for p in players if p.get("steamid") == steam_id), {})
        return {
            "persona_name": player.get("personaname"),
            "avatar_url": player.get("avatarfull"),
            "profile_url": player.get("profileurl"),
            "country": player.get("loccountrycode"),
        }

    def friend_ids(self, steam_id: str) -> list[str]:
        """SteamID64s of the account's friends (ISteamUser/GetFriendList); [] if private."""
        body = self.call(
            "GET",
            "ISteamUser/GetFriendList/v1",
            not_authorized_ok=True,
            steamid=steam_id,
            relationship="friend",
        )
        friends = (body.get("friendslist") or {}).get("friends") or []
        return [str(f["steamid"]) for f in friends if STEAM_ID64.match(str(f.get("steamid", "")))]


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value
