"""Invoices: a paid order's invoice is numbered without gaps even under concurrent fulfilments
on PostgreSQL, rendered as a PDF that reads back with its number and amounts, stored at
invoices/{order_id}.pdf, mailed to the buyer and downloadable by the buyer only."""

from __future__ import annotations

import io
import threading
import uuid
from urllib.parse import urlsplit

from pypdf import PdfReader
from sqlalchemy import select

from player_platform.commerce import invoices, orders
from player_platform.commerce.storefront_models import Invoice
from player_platform.db import utcnow
from tests import factories
from tests.storefront.conftest import (
    drain,
    pay_with_stripe,
    player_headers,
    verify_email,
)
from tests.support import signed_up
from workers import storefront as storefront_jobs


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def download(client, url: str) -> bytes:
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200
    return response.data


def test_a_paid_order_gets_an_invoice_pdf_mailed_and_shown_to_its_buyer_only(
    store_client, store_platform, stripe, shop, mailbox
):
    buyer = signed_up(store_platform, display_name="Ada Lovelace")
    verify_email(store_platform, buyer["user"]["id"])
    headers = player_headers(buyer)
    order = pay_with_stripe(
        store_client, stripe, store_platform, headers,
        [{"sku_id": "sword", "quantity": 2}, {"sku_id": "game", "quantity": 1}], tax=421,
    )  # fmt: skip
    drain(store_platform, "notification_send")

    answer = store_client.get(f"/v1/orders/{order['id']}/invoice", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    invoice = answer.get_json()
    assert invoice["number"] == "INV-000001"
    assert (invoice["total"], invoice["tax"], invoice["currency"]) == (2497, 421, "USD")
    pdf = download(store_client, invoice["url"])
    assert pdf == store_platform.storage.get(f"invoices/{order['id']}.pdf")
    text = pdf_text(pdf)
    for expected in ("INV-000001", "24.97 USD", "4.21 USD", "Ada Lovelace", buyer["email"],
                     "Flame Sword", "Player Platform Studio"):  # fmt: skip
        assert expected in text, expected

    [mail] = mailbox.to(buyer["email"])
    assert mail["Subject"] == "Your invoice INV-000001"
    assert f"/v1/orders/{order['id']}/invoice" in mail.get_body(("plain",)).get_content()

    stranger = player_headers(signed_up(store_platform))
    other = store_client.get(f"/v1/orders/{order['id']}/invoice", headers=stranger)
    assert other.status_code == 404 and other.get_json()["code"] == "invoice_not_found"
    unknown = store_client.get(f"/v1/orders/{uuid.uuid4()}/invoice", headers=headers)
    assert unknown.status_code == 404


def test_an_invoice_is_rendered_and_mailed_once_however_often_its_job_runs(
    store_client, store_platform, stripe, shop, mailbox
):
    buyer = signed_up(store_platform)
    verify_email(store_platform, buyer["user"]["id"])
    order = pay_with_stripe(
        store_client,
        stripe,
        store_platform,
        player_headers(buyer),
        [{"sku_id": "game", "quantity": 1}],
    )
    with store_platform.db.unit_of_work() as session:
        invoice_id = session.scalars(
            select(Invoice.id).where(Invoice.order_id == uuid.UUID(order["id"]))
        ).one()
    for _ in range(3):
        storefront_jobs.render_invoice(str(invoice_id))
    drain(store_platform, "notification_send")
    assert len(mailbox.to(buyer["email"])) == 1
    answer = store_client.get(f"/v1/orders/{order['id']}/invoice", headers=player_headers(buyer))
    assert answer.get_json()["tax"] == 0  # Stripe reported no tax


def test_invoice_numbers_are_gapless_and_unique_under_concurrent_fulfilments(live_platform):
    """10 orders fulfilled at once, one of whose fulfilments rolls back: 9 invoices numbered
    1..9, no gap, no repeat; the order that rolled back gets the next number when it is paid."""
    p = live_platform
    with p.db.unit_of_work() as session:
        factories.sku(session, sku_id="game", type="durable", name="Game", prices={"USD": 999})
        user_id = factories.player(session, p).user_id
    order_ids = []
    for n in range(10):
        with p.db.unit_of_work() as session:
            lines = orders.price_lines(session, lines=[("game", 1)], currency="USD")
            order = orders.create_order(
                session, user_id=user_id, provider="stripe", currency="USD", lines=lines,
                now=utcnow(), provider_order_id=f"pi_{n}",
            )  # fmt: skip
            order_ids.append(order.id)
    doomed = order_ids[4]
    start = threading.Barrier(len(order_ids))
    errors = []

    def fulfil(order_id):
        def work(session):
            order = orders.lock(session, order_id)
            orders.fulfil(session, order=order, receipt={}, storage=p.storage, jobs=p.jobs,
                          now=utcnow())  # fmt: skip
            if order_id == doomed:
                raise RuntimeError("the fulfilment failed after its invoice was numbered")

        start.wait()
        try:
            p.db.transaction(work)
        except RuntimeError as error:
            errors.append(error)

    threads = [threading.Thread(target=fulfil, args=(i,)) for i in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 1

    with p.db.unit_of_work() as session:
        numbers = session.scalars(select(Invoice.number).order_by(Invoice.number)).all()
        assert numbers == list(range(1, 10))
        orders.fulfil(session, order=orders.lock(session, doomed), receipt={},
                      storage=p.storage, jobs=p.jobs, now=utcnow())  # fmt: skip
    with p.db.unit_of_work() as session:
        late = session.scalars(select(Invoice).where(Invoice.order_id == doomed)).one()
        assert late.number == 10


def test_the_tax_comes_from_what_stripe_reports():
    assert invoices.provider_tax({"stripe": {"amount_details": {"tax": {"total_tax_amount": 7}}}})
    assert invoices.provider_tax({"stripe": {"amount": 100}}) == 0
    assert invoices.provider_tax({"steam": {"transid": "1"}}) == 0
    assert invoices.money(1999, "USD") == "19.99 USD"
    assert invoices.money(1999, "JPY") == "1999 JPY"
