"""Calls to outside services (Steam, Epic, Twitch, Stripe, suppliers): one HTTP client for all.

Every call has a connect and a read timeout. Idempotent calls (GET, or a POST the caller marks
safe to repeat) are retried on connection errors and 5xx answers with a short backoff. What comes
back is parsed JSON; a transport failure or an answer that is not JSON raises
``ProviderUnavailable`` (503 to our clients), never a stack trace.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from player_platform.errors import Unavailable

log = logging.getLogger(__name__)

TIMEOUT = (3.05, 10)  # connect, read (seconds)
RETRY_DELAYS = (0.2, 0.8)  # after the first and the second failed attempt


class ProviderUnavailable(Unavailable):
    code = "provider_unavailable"


class _Session(requests.Session):
    """A requests session that reads its environment settings (proxies, ``no_proxy``, CA
    bundle) once per origin, not on every call: requests looks them up per request, which was
    ~15 % of a Steam sign-in's CPU (three calls). The environment does not change under a
    running process."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str], dict[str, Any]] = {}

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        if proxies or stream is not None or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        origin = urlsplit(url)[:2]
        settings = self._environment.get(origin)
        if settings is None:
            settings = super().merge_environment_settings(url, {}, None, None, None)
            self._environment[origin] = settings
        return {**settings, "proxies": dict(settings["proxies"])}


class Outbound:
    """A pooled HTTP session for one provider, named in logs and errors."""

    def __init__(self, provider: str, *, timeout: tuple[float, float] = TIMEOUT) -> None:
        self.provider = provider
        self.timeout = timeout
        self.http = _Session()
        self.http.headers["User-Agent"] = "player-platform/1"

    def request(
        self, method: str, url: str, *, retry: bool | None = None, **options: Any
    ) -> requests.Response:
        """Send one request; retry idempotent ones on transport errors and 5xx answers."""
        retry = method.upper() in {"GET", "HEAD"} if retry is None else retry
        delays = RETRY_DELAYS if retry else ()
        for attempt in range(len(delays) + 1):
            try:
                response = self.http.request(method, url, timeout=self.timeout, **options)
            except requests.RequestException as error:
                failure = f"{error.__class__.__name__}"
            else:
                if response.status_code < 500:
                    return response
                failure = f"HTTP {response.status_code}"
            log.warning(
                "outbound call failed",
                extra={"provider": self.provider, "failure": failure, "attempt": attempt + 1},
            )
            if attempt < len(delays):
                time.sleep(delays[attempt])
        raise ProviderUnavailable(f"{self.provider} did not answer ({failure}); try again later.")

    def json(self, method: str, url: str, **options: Any) -> tuple[int, Any]:
        """The status and parsed JSON body of a request."""
        response = self.request(method, url, **options)
        try:
            return response.status_code, response.json()
        except ValueError:
            raise ProviderUnavailable(
                f"{self.provider} answered HTTP {response.status_code} without JSON."
            ) from None
