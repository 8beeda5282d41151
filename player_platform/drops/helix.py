"""Twitch Helix for drops (PROVIDERS.md 1.6, 1.8): an app access token by client credentials,
the ``drop.entitlement.grant`` EventSub subscription, and the Drops entitlements (read in
pages, marked FULFILLED in batches of at most 100)."""

from __future__ import annotations

import threading
import time
from typing import Any

from player_platform.config import Settings
from player_platform.outbound import Outbound, ProviderUnavailable

PATCH_LIMIT = 100  # entitlement ids per Update Drops Entitlements call
PAGE_SIZE = 1000  # Get Drops Entitlements' largest page
# Per-id answers of Update Drops Entitlements that will not change by trying again.
FINAL_REJECTIONS = ("INVALID_ID", "NOT_FOUND", "UNAUTHORIZED")


class Helix:
    def __init__(
        self, *, api_url: str, auth_url: str, client_id: str | None, client_secret: str | None
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.outbound = Outbound("Twitch")
        self.page_size = PAGE_SIZE
        self._token: tuple[str, float] | None = None  # (token, monotonic expiry)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Helix:
        return cls(
            api_url=settings.twitch_api_url,
            auth_url=settings.twitch_auth_url,
            client_id=settings.twitch_client_id,
            client_secret=settings.twitch_client_secret,
        )

    def create_subscription(
        self, *, condition: dict[str, str], callback: str, secret: str
    ) -> dict[str, Any]:
        """Subscribe to ``drop.entitlement.grant`` (batched, as Twitch requires for drops)."""
        status, body = self._call(
            "POST",
            "/eventsub/subscriptions",
            json={
                "type": "drop.entitlement.grant",
                "version": "1",
                "condition": condition,
                "transport": {"method": "webhook", "callback": callback, "secret": secret},
                "is_batching_enabled": True,
            },
        )
        if status not in (200, 202) or not body.get("data"):
            raise ProviderUnavailable(f"Twitch refused the subscription: {_message(status, body)}")
        return body["data"][0]

    def fulfil(self, entitlement_ids: list[str]) -> dict[str, list[str]]:
        """Mark up to 100 entitlements FULFILLED; the ids by per-id status Twitch answered."""
        status, body = self._call(
            "PATCH",
            "/entitlements/drops",
            json={"fulfillment_status": "FULFILLED", "entitlement_ids": entitlement_ids},
            retry=True,  # setting FULFILLED twice is harmless
        )
        if status != 200:
            raise ProviderUnavailable(f"Twitch refused the update: {_message(status, body)}")
        outcome: dict[str, list[str]] = {}
        for group in body.get("data") or []:
            outcome.setdefault(str(group.get("status")), []).extend(map(str, group.get("ids", [])))
        return outcome

    def entitlements(
        self, *, after: str | None, fulfillment_status: str
    ) -> tuple[list, str | None]:
        """One page of the organisation's Drops entitlements and the cursor of the next."""
        params = {"fulfillment_status": fulfillment_status, "first": self.page_size}
        if after:
            params["after"] = after
        status, body = self._call("GET", "/entitlements/drops", params=params)
        if status != 200:
            raise ProviderUnavailable(f"Twitch refused the listing: {_message(status, body)}")
        return list(body.get("data") or []), (body.get("pagination") or {}).get("cursor") or None

    def _call(self, method: str, path: str, **options: Any) -> tuple[int, Any]:
        for fresh in (False, True):
            headers = {"Client-Id": self.client_id, "Authorization": f"Bearer {self._app_token()}"}
            status, body = self.outbound.json(
                method, f"{self.api_url}{path}", headers=headers, **options
            )
            if status != 401 or fresh:
                return status, body
            with self._lock:
                self._token = None  # expired or revoked: fetch a new one once
        return status, body

    def _app_token(self) -> str:
        if not (self.client_id and self.client_secret):
            raise ProviderUnavailable("Twitch is not configured: set PP_TWITCH_CLIENT_ID/SECRET.")
        with self._lock:
            if self._token is not None and self._token[1] > time.monotonic():
                return self._token[0]
            status, body = self.outbound.json(
                "POST",
                f"{self.auth_url}/token",
                data={
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "grant_type": "client_credentials",
                },
                retry=True,
            )
            if status != 200 or not body.get("access_token"):
                raise ProviderUnavailable(f"Twitch refused an app token: {_message(status, body)}")
            lifetime = max(int(body.get("expires_in") or 0) - 60, 0)
            self._token = (body["access_token"], time.monotonic() + lifetime)
            return self._token[0]


def _message(status: int, body: Any) -> str:
    text = body.get("message") if isinstance(body, dict) else None
    return f"HTTP {status} {str(text or '')[:200]}".strip()
