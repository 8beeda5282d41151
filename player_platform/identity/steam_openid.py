"""Sign in through Steam on the web: OpenID 2.0 (PROVIDERS.md 2.1).

The player is sent to Steam with a ``return_to`` that carries our signed, short-lived ``state``.
Steam's answer is trusted only after the local checks (endpoint, return_to and state, claimed
id, signed fields, nonce freshness, nonce never seen before) and Steam's own
``check_authentication`` agree. Steam's ``mode``/``ns`` strings are fixed by the protocol.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete
from sqlalchemy.orm import Session

from player_platform.db import insert_for, new_id
from player_platform.errors import Unauthorized
from player_platform.identity.models import UsedNonce
from player_platform.identity.steam import parse_steam_id
from player_platform.outbound import Outbound, ProviderUnavailable

OPENID_NS = "http://specs.openid.net/auth/2.0"
IDENTIFIER_SELECT = "http://specs.openid.net/auth/2.0/identifier_select"
STEAM_OP_ENDPOINT = "https://steamcommunity.com/openid/login"
CLAIMED_ID = re.compile(r"^https://steamcommunity\.com/openid/id/(\d{17})$")
MUST_BE_SIGNED = {"op_endpoint", "claimed_id", "identity", "return_to", "response_nonce"}
NONCE_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")
STATE_SECONDS = 600  # the player has this long to come back from Steam
NONCE_SECONDS = 300  # Steam's answer must be this fresh


class SteamOpenId:
    def __init__(self, *, endpoint: str, callback_url: str, secret: str) -> None:
        self.endpoint = endpoint
        self.callback_url = callback_url
        self.states = URLSafeTimedSerializer(secret, salt="steam-openid-state")
        self.outbound = Outbound("Steam OpenID")

    def login_url(self) -> str:
        """Where to send the browser: Steam's sign-in page, coming back to our callback."""
        state = self.states.dumps(secrets.token_urlsafe(16))
        return_to = f"{self.callback_url}?{urlencode({'state': state})}"
        split = urlsplit(self.callback_url)
        query = {
            "openid.ns": OPENID_NS,
            "openid.mode": "checkid_setup",
            "openid.claimed_id": IDENTIFIER_SELECT,
            "openid.identity": IDENTIFIER_SELECT,
            "openid.return_to": return_to,
            "openid.realm": f"{split.scheme}://{split.netloc}",
        }
        return f"{self.endpoint}?{urlencode(query)}"

    def verify(self, session: Session, params: Mapping[str, str], *, now: datetime) -> str:
        """The SteamID64 that Steam vouches for in this callback, or Unauthorized."""
        if params.get("openid.mode") == "cancel":
            raise Unauthorized("The sign-in was cancelled at Steam.", code="steam_openid_cancelled")
        steam_id = self._check_locally(params, now=now)
        self._spend_nonce(session, params["openid.response_nonce"], now=now)
        self._check_with_steam(params)
        return steam_id

    def _check_locally(self, params: Mapping[str, str], *, now: datetime) -> str:
        signed = set(params.get("openid.signed", "").split(","))
        claimed = CLAIMED_ID.match(params.get("openid.claimed_id", ""))
        checks = {
            "mode": params.get("openid.mode") == "id_res" and params.get("openid.ns") == OPENID_NS,
            "op_endpoint": params.get("openid.op_endpoint") == STEAM_OP_ENDPOINT,
            "return_to": self._our_return_to(params.get("openid.return_to", ""), params),
            "claimed_id": claimed is not None
            and params.get("openid.identity") == params.get("openid.claimed_id"),
            "signed": signed >= MUST_BE_SIGNED,
            "nonce": _fresh(params.get("openid.response_nonce", ""), now=now),
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise _refused(f"{', '.join(failed)} did not check out")
        try:
            return parse_steam_id(claimed.group(1))
        except ValueError:
            raise _refused("the claimed id is not an individual account") from None

    def _our_return_to(self, return_to: str, params: Mapping[str, str]) -> bool:
        """return_to is our callback with a state we signed recently, as the callback got it."""
        base, _, query = return_to.partition("?")
        if base != self.callback_url:
            return False
        state = parse_qs(query).get("state", [""])[0]
        if not state or params.get("state") != state:
            return False
        try:
            self.states.loads(state, max_age=STATE_SECONDS)
        except BadSignature:
            return False
        return True

    def _spend_nonce(self, session: Session, nonce: str, *, now: datetime) -> None:
        insert = insert_for(session, UsedNonce.__table__).values(
            id=new_id(),
            provider="steam",
            nonce=nonce[:255],
            expires_at=now + timedelta(seconds=NONCE_SECONDS * 2),
        )
        spent = session.execute(
            insert.on_conflict_do_nothing(index_elements=["provider", "nonce"]).returning(
                UsedNonce.__table__.c.id
            )
        ).scalar()
        if spent is None:
            raise Unauthorized("This Steam sign-in was already used.", code="openid_replayed")

    def _check_with_steam(self, params: Mapping[str, str]) -> None:
        form = {k: v for k, v in params.items() if k.startswith("openid.")}
        form["openid.mode"] = "check_authentication"
        response = self.outbound.request("POST", self.endpoint, data=form, retry=False)
        if response.status_code != 200:
            raise ProviderUnavailable(f"Steam OpenID answered HTTP {response.status_code}.")
        if "is_valid:true" not in response.text.splitlines():
            raise _refused("Steam did not confirm it")


def _fresh(nonce: str, *, now: datetime) -> bool:
    match = NONCE_TIME.match(nonce)
    if match is None:
        return False
    issued = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return -60 <= (now - issued).total_seconds() <= NONCE_SECONDS


def _refused(why: str) -> Unauthorized:
    return Unauthorized(f"The Steam sign-in was refused: {why}.", code="steam_openid_invalid")


def purge_spent_nonces(session: Session, *, now: datetime) -> int:
    """Forget nonces that are past any freshness window (a replay of them fails as stale)."""
    result = session.execute(delete(UsedNonce).where(UsedNonce.expires_at <= now))
    return result.rowcount or 0
