"""Issue 14's table: this project on Nakama's own ground, each row against /healthz.

    .venv/bin/python bench/nakama.py --seconds 8 --redis redis://127.0.0.1:6379/15
    .venv/bin/python bench/nakama.py --seconds 8 --profile /tmp/nakama-profile   # py-spy

One run: a scratch database (pp_bench_nakama) with 2,000 signed-in players on one board (`best`
operator, descending), 200 Steam buyers and 1,000 funded gem wallets; `wsgi:app` under granian
(2 workers x 4 threads, as `make run`) on PostgreSQL and Redis; the loopback Steam stand-in
(tests/fakes/steam.py) served by this process; 32 keep-alive connections from an asyncio client
on the same 2 cores. Every row is printed with req/s (operations/s for a purchase: init, the
player's approval in the fake overlay, finalize), p50, p99, its ratio to /healthz measured in
the same run, and Nakama 3.40's figures from the issue (a quiet machine) for reference.

The project has no device-id sign-in: a device keeps a refresh token, so the row Nakama fills
with its device sign-in is the refresh-token exchange here (rotating), measured as its own run
beside the "token refresh" row (the same route).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import commerce  # noqa: E402
from bench.leaderboards import (  # noqa: E402
    SEASON,
    drive,
    fresh_database,
    get,
    post,
    print_ratio_table,
    profile,
    running_server,
    seed,
)
from player_platform.db import utcnow  # noqa: E402
from player_platform.platform import Platform  # noqa: E402
from player_platform.wallet import service as wallet  # noqa: E402
from tests.fakes import serve  # noqa: E402
from tests.fakes import steam as fake_steam  # noqa: E402

DATABASE = "pp_bench_nakama"
PLAYERS = 2_000
NEW_BEST_FROM = 10**7  # above every seeded score: each submission of the counter is a new best
NAKAMA = {  # issue 14, Nakama 3.40 on a quiet machine: req/s (p99 ms)
    "/healthz": "21,060 (5)",
    "submit score, best, random": "5,587 (14)",
    "submit score, new best every time": "5,978 (13)",
    "top-10 read": "4,851 (16)",
    "around-me read (5 each side)": "2,395 (33)",
    "sign-in vs refresh exchange": "7,388 (device id)",
    "token refresh": "8,200 (10)",
}


class RefreshChain:
    """One device's refresh token, spent and replaced by every exchange."""

    def __init__(self, token: str) -> None:
        self.token = token

    def request(self) -> bytes:
        return post("/v1/auth/refresh", json.dumps({"refresh_token": self.token}), None)

    def answer(self, ok: bool, body: bytes) -> bool:
        if ok:
            self.token = json.loads(body)["refresh_token"]
        return True


class SteamPurchase:
    """init, the player's approval in the fake Steam overlay, finalize: one operation."""

    def __init__(self, steam: fake_steam.FakeSteam, tokens: list[str]) -> None:
        self.steam, self.tokens = steam, tokens
        self.order: str | None = None
        self.token = ""

    def request(self) -> bytes:
        if self.order is None:
            self.token = random.choice(self.tokens)
            sku = random.choice(["sword", "gems"])
            body = json.dumps({"sku_id": sku, "quantity": 1})
            return post("/v1/commerce/steam/init", body, self.token)
        body = json.dumps({"order_id": self.order})
        return post("/v1/commerce/steam/finalize", body, self.token)

    def answer(self, ok: bool, body: bytes) -> bool:
        if not ok or self.order is not None:
            self.order = None
            return True
        started = json.loads(body)
        self.steam.approve(started["payment"]["orderid"])
        self.order = started["order"]["id"]
        return False


def steam_players(steam: fake_steam.FakeSteam, count: int) -> list[str]:
    """Session tickets of the bench's Steam buyers (their SteamIDs, as commerce.seed made)."""
    tickets = []
    for i in range(count):
        steam_id = str(76561198000000000 + i)
        steam.owners.add(steam_id)
        steam.profiles[steam_id] = {"steamid": steam_id, "personaname": f"buyer{i}"}
        tickets.append(steam.add_ticket(steam_id))
    return tickets


def refresh_tokens(port: int, tickets: list[str], count: int) -> list[str]:
    """``count`` refresh tokens from Steam sign-ins (one family each)."""

    class SignIn:
        tokens: list[str] = []

        def request(self) -> bytes:
            return post("/v1/auth/steam", json.dumps({"ticket": random.choice(tickets)}), None)

        def answer(self, ok: bool, body: bytes) -> bool:
            if ok and len(SignIn.tokens) < count:
                SignIn.tokens.append(json.loads(body)["refresh_token"])
            return True

    while len(SignIn.tokens) < count:
        asyncio.run(drive(port, None, 0.2, 8, conversation=SignIn))
    return SignIn.tokens[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--server-log", default="/tmp/pp_bench_nakama_server.log")
    parser.add_argument("--only", help="comma-separated substrings: run the matching rows only")
    parser.add_argument("--profile", metavar="DIR", help="py-spy each row (collapsed stacks)")
    parser.add_argument(
        "--against",
        metavar="DIR",
        help="another checkout (e.g. `git archive main`) served beside this one on --port + 1: "
        "every row alternates --rounds bursts between the two, so a busy machine's load "
        "falls on both alike; prints both tables and this/that per row",
    )
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake Steam's request log
    Path(args.server_log).write_bytes(b"")

    url = fresh_database(DATABASE)
    started = time.perf_counter()
    tokens, user_ids = seed(url, players=PLAYERS, redis_url=args.redis)
    steam = fake_steam.FakeSteam()
    with (
        serve(fake_steam.steam_app(steam)) as steam_url,
        tempfile.TemporaryDirectory() as storage,
        ExitStack() as servers,
    ):
        settings = commerce.bench_settings(url, args.redis, f"file://{storage}", steam_url)
        platform = Platform.from_settings(settings)
        load = Load(steam, tokens, user_ids, *commerce.seed(platform))
        load.wallet_tokens = commerce.sign_in(platform, [*load.buyers, load.hot, *load.holders])
        load.tickets = steam_players(steam, len(load.buyers))
        print(f"seeded {PLAYERS:,} players on one board in {time.perf_counter() - started:.1f} s")
        roots = {"this": ROOT} | ({} if args.against is None else {"that": Path(args.against)})
        sides = {}
        for offset, (side, root) in enumerate(roots.items()):
            server = servers.enter_context(
                running_server(
                    args,
                    "granian",
                    database_url=url,
                    redis_url=args.redis,
                    port=args.port + offset,
                    root=root,
                    PP_STORAGE_URL=settings.storage_url,
                    PP_STEAM_API_URL=steam_url,
                    PP_STEAM_API_KEY=fake_steam.PUBLISHER_KEY,
                    PP_STEAM_APP_ID=str(fake_steam.APP_ID),
                    PP_RATE_LIMIT_WRITE_USER="10000000",
                    PP_RATE_LIMIT_AUTH_IP="100000000",
                )
            )
            sides[side] = Side(args.port + offset, server.pid)
        tables = run_rows(args, sides, load)
        servers.close()
        with platform.db.unit_of_work() as session:
            mismatches = wallet.reconcile(session)
            hot_balance = wallet.locked_wallet(
                session, user_id=load.hot, sku_id="gems", now=utcnow()
            ).balance
        platform.redis.flushdb()
    print(
        f"\ngranian, {args.workers} workers x {args.threads} threads, {args.connections} "
        f"connections, {args.seconds:g} s per row, {PLAYERS:,} signed-in players on one board; "
        "reference: Nakama 3.40 req/s (p99 ms), issue 14"
    )
    for side, rows in tables.items():
        if args.against is not None:
            print(f"\n{side}: {roots[side]}")
        print_ratio_table(rows, NAKAMA)
    if args.against is not None:
        print("\nthis / that, req/s:")
        for mine, theirs in zip(tables["this"], tables["that"], strict=True):
            print(f"  {mine[0]:<34} {mine[1] / theirs[1]:5.2f}")
    print(
        f"wallets: {len(mismatches)} reconciliation mismatches; the hot wallet lost "
        f"{commerce.FUNDS - hot_balance} gems"
    )


@dataclass
class Side:
    """One server under test, and what its rows measured so far."""

    port: int
    pid: int
    chains: list[RefreshChain] = field(default_factory=list)


@dataclass
class Load:
    """Who the requests come from."""

    steam: fake_steam.FakeSteam
    tokens: list[str]
    user_ids: list[str]
    buyers: list
    hot: object
    holders: list
    wallet_tokens: dict = field(default_factory=dict)
    tickets: list[str] = field(default_factory=list)


def scenarios(load: Load) -> dict:
    """Each row: a request maker, or None for a conversation (conversation_of)."""
    board = f"/v1/leaderboards/{SEASON}"
    new_best = itertools.count(NEW_BEST_FROM)
    gems = json.dumps({"sku_id": "gems", "quantity": 1})
    holder_tokens = [load.wallet_tokens[h] for h in load.holders]
    return {
        "/healthz": lambda: get("/healthz"),
        "submit score, best, random": lambda: post(
            f"{board}/scores",
            f'{{"score": {random.randrange(2 * 10**6)}}}',
            random.choice(load.tokens),
        ),
        "submit score, new best every time": lambda: post(
            f"{board}/scores", f'{{"score": {next(new_best)}}}', random.choice(load.tokens)
        ),
        "top-10 read": lambda: get(f"{board}?limit=10"),
        "around-me read (5 each side)": lambda: get(
            f"{board}/around/{random.choice(load.user_ids)}?radius=5"
        ),
        "/v1/me": lambda: get("/v1/me", random.choice(load.tokens)),
        "sign-in vs refresh exchange": None,
        "token refresh": None,
        "Steam ticket sign-in": lambda: post(
            "/v1/auth/steam", json.dumps({"ticket": random.choice(load.tickets)}), None
        ),
        "wallet spend, one hot wallet": lambda: post(
            "/v1/me/wallet/spend", gems, load.wallet_tokens[load.hot]
        ),
        "wallet spend, 1,000 wallets": lambda: post(
            "/v1/me/wallet/spend", gems, random.choice(holder_tokens)
        ),
        "Steam purchase (init + finalize)": None,
    }


def conversation_of(name: str, args, side: Side, load: Load):
    """The conversation factory of a multi-request row (None for the others): refresh chains
    are made once per side and row, and handed to the connections of every burst in turn."""
    if name in ("sign-in vs refresh exchange", "token refresh"):
        if not side.chains:
            tokens = refresh_tokens(side.port, load.tickets, args.connections)
            side.chains = [RefreshChain(token) for token in tokens]
        turn = itertools.cycle(side.chains)
        return lambda: next(turn)
    if name == "Steam purchase (init + finalize)":
        buyer_tokens = [load.wallet_tokens[b] for b in load.buyers]
        return lambda: SteamPurchase(load.steam, buyer_tokens)
    return None


def run_rows(args, sides: dict[str, Side], load: Load) -> dict[str, list]:
    """Every row for every side: bursts alternate between the sides (one burst of
    --seconds when there is one side)."""
    wanted = args.only.split(",") if args.only else None
    rounds = args.rounds if len(sides) > 1 else 1
    spying = args.profile if len(sides) == 1 else None  # py-spy one server only
    tables: dict[str, list] = {side: [] for side in sides}
    for name, make in scenarios(load).items():
        if wanted and name != "/healthz" and not any(w in name for w in wanted):
            continue
        samples = {side: [] for side in sides}
        spent = dict.fromkeys(sides, 0.0)
        errors = dict.fromkeys(sides, 0)
        for side in sides.values():  # warm up
            talk = conversation_of(name, args, side, load)
            asyncio.run(drive(side.port, make, 0.5, args.connections, conversation=talk))
        for turn in range(rounds):
            order = list(sides.items())  # who goes first alternates: no side always warmer
            for side_name, side in order if turn % 2 == 0 else order[::-1]:
                talk = conversation_of(name, args, side, load)
                spy = profile(spying, name, side.pid, args.seconds)
                started = time.perf_counter()
                *_, failed = asyncio.run(
                    drive(
                        side.port,
                        make,
                        args.seconds / rounds,
                        args.connections,
                        conversation=talk,
                        samples=samples[side_name],
                    )
                )
                spent[side_name] += time.perf_counter() - started
                errors[side_name] += failed
                if spy is not None:
                    spy.wait()
        for side_name in sides:
            cuts = statistics.quantiles(samples[side_name], n=100)
            rate = len(samples[side_name]) / spent[side_name]
            tables[side_name].append(
                (name, rate, cuts[49] * 1000, cuts[98] * 1000, errors[side_name])
            )
    return tables


if __name__ == "__main__":
    main()
