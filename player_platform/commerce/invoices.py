"""Invoices: every paid order gets one, numbered without gaps, rendered as PDF by a job, stored
at ``invoices/{order_id}.pdf``, mailed to the buyer (a verified address; the mail holds the
download link) and downloadable by the buyer only.

The number is taken in the fulfilment transaction from a counter row (UPDATE ... RETURNING
locks it until that commit), so a rolled-back fulfilment gives its number back and two
concurrent ones wait for each other: gapless and unique, at the price of serialising the last
statement of fulfilments. The tax is what the payment provider reports having charged (Stripe:
the PaymentIntent's ``amount_details.tax.total_tax_amount``); 0 when it reports none: we do not
compute tax ourselves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fpdf import FPDF
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from player_platform.commerce.models import Order, Sku
from player_platform.commerce.storefront_models import Invoice, InvoiceCounter
from player_platform.config import Settings
from player_platform.db import insert_for
from player_platform.errors import NotFound
from player_platform.identity.models import Identity, User
from player_platform.jobs import Jobs
from player_platform.mail import service as mail
from player_platform.security.vault import Vault
from storage import Storage

RENDER_JOB = "workers.storefront.render_invoice"
SERIES = "invoices"  # one gapless series per deployment (one studio)
REDRIVE_AFTER = timedelta(minutes=10)
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX", "XAF", "XOF"}


@dataclass(frozen=True)
class Seller:
    name: str
    address: str
    tax_id: str
    prefix: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Seller:
        return cls(
            name=settings.invoice_seller_name,
            address=settings.invoice_seller_address,
            tax_id=settings.invoice_seller_tax_id,
            prefix=settings.invoice_prefix,
        )

    def code(self, invoice: Invoice) -> str:
        return f"{self.prefix}-{invoice.number:06d}"


def provider_tax(receipt: dict[str, Any]) -> int:
    """The tax the provider says it charged, in minor units; 0 when it says nothing."""
    intent = receipt.get("stripe") or {}
    tax = ((intent.get("amount_details") or {}).get("tax") or {}).get("total_tax_amount")
    return tax if isinstance(tax, int) and tax >= 0 else 0


def issue(session: Session, *, order: Order, tax: int, jobs: Jobs, now: datetime) -> Invoice | None:
    """The order's invoice, numbered now in the caller's (fulfilment) transaction, its PDF
    rendered by a job after the commit. None for an order that cost nothing."""
    if order.total <= 0:
        return None
    existing = session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    if existing is not None:
        return existing
    invoice = Invoice(
        id=uuid.uuid4(),
        order_id=order.id,
        user_id=order.user_id,
        series=SERIES,
        number=_next_number(session, SERIES),
        currency=order.currency,
        lines=_lines(session, order),
        total=order.total,
        tax=tax,
        issued_at=now,
    )
    session.add(invoice)
    session.flush()
    _enqueue_render(session, jobs, invoice.id)
    return invoice


def _next_number(session: Session, series: str) -> int:
    """Lock the series' counter row until the commit and take its next number."""
    session.execute(
        insert_for(session, InvoiceCounter.__table__)
        .values(series=series, last_number=0)
        .on_conflict_do_nothing(index_elements=["series"])
    )
    return session.execute(
        update(InvoiceCounter)
        .where(InvoiceCounter.series == series)
        .values(last_number=InvoiceCounter.last_number + 1)
        .returning(InvoiceCounter.last_number)
    ).scalar_one()


def _lines(session: Session, order: Order) -> list[dict[str, Any]]:
    names = dict(
        session.execute(
            select(Sku.sku_id, Sku.name).where(Sku.sku_id.in_([i.sku_id for i in order.items]))
        ).all()
    )
    return [
        {
            "sku_id": item.sku_id,
            "name": names[item.sku_id],
            "quantity": item.quantity,
            "amount": item.amount,
        }
        for item in order.items
    ]


def _enqueue_render(session: Session, jobs: Jobs, invoice_id: uuid.UUID) -> None:
    jobs.enqueue_after_commit(
        session, "notification_send", RENDER_JOB, str(invoice_id), job_id=f"invoice-{invoice_id}"
    )


def storage_key(order_id: uuid.UUID) -> str:
    return f"invoices/{order_id}.pdf"


def publish(
    session: Session,
    *,
    invoice_id: uuid.UUID,
    seller: Seller,
    storage: Storage,
    jobs: Jobs,
    vault: Vault,
    public_url: str,
    now: datetime,
) -> Invoice | None:
    """Render and store the PDF, then mail the buyer the link (to a verified address only),
    once: the invoice row is locked and a rendered one is left as it is."""
    invoice = session.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None or invoice.rendered_at is not None:
        return invoice
    key = storage_key(invoice.order_id)
    storage.put(key, render_pdf(invoice, seller=seller, buyer=_buyer(session, invoice)),
                content_type="application/pdf")  # fmt: skip
    invoice.storage_key, invoice.rendered_at = key, now
    if invoice.user_id is not None:
        code = seller.code(invoice)
        mail.send_notification(
            session,
            jobs=jobs,
            vault=vault,
            user_id=invoice.user_id,
            title=f"Your invoice {code}",
            body=f"Invoice {code} for order {invoice.order_id}: "
            f"{public_url.rstrip('/')}/v1/orders/{invoice.order_id}/invoice",
            now=now,
        )
    return invoice


def _buyer(session: Session, invoice: Invoice) -> list[str]:
    """The buyer as printed: their name and verified address, as they are when it renders."""
    if invoice.user_id is None:
        return ["(account closed)"]
    name = session.scalar(select(User.display_name).where(User.id == invoice.user_id)) or ""
    email = session.scalar(
        select(Identity.provider_id).where(
            Identity.user_id == invoice.user_id,
            Identity.provider == "email",
            Identity.verified_at.is_not(None),
        )
    )
    return [line for line in (name, email) if line]


def redrive(session: Session, *, jobs: Jobs, now: datetime, limit: int = 500) -> int:
    """Render again the invoices still without a PDF a while after they were issued."""
    waiting = session.scalars(
        select(Invoice.id)
        .where(Invoice.rendered_at.is_(None), Invoice.issued_at < now - REDRIVE_AFTER)
        .order_by(Invoice.issued_at)
        .limit(limit)
    ).all()
    lost = [i for i in waiting if not jobs.is_alive(f"invoice-{i}", now=now)]
    for invoice_id in lost:
        _enqueue_render(session, jobs, invoice_id)
    return len(lost)


def buyer_invoice(session: Session, *, user_id: uuid.UUID, order_id: uuid.UUID) -> Invoice:
    """The rendered invoice of the caller's own order; 404 for anyone else's, or none yet."""
    invoice = session.scalar(select(Invoice).where(Invoice.order_id == order_id))
    if invoice is None or invoice.user_id != user_id or invoice.storage_key is None:
        raise NotFound("This order has no invoice (yet).", code="invoice_not_found")
    return invoice


# --- the PDF ---------------------------------------------------------------------------------


def money(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency}"
    return f"{amount // 100}.{amount % 100:02d} {currency}"


def _latin1(text: str) -> str:
    """The PDF's core fonts hold Latin-1 only: other characters print as '?'."""
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(invoice: Invoice, *, seller: Seller, buyer: list[str]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {seller.code(invoice)}")
    pdf.set_creator("Player Platform")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _latin1(f"Invoice {seller.code(invoice)}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    _block(pdf, [f"Date: {invoice.issued_at.date().isoformat()}", f"Order: {invoice.order_id}"])
    _block(pdf, ["Seller:", seller.name, *seller.address.split(";"),
                 *([f"Tax id: {seller.tax_id}"] if seller.tax_id else [])])  # fmt: skip
    _block(pdf, ["Buyer:", *buyer])
    pdf.set_font("Helvetica", "B", 10)
    for text, width in (("Item", 100), ("Quantity", 30), ("Amount", 50)):
        pdf.cell(width, 8, text, border="B")
    pdf.ln()
    pdf.set_font("Helvetica", size=10)
    for line in invoice.lines:
        pdf.cell(100, 7, _latin1(f"{line['name']} ({line['sku_id']})"))
        pdf.cell(30, 7, str(line["quantity"]))
        pdf.cell(50, 7, money(line["amount"], invoice.currency), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(130, 7, "Tax charged (included)")
    pdf.cell(50, 7, money(invoice.tax, invoice.currency), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(130, 8, "Total paid")
    pdf.cell(50, 8, money(invoice.total, invoice.currency), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _block(pdf: FPDF, lines: list[str]) -> None:
    for line in filter(None, (line.strip() for line in lines)):
        pdf.cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
