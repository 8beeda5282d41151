"""Each supplier adapter against its fake (PROVIDERS.md 4.1, 4.2): the production client code
talking HTTP to a loopback server."""

from __future__ import annotations

from decimal import Decimal

import pytest

from player_platform.outbound import ProviderUnavailable
from player_platform.suppliers.adapter import Refused, Uncertain
from player_platform.suppliers.chain import build_adapters
from tests.fakes.codeswholesale import FakeCodesWholesale
from tests.fakes.kinguin import FakeKinguin


@pytest.fixture
def cw(settings, codeswholesale):
    return build_adapters(settings)["codeswholesale"]


@pytest.fixture
def kg(settings, kinguin):
    return build_adapters(settings)["kinguin"]


def test_an_unconfigured_supplier_is_left_out(settings):
    from dataclasses import replace

    assert set(build_adapters(replace(settings, kinguin_api_key=None))) == {"codeswholesale"}
    assert (
        build_adapters(replace(settings, kinguin_api_key=None, codeswholesale_client_id=None)) == {}
    )


def test_codeswholesale_offers_come_in_pages(cw, codeswholesale: FakeCodesWholesale):
    codeswholesale.page_size = 2
    for n in range(5):
        codeswholesale.stock(f"p{n}", price=f"{n + 1}.50", quantity=n)
    offers = {o.product_id: o for o in cw.offers(["p0", "p1", "p2", "p3", "p4", "gone"])}
    assert set(offers) == {"p0", "p1", "p2", "p3", "p4"}
    assert offers["p3"].price == Decimal("4.50") and offers["p3"].quantity == 3


def test_codeswholesale_token_is_cached_and_refreshed_once_on_401(
    cw, codeswholesale: FakeCodesWholesale
):
    codeswholesale.stock("p", price="5", quantity=10)
    list(cw.offers(["p"]))
    list(cw.offers(["p"]))
    assert codeswholesale.token_grants == 1
    codeswholesale.expire_tokens()
    assert [o.product_id for o in cw.offers(["p"])] == ["p"]
    assert codeswholesale.token_grants == 2


def test_codeswholesale_buys_and_maps_documented_errors(cw, codeswholesale: FakeCodesWholesale):
    codeswholesale.stock("p", price="5", quantity=3)
    order = cw.place_order(product_id="p", quantity=2, unit_price=Decimal(5), order_ref="r1")
    assert order.state == "completed" and len(order.codes) == 2
    with pytest.raises(Refused, match="20001"):
        cw.place_order(product_id="p", quantity=2, unit_price=Decimal(5), order_ref="r2")
    codeswholesale.balance = Decimal(1)
    with pytest.raises(Refused, match="10002"):
        cw.place_order(product_id="p", quantity=1, unit_price=Decimal(5), order_ref="r3")
    assert codeswholesale.charged() == 1


def test_codeswholesale_timeout_is_looked_up_not_bought_again(
    settings, codeswholesale: FakeCodesWholesale
):
    from dataclasses import replace

    cw = build_adapters(replace(settings, supplier_timeout_seconds=1))["codeswholesale"]
    codeswholesale.stock("p", price="5", quantity=3)
    codeswholesale.slow_seconds = 2  # the answer is lost; the order is still taken
    with pytest.raises(Uncertain):
        cw.place_order(product_id="p", quantity=1, unit_price=Decimal(5), order_ref="slow-1")
    assert codeswholesale.order_creates == 1  # a buy is never sent twice
    codeswholesale.slow_seconds = 0
    import time

    deadline = time.time() + 5
    while codeswholesale.charged() == 0 and time.time() < deadline:
        time.sleep(0.05)
    found = cw.find_order("slow-1")
    assert found is not None and len(found.codes) == 1
    assert codeswholesale.charged() == 1


def test_codeswholesale_5xx_on_buy_is_uncertain(cw, codeswholesale: FakeCodesWholesale):
    codeswholesale.stock("p", price="5", quantity=3)
    codeswholesale.fail_orders = 500
    with pytest.raises(Uncertain):
        cw.place_order(product_id="p", quantity=1, unit_price=Decimal(5), order_ref="r")
    assert codeswholesale.order_creates == 1 and codeswholesale.charged() == 0


def test_kinguin_order_external_id_makes_a_repeat_the_same_order(kg, kinguin: FakeKinguin):
    kinguin.stock("k1", price="3.20", qty=5)
    first = kg.place_order(product_id="k1", quantity=2, unit_price=Decimal("3.20"), order_ref="o1")
    again = kg.place_order(product_id="k1", quantity=2, unit_price=Decimal("3.20"), order_ref="o1")
    assert first == again and len(first.codes) == 2
    assert kinguin.charged() == 1 and kinguin.products["k1"]["qty"] == 3


def test_kinguin_keys_come_once_the_order_completes(kg, kinguin: FakeKinguin):
    kinguin.stock("k1", price="3", qty=5)
    kinguin.complete_later = True
    order = kg.place_order(product_id="k1", quantity=1, unit_price=Decimal(3), order_ref="o2")
    assert order.state == "processing" and order.codes == ()
    kinguin.complete(order.external_order_id)
    done = kg.fetch_order(order.external_order_id)
    assert done.state == "completed" and len(done.codes) == 1


@pytest.mark.parametrize(
    ("arrange", "kind"),
    [
        (lambda k: k.stock("k1", price="3", qty=0), "ProductUnavailable"),
        (lambda k: setattr(k, "balance", Decimal(1)), "InsufficientBalance"),
        (lambda k: k.stock("k1", price="9", qty=5), "OrderFailed"),
    ],
)
def test_kinguin_refusals_are_mapped(kg, kinguin: FakeKinguin, arrange, kind):
    kinguin.stock("k1", price="3", qty=5)
    arrange(kinguin)
    with pytest.raises(Refused, match=kind):
        kg.place_order(product_id="k1", quantity=1, unit_price=Decimal(3), order_ref="o3")
    assert kinguin.charged() == 0


def test_kinguin_refuses_a_bad_key_and_a_down_service(settings, kg, kinguin: FakeKinguin):
    from dataclasses import replace

    wrong = build_adapters(replace(settings, kinguin_api_key="nope"))["kinguin"]
    with pytest.raises(ProviderUnavailable, match="401"):
        list(wrong.offers(["k1"]))
    kinguin.down = True
    with pytest.raises(Uncertain):  # the create may have been taken: only a lookup tells
        kg.place_order(product_id="k1", quantity=1, unit_price=Decimal(3), order_ref="o4")
