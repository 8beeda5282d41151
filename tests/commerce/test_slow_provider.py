"""No provider call inside a transaction: while Stripe and Steam each take 5 s to answer one
player, other players buy and spend. The server's pool has two connections, as many as there
are slow calls: a flow that held its connection (or a row lock) across the call would make
every other request wait for the slow answers."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine
from werkzeug.serving import make_server

from player_platform.app import create_app
from player_platform.db import Database, utcnow
from player_platform.platform import Platform, bind_current
from player_platform.wallet import service as wallet
from tests.commerce.conftest import _steam_ids, seed_catalog
from tests.support import PASSWORD


@pytest.fixture
def two_connection_server(settings, committing_db) -> Iterator[tuple[str, Platform]]:
    engine = create_engine(committing_db.bind.url, pool_size=2, max_overflow=0, pool_timeout=30)
    platform = Platform.from_settings(settings, db=Database(engine))
    bind_current(platform)
    server = make_server("127.0.0.1", 0, create_app(platform=platform), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", platform
    server.shutdown()
    thread.join()
    engine.dispose()


def _post(url: str, path: str, headers: dict | None = None, **body) -> requests.Response:
    return requests.post(f"{url}{path}", json=body, headers=headers or {}, timeout=60)


def _steam_player(url: str, steam) -> tuple[dict, str]:
    reply = _post(url, "/v1/auth/steam", ticket=steam.add_ticket(str(next(_steam_ids)))).json()
    return {"Authorization": f"Bearer {reply['access_token']}"}, reply["user"]["id"]


def _buy_on_steam(url: str, steam, headers: dict) -> requests.Response:
    init = _post(url, "/v1/commerce/steam/init", headers, sku_id="sword", quantity=1)
    assert init.status_code == 201, init.text
    steam.approve(init.json()["payment"]["orderid"])
    return _post(url, "/v1/commerce/steam/finalize", headers, order_id=init.json()["order"]["id"])


def test_a_provider_answering_after_5s_holds_up_no_other_players_order(
    two_connection_server, steam, stripe
):
    url, platform = two_connection_server
    seed_catalog(platform)
    web = _post(
        url, "/v1/auth/register", email="slow@example.com", password=PASSWORD, display_name="Slow"
    )
    web_headers = {"Authorization": f"Bearer {web.json()['access_token']}"}
    slow_steam_headers, _ = _steam_player(url, steam)
    others = [_steam_player(url, steam) for _ in range(3)]
    spender_headers, spender_id = others[0]
    with platform.db.unit_of_work() as session:
        wallet.credit(
            session, user_id=uuid.UUID(spender_id), sku_id="gems", quantity=5, now=utcnow()
        )
    init = _post(url, "/v1/commerce/steam/init", slow_steam_headers, sku_id="sword", quantity=1)
    orderid = init.json()["payment"]["orderid"]
    steam.approve(orderid)

    slow_intent = stripe.delays.slow("POST /v1/payment_intents", seconds=5)
    slow_query = steam.delays.slow(f"QueryTxn {orderid}", seconds=5)
    with ThreadPoolExecutor(2) as pool:
        checkout = pool.submit(
            _post,
            url,
            "/v1/checkout",
            web_headers,
            items=[{"sku_id": "sword", "quantity": 1}],
            currency="USD",
        )
        finalize = pool.submit(
            _post,
            url,
            "/v1/commerce/steam/finalize",
            slow_steam_headers,
            order_id=init.json()["order"]["id"],
        )
        assert slow_intent.entered.wait(10) and slow_query.entered.wait(10)

        bought = [_buy_on_steam(url, steam, headers) for headers, _ in others]
        spent = [
            _post(
                url, "/v1/me/wallet/spend", spender_headers, sku_id="gems", quantity=1, reason="x"
            )
            for _ in range(3)
        ]
        # Everything above finished while both providers were still holding their answers.
        assert not slow_intent.answered.is_set() and not slow_query.answered.is_set()
        assert [r.status_code for r in bought] == [200, 200, 200]
        assert {r.json()["order"]["status"] for r in bought} == {"fulfilled"}
        assert [r.status_code for r in spent] == [200, 200, 200]

        assert checkout.result().status_code == 201, checkout.result().text
        assert checkout.result().json()["payment"]["payment_intent_id"].startswith("pi_")
        assert finalize.result().status_code == 200, finalize.result().text
        assert finalize.result().json()["order"]["status"] == "fulfilled"
