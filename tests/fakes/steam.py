"""A fake Steam on one host (PROVIDERS.md 2.7): Web API methods and the OpenID 2.0 endpoint.

Business errors are HTTP 200 with an ``error`` object, a missing or wrong ``key`` is HTTP 403,
every answer has Steam's wrapper. Tests arrange state on ``FakeSteam`` (tickets, owners,
profiles, friends) and read what was called from ``calls``.
"""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Flask, Response, abort, jsonify, redirect, request

from tests.fakes import Delays, hold_back_answers

PUBLISHER_KEY = "fake-publisher-key"
APP_ID = 480
OPENID_NS = "http://specs.openid.net/auth/2.0"
SIGNED = "signed,op_endpoint,claimed_id,identity,return_to,response_nonce,assoc_handle"


@dataclass
class Ticket:
    steam_id: str
    owner_steam_id: str | None = None
    vac_banned: bool = False
    publisher_banned: bool = False
    identity: str | None = None  # the pchIdentity the client used, if any


@dataclass
class FakeSteam:
    tickets: dict[str, Ticket] = field(default_factory=dict)
    owners: set[str] = field(default_factory=set)  # SteamIDs that own APP_ID
    profiles: dict[str, dict] = field(default_factory=dict)
    friends: dict[str, list[str] | None] = field(default_factory=dict)  # None: private profile
    openid_user: str | None = None  # who signs in at the OpenID page
    assertions: dict[str, dict[str, str]] = field(default_factory=dict)  # nonce -> fields
    checked_nonces: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    txns: dict[str, dict] = field(default_factory=dict)  # MicroTxn orders by orderid
    sandbox_calls: int = 0
    delays: Delays = field(default_factory=Delays)  # keys: "QueryTxn <orderid>", ...

    def reset(self) -> None:
        self.__dict__.update(FakeSteam().__dict__)

    def approve(self, orderid: str) -> None:
        """The player approved the purchase in the Steam overlay."""
        self.txns[str(orderid)]["status"] = "Approved"

    def reverse(self, orderid: str, status: str = "Refunded", *, items: list[int] | None = None):
        """Steam refunded (or charged back) the order; GetReport shows it from now on."""
        txn = self.txns[str(orderid)]
        txn["status"] = status
        txn["time"] = _now()
        for item in txn["items"]:
            if items is None or item["itemid"] in items:
                item["itemstatus"] = "Refunded" if status != "Chargedback" else "Chargedback"

    def add_ticket(self, steam_id: str, **options) -> str:
        ticket = os.urandom(24).hex()
        self.tickets[ticket] = Ticket(steam_id=steam_id, **options)
        return ticket


def steam_app(state: FakeSteam) -> Flask:
    app = Flask("fake_steam")
    hold_back_answers(app, lambda: state.delays, lambda: _delay_key(request))

    @app.before_request
    def check_key():
        state.calls.append(request.path)
        if request.path.startswith("/openid/"):
            return None
        key = request.values.get("key")
        if key != PUBLISHER_KEY:
            abort(Response("<html><body><h1>Forbidden</h1>Access is denied.</body></html>", 403))
        return None

    @app.get("/ISteamUserAuth/AuthenticateUserTicket/v1/")
    def authenticate_user_ticket():
        ticket = state.tickets.get(request.args.get("ticket", "").lower())
        if request.args.get("appid") != str(APP_ID) or ticket is None:
            return _error(101, "Invalid ticket")
        if ticket.identity is not None and request.args.get("identity") != ticket.identity:
            return _error(101, "Invalid ticket")
        params = {
            "result": "OK",
            "steamid": ticket.steam_id,
            "ownersteamid": ticket.owner_steam_id or ticket.steam_id,
            "vacbanned": ticket.vac_banned,
            "publisherbanned": ticket.publisher_banned,
        }
        return jsonify({"response": {"params": params}})

    _user_routes(app, state)
    _openid_routes(app, state)
    _microtxn_routes(app, state)
    return app


def _user_routes(app: Flask, state: FakeSteam) -> None:
    @app.get("/ISteamUser/CheckAppOwnership/v2/")
    def check_app_ownership():
        steam_id = request.args.get("steamid", "")
        owns = steam_id in state.owners and request.args.get("appid") == str(APP_ID)
        ownership = {
            "ownsapp": owns,
            "permanent": owns,
            "timestamp": "2024-01-01T00:00:00Z",
            "ownersteamid": steam_id if owns else "0",
            "sitelicense": False,
            "result": "OK",
        }
        return jsonify({"appownership": ownership})

    @app.get("/ISteamUser/GetPlayerSummaries/v2/")
    def get_player_summaries():
        ids = request.args.get("steamids", "").split(",")[:100]
        players = [{"steamid": i, **state.profiles[i]} for i in ids if i in state.profiles]
        return jsonify({"response": {"players": players}})

    @app.get("/ISteamUser/GetFriendList/v1/")
    def get_friend_list():
        steam_id = request.args.get("steamid", "")
        friends = state.friends.get(steam_id, [])
        if friends is None:  # Steam answers 401 for a private friend list
            return Response("<html><body>Unauthorized</body></html>", 401)
        since = 1_600_000_000
        listed = [{"steamid": f, "relationship": "friend", "friend_since": since} for f in friends]
        return jsonify({"friendslist": {"friends": listed}})


def _openid_routes(app: Flask, state: FakeSteam) -> None:
    @app.get("/openid/login")
    def openid_login():
        if request.args.get("openid.mode") != "checkid_setup" or state.openid_user is None:
            abort(400)
        claimed = f"https://steamcommunity.com/openid/id/{state.openid_user}"
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        nonce = stamp + base64.b64encode(os.urandom(15)).decode()
        fields = {
            "openid.ns": OPENID_NS,
            "openid.mode": "id_res",
            "openid.op_endpoint": "https://steamcommunity.com/openid/login",
            "openid.claimed_id": claimed,
            "openid.identity": claimed,
            "openid.return_to": request.args["openid.return_to"],
            "openid.response_nonce": nonce,
            "openid.assoc_handle": "1234567890",
            "openid.signed": SIGNED,
            "openid.sig": base64.b64encode(os.urandom(20)).decode(),
        }
        state.assertions[nonce] = fields
        target = request.args["openid.return_to"]
        return redirect(target + ("&" if "?" in target else "?") + urlencode(fields))

    @app.post("/openid/login")
    def openid_check_authentication():
        received = request.form.to_dict()
        nonce = received.get("openid.response_nonce", "")
        with state.lock:
            issued = state.assertions.get(nonce)
            fresh = nonce not in state.checked_nonces
            state.checked_nonces.add(nonce)
        valid = (
            received.get("openid.mode") == "check_authentication"
            and issued is not None
            and fresh
            and all(received.get(k) == v for k, v in issued.items() if k != "openid.mode")
        )
        text = f"ns:{OPENID_NS}\nis_valid:{'true' if valid else 'false'}\n"
        return Response(text, mimetype="text/plain")


def _microtxn_routes(app: Flask, state: FakeSteam) -> None:
    """ISteamMicroTxn and ISteamMicroTxnSandbox (PROVIDERS.md 2.4): orders kept by orderid."""
    methods = {
        ("POST", "InitTxn/v3"): _init_txn,
        ("POST", "FinalizeTxn/v2"): _finalize_txn,
        ("GET", "QueryTxn/v3"): _query_txn,
        ("POST", "RefundTxn/v2"): _refund_txn,
        ("GET", "GetReport/v5"): _get_report,
    }

    @app.route(
        "/<any(ISteamMicroTxn, ISteamMicroTxnSandbox):interface>/<name>/<version>/",
        methods=["GET", "POST"],
    )
    def microtxn(interface: str, name: str, version: str):
        handler = methods.get((request.method, f"{name}/{version}"))
        if handler is None:
            abort(404)
        if interface == "ISteamMicroTxnSandbox":
            state.sandbox_calls += 1
        values = request.form if request.method == "POST" else request.args
        with state.lock:
            return handler(state, values)


def _delay_key(req) -> str:
    """``<method name> <orderid>`` for MicroTxn calls (``QueryTxn 123``), else the path."""
    parts = req.path.strip("/").split("/")
    if len(parts) >= 2 and parts[0].startswith("ISteamMicroTxn"):
        values = req.form if req.method == "POST" else req.args
        return f"{parts[1]} {values.get('orderid', '')}".strip()
    return req.path


def _txn_failure(code: int, description: str):
    error = {"errorcode": code, "errordesc": description}
    return jsonify({"response": {"result": "Failure", "params": {}, "error": error}})


def _txn_ok(params: dict):
    return jsonify({"response": {"result": "OK", "params": params}})


def _txn_for(state: FakeSteam, values) -> dict | None:
    if values.get("appid") != str(APP_ID):
        return None
    return state.txns.get(values.get("orderid", ""))


def _init_txn(state: FakeSteam, form):
    orderid = form.get("orderid", "")
    count = int(form.get("itemcount", "0"))
    items = [
        {
            "itemid": int(form[f"itemid[{i}]"]),
            "qty": int(form[f"qty[{i}]"]),
            "amount": int(form[f"amount[{i}]"]),
            "vat": 0,
            "itemstatus": "Init",
        }
        for i in range(count)
    ]
    if form.get("appid") != str(APP_ID) or not items:
        return _txn_failure(3, "Invalid parameter")
    if orderid in state.txns:
        return _txn_failure(8, "Duplicate order id")
    transid = str(len(state.txns) + 1_000_000_000_000_000_000)
    state.txns[orderid] = {
        "orderid": orderid,
        "transid": transid,
        "steamid": form.get("steamid"),
        "status": "Init",
        "currency": form.get("currency"),
        "time": _now(),
        "country": "US",
        "usstate": "WA",
        "timecreated": _now(),
        "items": items,
    }
    return _txn_ok({"orderid": orderid, "transid": transid})


def _finalize_txn(state: FakeSteam, form):
    txn = _txn_for(state, form)
    if txn is None or txn["status"] != "Approved":
        return _txn_failure(10, "Order has not been approved")
    txn["status"], txn["time"] = "Succeeded", _now()
    for item in txn["items"]:
        item["itemstatus"] = "Succeeded"
    return _txn_ok({"orderid": txn["orderid"], "transid": txn["transid"]})


def _query_txn(state: FakeSteam, args):
    txn = _txn_for(state, args)
    return _txn_failure(7, "Order not found") if txn is None else _txn_ok(txn)


def _refund_txn(state: FakeSteam, form):
    txn = _txn_for(state, form)
    if txn is None or txn["status"] != "Succeeded":
        return _txn_failure(11, "Order cannot be refunded")
    state.reverse(txn["orderid"])
    return _txn_ok({"orderid": txn["orderid"], "transid": txn["transid"]})


def _get_report(state: FakeSteam, args):
    since = args.get("time", "")
    rows = sorted(
        (t for t in state.txns.values() if t["time"] >= since and t["status"] != "Init"),
        key=lambda t: t["time"],
    )[: int(args.get("maxresults", "1000"))]
    return _txn_ok({"count": len(rows), "orders": rows})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(code: int, description: str):
    return jsonify({"response": {"error": {"errorcode": code, "errordesc": description}}})


# --- standalone, for bench/auth_flow.py -----------------------------------------------------


def bench_steam_id(index: int) -> str:
    """The SteamID of bench player ``index`` (its ticket is ``bench_ticket(index)``)."""
    return str(76561198000000000 + index)


def bench_ticket(index: int) -> str:
    return f"{index:032x}"


def bench_state(players: int) -> FakeSteam:
    """A Steam where bench players 0..players-1 each hold a ticket, own the game and have a
    public profile."""
    state = FakeSteam()
    for index in range(players):
        steam_id = bench_steam_id(index)
        state.tickets[bench_ticket(index)] = Ticket(steam_id=steam_id)
        state.owners.add(steam_id)
        state.profiles[steam_id] = {"personaname": f"player{index}"}
    return state


def main() -> None:
    """Serve ``bench_state`` on a loopback port until stopped (threaded werkzeug)."""
    import argparse
    import logging

    from werkzeug.serving import make_server

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--bench-players", type=int, default=2000)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    state = bench_state(args.bench_players)
    state.calls = _Discarded()
    make_server("127.0.0.1", args.port, steam_app(state), threaded=True).serve_forever()


class _Discarded(list):
    """``FakeSteam.calls`` of a long-running stand-in: nobody reads it, so keep nothing."""

    def append(self, item: object) -> None:
        pass


if __name__ == "__main__":
    main()
