"""The supplier chain (a KeySource) over both fakes: priority, margin floor, fallback, the
breaker, and no second purchase after a buy whose answer was lost."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from player_platform.commerce import catalog
from player_platform.suppliers import offers
from player_platform.suppliers.breaker import BreakerPolicy, Breakers
from player_platform.suppliers.chain import build_chain
from tests import factories
from tests.fakes.codeswholesale import FakeCodesWholesale
from tests.fakes.kinguin import FakeKinguin


def chain_of(platform, **overrides):
    return build_chain(
        replace(platform.settings, **overrides),
        db=platform.db,
        redis=platform.redis,
        margin_floor=catalog.margin_floor,
    )


@pytest.fixture
def game(platform, kinguin: FakeKinguin, codeswholesale: FakeCodesWholesale) -> str:
    """A game-key SKU sold by CodesWholesale first, Kinguin second, both in stock."""
    with platform.db.unit_of_work() as session:
        factories.sku(session, sku_id="game", type="game_key", name="Game", prices={"EUR": 999})
        offers.set_route(
            session,
            sku_id="game",
            platform="steam",
            supplier="codeswholesale",
            product_id="cw-game",
            priority=1,
        )
        offers.set_route(
            session,
            sku_id="game",
            platform="steam",
            supplier="kinguin",
            product_id="kg-game",
            priority=2,
        )
    codeswholesale.stock("cw-game", price="5.00", quantity=50)
    kinguin.stock("kg-game", price="3.20", qty=50)
    offers.sync(platform.db, platform.suppliers.adapters)
    return "game"


def buy(chain, ref: str, quantity: int = 1):
    return chain.purchase(sku_id="game", platform="steam", quantity=quantity, order_ref=ref)


def test_the_first_supplier_by_priority_sells(platform, game, codeswholesale, kinguin):
    bought = buy(platform.suppliers, "ref-1", 2)
    assert bought.status == "delivered" and bought.supplier == "codeswholesale"
    assert len(set(bought.codes)) == 2
    assert (codeswholesale.charged(), kinguin.charged()) == (1, 0)


def test_the_same_reference_asked_again_is_the_same_order(platform, game, codeswholesale):
    first = buy(platform.suppliers, "ref-again")
    again = buy(platform.suppliers, "ref-again")
    assert again.codes == first.codes and codeswholesale.charged() == 1


def test_a_refusal_falls_to_the_second_supplier(platform, game, codeswholesale, kinguin):
    codeswholesale.products["cw-game"]["quantity"] = 0  # sold out since the last sync
    bought = buy(platform.suppliers, "ref-2")
    assert bought.status == "delivered" and bought.supplier == "kinguin"
    assert (codeswholesale.charged(), kinguin.charged()) == (0, 1)


def test_a_price_above_the_margin_floor_skips_that_supplier(platform, game, kinguin):
    with platform.db.unit_of_work() as session:
        catalog.get_sku(session, "game").margin_floor = 400  # CW asks 500, Kinguin 320
    bought = buy(platform.suppliers, "ref-3")
    assert bought.supplier == "kinguin"
    with platform.db.unit_of_work() as session:
        catalog.get_sku(session, "game").margin_floor = 100
    refused = buy(platform.suppliers, "ref-4")
    assert refused.status == "unavailable" and "margin floor" in refused.reason
    assert kinguin.charged() == 1


def test_a_lost_answer_is_looked_up_and_never_bought_elsewhere(
    platform, game, codeswholesale, kinguin
):
    chain = chain_of(platform, supplier_timeout_seconds=1)
    codeswholesale.slow_seconds = 2  # the answer is lost, the order is taken anyway
    pending = buy(chain, "ref-slow")
    assert pending.status == "pending" and pending.supplier == "codeswholesale"
    assert buy(chain, "ref-slow").status == "pending"  # asked again: still CW's, no new buy
    assert kinguin.charged() == 0
    codeswholesale.slow_seconds = 0
    deadline = time.time() + 5
    while codeswholesale.charged() == 0 and time.time() < deadline:
        time.sleep(0.05)
    collected = chain.collect(
        supplier="codeswholesale", external_order_id=pending.external_order_id
    )
    assert collected.status == "delivered" and len(collected.codes) == 1
    assert (codeswholesale.order_creates, codeswholesale.charged(), kinguin.charged()) == (1, 1, 0)


def test_an_order_never_placed_is_released_after_the_grace(platform, game, codeswholesale, kinguin):
    chain = chain_of(platform, supplier_uncertain_grace_seconds=0)
    codeswholesale.fail_orders = 503
    pending = buy(chain, "ref-5")
    assert pending.status == "pending"  # a 5xx on a buy: maybe taken, so looked up first
    released = chain.collect(supplier="codeswholesale", external_order_id="ref-5")
    assert released.status == "unavailable"  # looked up: not there, no money moved
    assert buy(chain, "ref-5").supplier == "kinguin"
    assert (codeswholesale.charged(), kinguin.charged()) == (0, 1)


def test_the_breaker_opens_on_failures_then_the_second_serves_and_it_closes_again(
    platform, game, codeswholesale, kinguin
):
    chain = chain_of(platform, supplier_breaker_open_seconds=1, supplier_uncertain_grace_seconds=0)
    codeswholesale.fail_orders = 500
    outcomes = [buy(chain, f"fail-{n}") for n in range(5)]
    assert {o.status for o in outcomes} == {"pending"}
    assert chain.breakers.status("codeswholesale", now=time.time()).state == "open"
    served = buy(chain, "after-open")
    assert served.supplier == "kinguin" and codeswholesale.order_creates == 5
    codeswholesale.fail_orders = None
    time.sleep(1.1)
    assert chain.breakers.status("codeswholesale", now=time.time()).state == "half_open"
    assert buy(chain, "trial").supplier == "codeswholesale"
    assert chain.breakers.status("codeswholesale", now=time.time()).state == "closed"


def test_slow_answers_open_the_breaker(redis):
    breakers = Breakers(redis, BreakerPolicy(slow_seconds=2, open_seconds=30))
    now = time.time()
    for _ in range(4):
        breakers.record("slowpoke", ok=True, seconds=3.0, now=now)
    assert breakers.allow("slowpoke", now=now)
    breakers.record("slowpoke", ok=True, seconds=3.0, now=now)
    assert not breakers.allow("slowpoke", now=now)
    status = breakers.status("slowpoke", now=now)
    assert (status.state, status.success_rate, status.latency_ms) == ("open", 0.0, 3000.0)
    assert breakers.allow("slowpoke", now=now + 31)  # half-open: one trial
    assert not breakers.allow("slowpoke", now=now + 31)  # and only one


def test_an_unconfigured_supplier_is_not_in_the_chain(platform, game, kinguin):
    chain = chain_of(platform, codeswholesale_client_id=None)
    assert set(chain.adapters) == {"kinguin"}
    assert buy(chain, "ref-6").supplier == "kinguin"


def test_two_runs_asking_for_one_order_at_once_buy_it_once(live_platform, kinguin, codeswholesale):
    from concurrent.futures import ThreadPoolExecutor

    from tests.suppliers.conftest import seed_game

    seed_game(live_platform, ("codeswholesale", "cw-game", 1), ("kinguin", "kg-game", 2))
    codeswholesale.stock("cw-game", price="5.00", quantity=50)
    kinguin.stock("kg-game", price="3.20", qty=50)
    offers.sync(live_platform.db, live_platform.suppliers.adapters)
    codeswholesale.slow_seconds = 0.5  # both runs are in flight together
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: buy(live_platform.suppliers, "same-ref"), range(4)))
    assert {o.supplier for o in outcomes} == {"codeswholesale"}
    assert "delivered" in {o.status for o in outcomes}
    assert (codeswholesale.charged(), kinguin.charged()) == (1, 0)
