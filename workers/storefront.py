"""Storefront jobs: render, store and announce an invoice; fan a wishlist alert out in batches;
re-drive the invoices whose job was lost. Each is safe to run twice."""

from __future__ import annotations

import logging
import uuid

from player_platform import platform
from player_platform.commerce import invoices, wishlists
from player_platform.db import utcnow

log = logging.getLogger(__name__)


def render_invoice(invoice_id: str) -> bool:
    p = platform.current()
    with p.db.unit_of_work() as session:
        invoice = invoices.publish(
            session,
            invoice_id=uuid.UUID(invoice_id),
            seller=invoices.Seller.from_settings(p.settings),
            storage=p.storage,
            jobs=p.jobs,
            vault=p.vault,
            public_url=p.settings.public_url,
            now=utcnow(),
        )
    log.info("invoice published", extra={"invoice": invoice_id})
    return invoice is not None


def redrive_invoices() -> int:
    p = platform.current()
    with p.db.unit_of_work() as session:
        count = invoices.redrive(session, jobs=p.jobs, now=utcnow())
    log.info("invoices re-driven", extra={"count": count})
    return count


def fan_out_wishlist_alert(alert_id: str) -> int:
    """Tell one batch of wishlisters per transaction until all are told; returns the batches."""
    p = platform.current()
    batches, more = 0, True
    while more:
        with p.db.unit_of_work() as session:
            more = wishlists.fan_out_batch(
                session, jobs=p.jobs, vault=p.vault, alert_id=uuid.UUID(alert_id), now=utcnow()
            )
        batches += 1
    log.info("wishlist alert told", extra={"alert": alert_id, "batches": batches})
    return batches
