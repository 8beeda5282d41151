"""The service on a real Redis Cluster: leaderboards, rate limits, the idempotency cache and
sessions give the same answers as on one Redis node, and no command or script crosses slots.

A command that crosses slots fails on a cluster (CROSSSLOT), and the service serves a Redis
failure without Redis (outage.py) rather than failing the request: so a flow on the cluster is
checked both for its answers and for not having been served "degraded" once."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

import pytest
import requests
from redis.exceptions import RedisClusterException, ResponseError
from sqlalchemy import select

from player_platform.app import create_app
from player_platform.leaderboards.models import Season
from player_platform.outage import DEGRADATIONS
from player_platform.platform import Platform, bind_current
from player_platform.ugc.listing import HotLists
from tests import factories
from tests.leaderboards.conftest import board_in_postgresql, board_in_redis
from tests.support import PASSWORD, bearer, register
from workers.leaderboards import rebuild_index


def _season(platform: Platform, **fields) -> Season:
    with platform.db.unit_of_work() as session:
        admin = factories.staff(session, platform, role="admin")
        return factories.season(session, platform, admin=admin, **fields)


def _scores_url(season: Season) -> str:
    return f"/v1/leaderboards/{season.season_id}/scores"


def test_the_client_is_a_cluster_client_that_refuses_crossing_slots(cluster_platform):
    redis = cluster_platform.redis
    redis.set("pp:{a}:probe", 1, ex=60)
    with pytest.raises((RedisClusterException, ResponseError)):
        redis.mget("pp:{a}:probe", "pp:{b}:probe")


def _sign_up(url: str, name: str) -> dict:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    response = requests.post(
        f"{url}/v1/auth/register",
        json={"email": email, "password": PASSWORD, "display_name": name},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_an_api_flow_on_the_cluster_crosses_no_slot(
    cluster_live_platform, cluster_live_server, cluster, caplog
):
    url, degraded_before = cluster_live_server, dict(DEGRADATIONS.counts)
    season = _season(cluster_live_platform)
    players = {name: _sign_up(url, name) for name in ("Ada", "Bo", "Cy")}
    for name, score in (("Ada", 30), ("Bo", 10), ("Cy", 20)):
        submitted = requests.post(
            url + _scores_url(season),
            json={"score": score},
            headers=bearer(players[name]["access_token"]),
            timeout=10,
        )
        assert submitted.status_code == 200, submitted.text

    top = requests.get(f"{url}/v1/leaderboards/{season.season_id}", timeout=10).json()["items"]
    assert [(i["rank"], i["display_name"], i["score"]) for i in top] == [
        (1, "Ada", 30),
        (2, "Cy", 20),
        (3, "Bo", 10),
    ]
    bo = players["Bo"]["user"]["id"]
    around = requests.get(
        f"{url}/v1/leaderboards/{season.season_id}/around/{bo}", params={"radius": 1}, timeout=10
    ).json()["items"]
    assert [(i["rank"], i["display_name"]) for i in around] == [(2, "Cy"), (3, "Bo")]
    # Served from the index on the cluster, one season on one slot.
    assert board_in_redis(cluster_live_platform, season.season_id) == board_in_postgresql(
        cluster_live_platform, season.season_id
    )
    ready = f"pp:{{lb:{season.id}}}:ready"
    keys = list(cluster.scan_iter(match=f"pp:{{lb:{season.id}}}:*"))
    assert len(keys) > 1
    assert {cluster.keyslot(k) for k in keys} == {cluster.keyslot(ready)}

    # An idempotent request is replayed (the cache on the cluster, the record in PostgreSQL).
    headers = {**bearer(players["Bo"]["access_token"]), "Idempotency-Key": "bo-1"}
    first = requests.post(
        url + _scores_url(season), json={"score": 40}, headers=headers, timeout=10
    )
    again = requests.post(
        url + _scores_url(season), json={"score": 40}, headers=headers, timeout=10
    )
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() == {"score": 40, "best": 40, "rank": 1, "previous": 10}
    assert again.headers.get("Idempotent-Replayed") == "true"

    # Sessions: a refreshed pair works, a signed-out session stops at once.
    refreshed = requests.post(
        f"{url}/v1/auth/refresh",
        json={"refresh_token": players["Ada"]["refresh_token"]},
        timeout=10,
    )
    assert refreshed.status_code == 200, refreshed.text
    ada = bearer(refreshed.json()["access_token"])
    assert requests.get(f"{url}/v1/me", headers=ada, timeout=10).status_code == 200
    assert requests.post(f"{url}/v1/auth/logout", headers=ada, timeout=10).status_code == 204
    assert requests.get(f"{url}/v1/me", headers=ada, timeout=10).status_code == 401

    # Nothing was served around Redis, nothing failed after a commit.
    assert dict(DEGRADATIONS.counts) == degraded_before
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_lost_index_is_dropped_and_rebuilt_on_the_cluster(cluster_platform, cluster_client):
    season = _season(cluster_platform)
    for score in (5, 7):
        tokens = register(cluster_client)
        headers = bearer(tokens["access_token"])
        cluster_client.post(_scores_url(season), json={"score": score}, headers=headers)
    with cluster_platform.db.unit_of_work() as session:
        season_row_id = session.scalar(
            select(Season.id).where(Season.season_id == season.season_id)
        )

    cluster_platform.leaderboards.drop(season_row_id)  # SCAN over every node of the cluster
    assert not cluster_platform.leaderboards.is_ready(season_row_id)
    assert board_in_redis(cluster_platform, season.season_id) is None

    rebuild_index(str(season_row_id))
    expected = board_in_postgresql(cluster_platform, season.season_id)
    assert [score for _, score in expected] == [7, 5]
    assert board_in_redis(cluster_platform, season.season_id) == expected


def test_rate_limits_count_on_the_cluster(cluster_settings, db, cluster):
    platform = Platform.from_settings(replace(cluster_settings, rate_limit_write_user=3), db=db)
    bind_current(platform)
    client = create_app(platform=platform).test_client()
    season = _season(platform)
    tokens = register(client)
    headers = bearer(tokens["access_token"])

    statuses = [
        client.post(_scores_url(season), json={"score": n}, headers=headers).status_code
        for n in range(5)
    ]

    assert statuses == [200, 200, 200, 429, 429]
    user_id = uuid.UUID(tokens["user"]["id"])
    assert list(cluster.scan_iter(match=f"pp:{{rl:write:user:{user_id}}}:*"))


def test_readyz_checks_the_cluster_and_the_queue_redis(cluster_settings, db, cluster_client):
    assert cluster_client.get("/readyz").get_json() == {"status": "ok"}
    down = replace(cluster_settings, queue_redis_url="redis://127.0.0.1:9/0")
    platform = Platform.from_settings(down, db=db)
    readyz = create_app(platform=platform).test_client().get("/readyz")
    assert (readyz.status_code, readyz.get_json()["down"]) == (503, ["queue_redis"])


def test_ugc_hot_lists_store_and_drop_on_the_cluster(cluster_platform):
    hot, kind = HotLists(cluster_platform.redis), f"kind-{uuid.uuid4().hex[:8]}"
    ids = [uuid.uuid4() for _ in range(3)]
    hot.store(kind, "recent", ids)  # a MULTI/EXEC on one slot
    assert hot.read(kind, "recent") == ids
    hot.invalidate(kind)  # several lists in one DEL
    assert hot.read(kind, "recent") is None
