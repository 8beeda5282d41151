"""Steam in-game purchases (ISteamMicroTxn, PROVIDERS.md 2.4) on top of the shared Web API
client: InitTxn, FinalizeTxn, QueryTxn, RefundTxn and GetReport. ``PP_STEAM_SANDBOX`` sends
everything to ISteamMicroTxnSandbox. Steam answers business errors as HTTP 200 with
``result: Failure``; those raise ``SteamTxnFailed`` with Steam's error code and text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from player_platform.errors import PaymentRequired
from player_platform.identity.steam import SteamWebApi
from player_platform.outbound import ProviderUnavailable


class SteamTxnFailed(PaymentRequired):
    code = "steam_txn_failed"


@dataclass(frozen=True)
class TxnLine:
    item_id: int
    quantity: int
    amount: int  # the line total in the currency's smallest unit
    description: str


class SteamMicroTxn:
    def __init__(self, api: SteamWebApi, *, sandbox: bool) -> None:
        self.api = api
        self.interface = "ISteamMicroTxnSandbox" if sandbox else "ISteamMicroTxn"

    def _call(self, http: str, method: str, **params: Any) -> dict[str, Any]:
        body = self.api.call(http, f"{self.interface}/{method}", appid=self.api.app_id, **params)
        response = body.get("response")
        if not isinstance(response, dict) or not isinstance(response.get("params", {}), dict):
            raise ProviderUnavailable(f"Steam answered {method} without a response object.")
        if response.get("result") != "OK":
            error = response.get("error") or {}
            raise SteamTxnFailed(
                f"Steam refused {method}: {error.get('errordesc', 'failure')}.",
                steam_error=error.get("errorcode"),
            )
        return response.get("params") or {}

    def init_txn(
        self,
        *,
        order_id: int,
        steam_id: str,
        currency: str,
        language: str,
        lines: list[TxnLine],
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "orderid": order_id,
            "steamid": steam_id,
            "itemcount": len(lines),
            "language": language,
            "currency": currency,
            "usersession": "client",
        }
        for i, line in enumerate(lines):
            params[f"itemid[{i}]"] = line.item_id
            params[f"qty[{i}]"] = line.quantity
            params[f"amount[{i}]"] = line.amount
            params[f"description[{i}]"] = line.description[:128]
        return self._call("POST", "InitTxn/v3", **params)

    def finalize_txn(self, order_id: int) -> dict[str, Any]:
        return self._call("POST", "FinalizeTxn/v2", orderid=order_id)

    def query_txn(self, order_id: int) -> dict[str, Any]:
        return self._call("GET", "QueryTxn/v3", orderid=order_id)

    def refund_txn(self, order_id: int) -> dict[str, Any]:
        return self._call("POST", "RefundTxn/v2", orderid=order_id)

    def report(self, *, since: str, type: str = "GAMESALES", max_results: int = 1000) -> list[dict]:
        """Orders changed since ``since`` (RFC 3339 UTC), oldest first."""
        params = self._call("GET", "GetReport/v5", time=since, type=type, maxresults=max_results)
        orders = params.get("orders") or []
        return sorted((o for o in orders if isinstance(o, dict)), key=lambda o: str(o.get("time")))
