"""Outages answered as outages: a Redis, then a PostgreSQL, that the test started itself is
stopped while threads send registrations, wallet spends, score submissions and leaderboard
reads; nothing answers 500, and once the server is back every acknowledged write is there."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest
import redis as redis_lib
import requests
from rq import SimpleWorker
from sqlalchemy import select, update

from player_platform.__main__ import migrate
from player_platform.app import create_app
from player_platform.db import utcnow
from player_platform.leaderboards import lifecycle
from player_platform.leaderboards.models import Season
from player_platform.outage import Breaker, CircuitOpen
from player_platform.platform import Platform, bind_current
from player_platform.wallet import service as wallet
from player_platform.wallet.models import Wallet
from tests import factories
from tests.commerce.conftest import seed_catalog
from tests.conftest import make_settings, unavailable
from tests.fakes import serve
from tests.identity.test_session_cache import READ, ban, refused, warm
from tests.leaderboards.conftest import board_in_postgresql, board_in_redis
from tests.private_servers import PrivatePostgres, PrivateRedis
from tests.support import PASSWORD, bearer, login, register, signed_up, staff_tokens

THREADS = 4
GEMS = 10_000


@dataclass(frozen=True)
class Answer:
    kind: str
    status: int
    code: str | None
    retry_after: str | None
    player: int
    score: int | None = None


class Load:
    """Threads that each play one player in a loop until stopped, keeping every answer."""

    def __init__(self, base: str, season_id: str, players: list[dict]) -> None:
        self.base, self.season_id, self.players = base, season_id, players
        self.answers: list[Answer] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._play, args=(n,)) for n in range(len(players))
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join()

    def _play(self, n: int) -> None:
        http, headers = requests.Session(), self.players[n]["headers"]
        board = f"{self.base}/v1/leaderboards/{self.season_id}"
        step = 0
        while not self.stop.is_set():
            step += 1
            score = n * 1_000_000 + step
            calls = [
                ("register", None, lambda: http.post(
                    f"{self.base}/v1/auth/register",
                    json={"email": f"load-{uuid.uuid4().hex}@example.com",
                          "password": PASSWORD, "display_name": "Load"},
                )),
                ("spend", None, lambda: http.post(
                    f"{self.base}/v1/me/wallet/spend",
                    json={"sku_id": "gems", "quantity": 1}, headers=headers,
                )),
                ("submit", score, lambda score=score: http.post(
                    f"{board}/scores", json={"score": score}, headers=headers,
                )),
                ("top", None, lambda: http.get(board, params={"limit": 10})),
                ("me", None, lambda: http.get(f"{board}/me", headers=headers)),
            ]  # fmt: skip
            for kind, submitted, call in calls:
                self._keep(kind, n, submitted, call())

    def _keep(self, kind: str, n: int, score: int | None, response: requests.Response) -> None:
        body = response.json() if "json" in response.headers.get("Content-Type", "") else {}
        answer = Answer(
            kind,
            response.status_code,
            body.get("code") if isinstance(body, dict) else None,
            response.headers.get("Retry-After"),
            n,
            score,
        )
        with self._lock:
            self.answers.append(answer)

    def count(self) -> int:
        with self._lock:
            return len(self.answers)

    def run_for(self, requests_more: int, *, seconds: float = 20.0) -> None:
        """Wait until the threads have had ``requests_more`` more answers (or time is up)."""
        target, deadline = self.count() + requests_more, time.monotonic() + seconds
        while self.count() < target and time.monotonic() < deadline:
            time.sleep(0.02)


def _world(platform: Platform, http) -> tuple[str, list[dict]]:
    """A season open now, and THREADS players with GEMS gems each."""
    seed_catalog(platform)
    admin = bearer(staff_tokens(platform, role="admin")["access_token"])
    season_id = f"s-{uuid.uuid4().hex[:12]}"
    now = utcnow()
    created = http.post(
        "/v1/admin/seasons",
        json={
            "season_id": season_id,
            "name": "Outage cup",
            "type": "global",
            "start_date": (now - timedelta(minutes=5)).isoformat(),
            "end_date": (now + timedelta(hours=1)).isoformat(),
        },
        headers=admin,
    )
    assert created.status_code == 201, created.get_json()
    players = []
    for n in range(THREADS):
        tokens = register(http, display_name=f"Player {n}")
        user_id = uuid.UUID(tokens["user"]["id"])
        with platform.db.unit_of_work() as session:
            wallet.credit(session, user_id=user_id, sku_id="gems", quantity=GEMS, now=utcnow())
        players.append({"id": user_id, "headers": bearer(tokens["access_token"]), **tokens})
    return season_id, players


def _acknowledged_scores(answers: list[Answer]) -> dict[int, list[int]]:
    scores: dict[int, list[int]] = {}
    for a in answers:
        if a.kind == "submit" and a.status == 200:
            scores.setdefault(a.player, []).append(a.score)
    return scores


def _until_redis_answers(platform: Platform) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            platform.redis.ping()
            return
        except redis_lib.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _repair_and_rebuild(platform: Platform) -> None:
    """Run the periodic repair of stale indexes, then the rebuilds it scheduled, on RQ."""
    bind_current(platform)
    maintenance = platform.jobs.queue("maintenance")
    maintenance.enqueue("workers.leaderboards.repair_stale_indexes")
    rebuilds = platform.jobs.queue("leaderboard_update")
    SimpleWorker([maintenance, rebuilds], connection=platform.redis).work(burst=True)


def _metric(base: str, name: str, **labels: str) -> float:
    text = requests.get(f"{base}/metrics", timeout=10).text
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{name}{{{wanted}}} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


# Redis -------------------------------------------------------------------------------------


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(str(tmp_path))
    try:
        server.start()
    except (FileNotFoundError, RuntimeError) as error:
        unavailable("redis-server", error)
    yield server
    if server.process.poll() is None:
        server.stop(keep_data=False)


@pytest.fixture
def settings(database_url, private_redis, tmp_path, fake_servers):
    """The suite's settings, on the test's own Redis (this module only)."""
    return make_settings(database_url, private_redis.url, tmp_path, **fake_servers["settings"])


def test_redis_down_under_load_is_no_500_and_the_index_catches_up(
    live_server, live_platform, private_redis, caplog
):
    caplog.set_level(logging.WARNING, logger="player_platform.outage")
    setup = create_app(platform=live_platform).test_client()
    season_id, players = _world(live_platform, setup)
    locked = register(setup, display_name="Locked out")
    quiet = bearer(register(setup, display_name="Scores only while Redis is down")["access_token"])
    failed_open_before = _metric(live_server, "pp_redis_degraded_total", feature="rate_limit")

    with Load(live_server, season_id, players) as load:
        load.run_for(25)
        # Redis keeps its data (a restart with persistence, or a partition): its index of the
        # season comes back ready but without the scores written meanwhile.
        private_redis.stop(keep_data=True)
        load.run_for(100)

        # Lockout is in PostgreSQL: it holds while rate limits fail open.
        wrong = [login(setup, locked["email"], "wrong password").status_code for _ in range(5)]
        refused = login(setup, locked["email"])
        # An Idempotency-Key replays from PostgreSQL; the spend happens once.
        key = {**players[0]["headers"], "Idempotency-Key": uuid.uuid4().hex}
        spends = [
            setup.post("/v1/me/wallet/spend", json={"sku_id": "gems", "quantity": 1}, headers=key)
            for _ in range(2)
        ]
        # A submission with an Idempotency-Key writes in its own transaction (not the batch);
        # this player submits nothing else, so the index misses their entry.
        keyed = setup.post(
            f"/v1/leaderboards/{season_id}/scores",
            json={"score": 7},
            headers={**quiet, "Idempotency-Key": uuid.uuid4().hex},
        )
        failed_open = _metric(live_server, "pp_redis_degraded_total", feature="rate_limit")
        private_redis.start()
        _until_redis_answers(live_platform)  # the breaker lets a probe through after its cooldown
        load.run_for(20)

    statuses = Counter((a.kind, a.status) for a in load.answers)
    assert all(a.status < 400 for a in load.answers), statuses
    assert statuses[("submit", 200)] > 10 and statuses[("register", 201)] > 10, statuses
    assert wrong == [401] * 5
    assert refused.status_code == 429 and refused.get_json()["code"] == "account_locked"
    assert [s.status_code for s in spends] == [200, 200], [s.get_json() for s in spends]
    assert spends[1].headers.get("Idempotent-Replayed") == "true"
    assert spends[1].get_json() == spends[0].get_json()
    assert keyed.status_code == 200, keyed.get_json()
    # Limits failed open: counted for every request, logged once (not once per request).
    assert failed_open - failed_open_before > 50
    fail_open_logs = [r for r in caplog.records if getattr(r, "feature", "") == "rate_limit"]
    assert len(fail_open_logs) == 1

    # Every acknowledged score is in PostgreSQL...
    in_postgresql = board_in_postgresql(live_platform, season_id)
    best = {players[n]["id"]: max(s) for n, s in _acknowledged_scores(load.answers).items()}
    assert {u: s for u, s in in_postgresql if u in best} == best
    # ... the index that missed them is stale until the periodic repair drops it ...
    stale = board_in_redis(live_platform, season_id)
    assert stale is not None and stale != in_postgresql
    _repair_and_rebuild(live_platform)
    assert board_in_redis(live_platform, season_id) == board_in_postgresql(live_platform, season_id)


def test_with_redis_down_a_ban_stops_a_cached_token_and_stays_in_force_when_redis_is_back(
    client, platform, private_redis
):
    player = signed_up(platform)
    warm(client, platform, player)
    private_redis.stop(keep_data=True)  # Redis saves the warm entry, as with persistence
    assert ban(client, platform, player["user"]["id"]).status_code == 200
    assert refused(client, player) == "account_banned"  # answered by PostgreSQL
    private_redis.start()  # the entry saying "active" comes back with Redis...
    _until_redis_answers(platform)
    assert refused(client, player) == "account_banned"  # ...and is invalidated before a read
    assert not platform.redis.exists(f"pp:{{u:{player['user']['id']}}}:auth")
    assert client.get(READ, headers=bearer(signed_up(platform)["access_token"])).status_code == 200


def test_a_season_closed_while_redis_is_down_has_its_index_dropped_once_redis_is_back(
    platform, client, admin_user, private_redis
):
    with platform.db.unit_of_work() as session:
        season = factories.season(session, platform, admin=admin_user, reset_rule="clear")
        season_id, season_key = season.id, season.season_id
    ada = bearer(signed_up(platform, display_name="Ada")["access_token"])
    response = client.post(f"/v1/leaderboards/{season_key}/scores", json={"score": 5}, headers=ada)
    assert response.status_code == 200
    assert len(board_in_redis(platform, season_key)) == 1

    private_redis.stop(keep_data=True)
    with platform.db.unit_of_work() as session:
        session.execute(update(Season).where(Season.id == season_id).values(end_date=utcnow()))
    with platform.db.unit_of_work() as session:
        assert lifecycle.close_season(
            session, platform.leaderboards, season_id=season_id, now=utcnow()
        )
    with platform.db.unit_of_work() as session:
        assert session.get(Season, season_id).index_stale_at is not None
        assert board_in_postgresql(platform, season_key) == []

    private_redis.start()
    _until_redis_answers(platform)
    assert len(board_in_redis(platform, season_key)) == 1  # the index still shows the old board
    _repair_and_rebuild(platform)
    assert board_in_redis(platform, season_key) == []
    with platform.db.unit_of_work() as session:
        assert session.get(Season, season_id).index_stale_at is None


# PostgreSQL --------------------------------------------------------------------------------


@pytest.fixture
def private_postgres():
    try:
        server = PrivatePostgres()
        server.start()
    except (FileNotFoundError, KeyError, OSError) as error:
        unavailable("PostgreSQL binaries (initdb)", error)
    yield server
    server.remove()


def test_postgresql_down_under_load_is_503_with_retry_after_and_recovers(
    private_postgres, redis, redis_url, tmp_path, fake_servers
):
    settings = make_settings(private_postgres.url, redis_url, tmp_path, **fake_servers["settings"])
    migrate(settings)
    platform = Platform.from_settings(settings)
    bind_current(platform)
    app = create_app(platform=platform)
    season_id, players = _world(platform, app.test_client())

    with serve(app) as base, Load(base, season_id, players) as load:
        load.run_for(60)
        private_postgres.stop()
        load.run_for(150)
        private_postgres.start()
        # The same process serves again once PostgreSQL answers: no restart.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            recovered = [a for a in load.answers[-20:] if a.status in (200, 201)]
            if len(recovered) == 20:
                break
            load.run_for(20)

    statuses = Counter((a.kind, a.status, a.code) for a in load.answers)
    assert all(a.status in (200, 201, 503) for a in load.answers), statuses
    unavailable_answers = [a for a in load.answers if a.status == 503]
    assert unavailable_answers, statuses
    assert all(a.code == "database_unavailable" for a in unavailable_answers), statuses
    assert all(a.retry_after and int(a.retry_after) > 0 for a in unavailable_answers)
    assert len(recovered) == 20, statuses

    # Every acknowledged score is in PostgreSQL and, once stale indexes are rebuilt (a write
    # may have committed unanswered as PostgreSQL stopped), on the index.
    _repair_and_rebuild(platform)
    in_postgresql = dict(board_in_postgresql(platform, season_id))
    for n, scores in _acknowledged_scores(load.answers).items():
        submitted = {a.score for a in load.answers if a.kind == "submit" and a.player == n}
        stored = in_postgresql[players[n]["id"]]
        assert stored >= max(scores) and stored in submitted
    assert board_in_redis(platform, season_id) == board_in_postgresql(platform, season_id)
    # Balances add up: every acknowledged spend taken once, none taken without being asked.
    with platform.db.unit_of_work() as session:
        for n, player in enumerate(players):
            gems = select(Wallet.balance).where(Wallet.sku_id == "gems")
            balance = session.scalar(gems.where(Wallet.user_id == player["id"]))
            asked = [a for a in load.answers if a.kind == "spend" and a.player == n]
            acknowledged = sum(1 for a in asked if a.status == 200)
            assert acknowledged <= GEMS - balance <= len(asked)
    platform.db.dispose()


def test_an_error_reply_closes_the_breaker_it_is_an_answer():
    """A probe answered with an error (NOSCRIPT from a restarted Redis) means Redis is back:
    the next command goes through instead of failing fast for another cooldown."""
    breaker = Breaker(cooldown=0.05)

    def fail(error: Exception):
        def command():
            raise error

        return command

    with pytest.raises(redis_lib.ConnectionError):
        breaker.call(fail(redis_lib.ConnectionError("refused")))
    with pytest.raises(CircuitOpen):
        breaker.call(lambda: "not sent")
    time.sleep(0.06)
    with pytest.raises(redis_lib.ResponseError):
        breaker.call(fail(redis_lib.ResponseError("NOSCRIPT No matching script")))
    assert breaker.call(lambda: "sent") == "sent"
