"""A Platform on the real 3-node Redis Cluster that `make test` starts
(scripts/start-redis-cluster.sh), with RQ on the suite's plain Redis as PP_QUEUE_REDIS_URL.

The cluster has one database and every test run on the machine shares it: these tests only
touch keys of their own (new seasons, new players) and never flush it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from redis.cluster import RedisCluster
from redis.exceptions import RedisError

from player_platform.app import create_app
from player_platform.platform import Platform, bind_current
from tests.conftest import make_settings, serving, unavailable

CLUSTER_URL = os.environ.get("PP_TEST_REDIS_CLUSTER_URL", "redis://127.0.0.1:7301")


@pytest.fixture(scope="session")
def cluster_url() -> str:
    try:
        client = RedisCluster.from_url(CLUSTER_URL)
        client.ping()
        client.close()
    except RedisError as error:
        unavailable("Redis Cluster", error)
    return CLUSTER_URL


@pytest.fixture
def cluster(cluster_url: str) -> Iterator[RedisCluster]:
    """A plain client of the cluster, to look at what the service wrote."""
    client = RedisCluster.from_url(cluster_url)
    yield client
    client.close()


@pytest.fixture
def cluster_settings(database_url, redis_url, redis, cluster_url, tmp_path, fake_servers):
    return make_settings(
        database_url,
        cluster_url,
        tmp_path,
        redis_cluster=True,
        queue_redis_url=redis_url,
        **fake_servers["settings"],
    )


@pytest.fixture
def cluster_platform(cluster_settings, db) -> Platform:
    p = Platform.from_settings(cluster_settings, db=db)
    bind_current(p)
    return p


@pytest.fixture
def cluster_client(cluster_platform: Platform):
    return create_app(platform=cluster_platform).test_client()


@pytest.fixture
def cluster_live_platform(cluster_settings, committing_db) -> Platform:
    """Real commits: score submissions go through the group committer (batch.py)."""
    p = Platform.from_settings(cluster_settings, db=committing_db)
    bind_current(p)
    return p


@pytest.fixture
def cluster_live_server(cluster_live_platform: Platform) -> Iterator[str]:
    with serving(cluster_live_platform) as url:
        yield url
