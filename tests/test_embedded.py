"""The embedded defaults `make run` uses on a bare machine: SQLite, the in-process Redis (with
Lua, for the leaderboard scripts), local disk and inline jobs. A player signs up and a season's
leaderboard takes and ranks scores, also after the in-process Redis lost its index; a
wishlist's price drop reaches the inbox."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from player_platform.__main__ import migrate
from player_platform.app import create_app
from player_platform.commerce import orders
from player_platform.config import Settings
from player_platform.db import utcnow
from player_platform.platform import Platform, bind_current
from tests import factories
from tests.support import bearer, register, staff_tokens


@pytest.fixture
def embedded(tmp_path):
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{tmp_path}/player_platform.db",
        storage_url=f"file://{tmp_path}/storage",
        secret_key="embedded-test-secret-key-long-enough-0123456789",
    )
    assert settings.redis_in_process and settings.run_jobs_inline
    migrate(settings)
    platform = Platform.from_settings(settings)
    platform.redis.flushall()
    bind_current(platform)
    yield platform, create_app(platform=platform).test_client()
    platform.redis.flushall()
    platform.db.dispose()


def test_the_embedded_defaults_run_sign_up_and_a_leaderboard(embedded):
    platform, client = embedded
    admin = bearer(staff_tokens(platform, role="admin")["access_token"])
    now = utcnow()
    season = client.post(
        "/v1/admin/seasons",
        json={
            "season_id": "embedded-1",
            "name": "Embedded",
            "type": "global",
            "start_date": (now - timedelta(minutes=1)).isoformat(),
            "end_date": (now + timedelta(hours=1)).isoformat(),
        },
        headers=admin,
    )
    assert season.status_code == 201, season.get_json()
    for name, score in [("Ada", 30), ("Bo", 50), ("Cy", 40)]:
        player = register(client, display_name=name)
        submitted = client.post(
            "/v1/leaderboards/embedded-1/scores",
            json={"score": score},
            headers=bearer(player["access_token"]),
        )
        assert submitted.status_code == 200, submitted.get_json()

    def standings():
        response = client.get("/v1/leaderboards/embedded-1")
        assert response.status_code == 200, response.get_json()
        return [(i["rank"], i["display_name"], i["score"]) for i in response.get_json()["items"]]

    assert standings() == [(1, "Bo", 50), (2, "Cy", 40), (3, "Ada", 30)]
    platform.redis.flushall()
    assert standings() == [(1, "Bo", 50), (2, "Cy", 40), (3, "Ada", 30)]


def test_the_embedded_defaults_import_sell_and_reveal_a_game_key(embedded):
    platform, client = embedded
    admin = bearer(staff_tokens(platform, role="admin")["access_token"])
    with platform.db.unit_of_work() as session:
        factories.sku(session, sku_id="game", type="game_key", name="Game",
                      prices={"USD": 999}, platforms=["steam"])  # fmt: skip
    imported = client.post(
        "/v1/admin/keys/bulk-import?sku_id=game",
        data=b"code\nAAAAA-BBBBB-CCCCC\nAAAAA-BBBBB-CCCCC\nnope\nDDDDD-EEEEE-FFFFF\n",
        headers={**admin, "Content-Type": "text/csv"},
    ).get_json()
    assert (imported["imported"], imported["duplicates"], imported["invalid_total"]) == (2, 1, 1)
    player = register(client, display_name="Keys")
    user_id = uuid.UUID(player["user"]["id"])
    with platform.db.unit_of_work() as session:
        lines = orders.price_lines(session, lines=[("game", 1)], currency="USD")
        order = orders.create_order(
            session, user_id=user_id, provider="stripe", currency="USD", lines=lines,
            now=utcnow(), provider_order_id="pi_embedded",
        )  # fmt: skip
        orders.fulfil(session, order=order, receipt={}, storage=platform.storage,
                      jobs=platform.jobs, now=utcnow())  # fmt: skip
    headers = bearer(player["access_token"])
    mine = client.get("/v1/me/keys", headers=headers).get_json()["items"]
    assert [k["masked_code"] for k in mine] == ["*****-CCCCC"]
    shown = client.get(f"/v1/me/keys/{mine[0]['id']}/reveal", headers=headers).get_json()
    assert shown["code"] == "AAAAA-BBBBB-CCCCC"


def test_the_embedded_defaults_run_the_storefront(embedded):
    """Wishlist alerts reach the inbox (an INSERT ... SELECT ... ON CONFLICT that SQLite parses
    only with a WHERE) and a paid order gets its invoice PDF, with inline jobs."""
    platform, client = embedded
    admin = bearer(staff_tokens(platform, role="admin")["access_token"])
    sku = {"sku_id": "game", "type": "durable", "name": "Game", "prices": {"USD": 999}}
    assert client.post("/v1/admin/skus", json=sku, headers=admin).status_code == 201
    player = bearer(register(client)["access_token"])
    assert (
        client.post("/v1/me/wishlist", json={"sku_id": "game"}, headers=player).status_code == 201
    )
    cheaper = client.patch("/v1/admin/skus/game", json={"prices": {"USD": 499}}, headers=admin)
    assert cheaper.status_code == 200
    inbox = client.get("/v1/me/inbox", headers=player).get_json()["items"]
    assert [m["subject"] for m in inbox] == ["A price dropped on your wishlist"]
