"""PP_DATABASE_REPLICA_URL: the catalog, season archives and UGC listings read the replica;
money and sessions never do. The "replica" here is a second database holding other data (so a
read shows where it came from), or one that does not answer at all."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from player_platform.app import create_app
from player_platform.db import Database
from player_platform.platform import Platform, bind_current
from tests import factories
from tests.commerce.conftest import CATALOG
from tests.conftest import fresh_database
from tests.support import bearer, register

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/replica"


@pytest.fixture(scope="session")
def replica_url(database_url: str) -> str:
    return fresh_database(sa.make_url(database_url).database + "_replica")


def _client(settings, replica: str):
    """The app as PP_DATABASE_REPLICA_URL=``replica`` builds it (tables emptied after by
    ``committing_db``)."""
    platform = Platform.from_settings(replace(settings, database_replica_url=replica))
    bind_current(platform)
    return platform, create_app(platform=platform).test_client()


def test_the_catalog_and_archives_read_the_replica(settings, committing_db, replica_url):
    replica_writer = Database.from_url(replica_url)
    try:
        with replica_writer.unit_of_work() as session:
            session.execute(sa.text("TRUNCATE skus, seasons CASCADE"))
            factories.sku(session, **CATALOG[0])  # only on the replica
            admin = factories.staff(session, Platform.from_settings(settings, db=replica_writer))
        with replica_writer.unit_of_work() as session:
            season = factories.season(
                session, Platform.from_settings(settings, db=replica_writer), admin=admin
            )
    finally:
        replica_writer.dispose()
    platform, client = _client(settings, replica_url)
    with platform.db.unit_of_work() as session:
        factories.sku(session, **CATALOG[1])  # only on the primary

    listed = client.get("/v1/skus").get_json()["items"]
    assert [item["sku_id"] for item in listed] == [CATALOG[0]["sku_id"]]
    assert client.get(f"/v1/skus/{CATALOG[0]['sku_id']}").status_code == 200
    assert client.get(f"/v1/skus/{CATALOG[1]['sku_id']}").status_code == 404
    # The season exists on the replica only: its archive is "not closed yet", not "no season".
    archive = client.get(f"/v1/leaderboards/{season.season_id}/archive")
    assert archive.status_code == 404
    assert archive.get_json()["code"] == "archive_not_found"
    assert client.get("/v1/ugc").status_code == 200

    # The replica's sessions are read only: nothing written through one sticks.
    refused = pytest.raises(sa.exc.InternalError, match="read-only transaction")
    with refused, platform.db.replica_session() as session:
        session.execute(sa.text("DELETE FROM skus"))
    platform.db.dispose()


def test_money_and_sessions_never_read_the_replica(settings, committing_db):
    """With a replica that does not answer, every money and session route still works; only
    the replica's routes fail (503, as for a database that is down)."""
    platform, client = _client(settings, UNREACHABLE)
    with platform.db.unit_of_work() as session:
        admin = bearer(factories.staff(session, platform, role="admin").access_token)
    tokens = register(client)
    player = bearer(tokens["access_token"])

    assert client.post("/v1/admin/skus", json=CATALOG[1], headers=admin).status_code == 201
    assert client.get("/v1/me", headers=player).status_code == 200
    for path in ("/v1/me/wallet", "/v1/me/ledger", "/v1/me/entitlements"):
        assert client.get(path, headers=player).status_code == 200, path
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    again = bearer(refreshed.get_json()["access_token"])
    assert client.post("/v1/auth/logout", headers=again).status_code == 204
    assert client.get("/v1/me", headers=again).status_code == 401

    assert client.get("/v1/skus").status_code == 503
    platform.db.dispose()
