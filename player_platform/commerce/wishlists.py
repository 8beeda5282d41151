"""Wishlists: players keep SKUs on a list and hear (inbox, mail) when one is back in stock or its
price drops.

Each such event is one ``WishlistAlert`` row, written with the change that caused it; a job fans
it out to the wishlisters in batches (resuming after the last user told), and each player's
notice is keyed on (alert, player), so a retried batch tells nobody twice: once per event, never
once per wishlister per minute.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from player_platform.commerce.invoices import money
from player_platform.commerce.models import Sku
from player_platform.commerce.storefront_models import WishlistAlert, WishlistItem
from player_platform.db import insert_for
from player_platform.errors import Conflict, NotFound
from player_platform.jobs import Jobs
from player_platform.messaging import notifications
from player_platform.security.vault import Vault

FAN_OUT_JOB = "workers.storefront.fan_out_wishlist_alert"
MAX_ITEMS = 500  # per player
BATCH = 500  # players told per job


def add(session: Session, *, user_id: uuid.UUID, sku_id: str, now: datetime) -> WishlistItem:
    """Put a SKU on the player's list (again: no change). Any SKU of the catalog, on sale or
    not: an inactive one is what "back in stock" is for."""
    if session.scalar(select(Sku.id).where(Sku.sku_id == sku_id)) is None:
        raise NotFound(f"No SKU {sku_id!r}.", code="sku_not_found")
    count = session.scalar(
        select(func.count()).select_from(WishlistItem).where(WishlistItem.user_id == user_id)
    )
    if count >= MAX_ITEMS:
        raise Conflict(f"A wishlist holds at most {MAX_ITEMS} SKUs.", code="wishlist_full")
    session.execute(
        insert_for(session, WishlistItem.__table__)
        .values(user_id=user_id, sku_id=sku_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "sku_id"])
    )
    return session.get(WishlistItem, (user_id, sku_id))


def remove(session: Session, *, user_id: uuid.UUID, sku_id: str) -> None:
    session.execute(
        delete(WishlistItem).where(WishlistItem.user_id == user_id, WishlistItem.sku_id == sku_id)
    )


def items(session: Session, *, user_id: uuid.UUID) -> list[tuple[WishlistItem, Sku]]:
    """The player's list, newest first, with each SKU as the catalog has it now."""
    return list(
        session.execute(
            select(WishlistItem, Sku)
            .join(Sku, Sku.sku_id == WishlistItem.sku_id)
            .where(WishlistItem.user_id == user_id)
            .order_by(WishlistItem.created_at.desc(), WishlistItem.sku_id)
        ).all()
    )


# --- alerts ----------------------------------------------------------------------------------


def sku_changed(session: Session, *, jobs: Jobs, sku: Sku, old: dict[str, Any]) -> None:
    """An admin changed a SKU: a price lower in some currency is a price drop; a SKU put back
    on sale is back in stock (key pools report their own restocking: ``back_in_stock``)."""
    if sku.active and not old["active"]:
        back_in_stock(session, jobs=jobs, sku=sku)
    drops = {
        currency: (old["prices"][currency], price)
        for currency, price in (sku.prices or {}).items()
        if currency in (old["prices"] or {}) and price < old["prices"][currency]
    }
    if drops and sku.active:
        currency, (was, now) = sorted(drops.items())[0]
        raise_alert(
            session,
            jobs=jobs,
            sku=sku,
            kind="price_drop",
            data={"price": money(now, currency), "was": money(was, currency)},
        )


def back_in_stock(session: Session, *, jobs: Jobs, sku: Sku) -> WishlistAlert | None:
    return raise_alert(session, jobs=jobs, sku=sku, kind="back_in_stock", data={})


def raise_alert(
    session: Session, *, jobs: Jobs, sku: Sku, kind: str, data: dict[str, str]
) -> WishlistAlert | None:
    """Record one alert and fan it out after the commit; None when nobody wishes for the SKU."""
    wished = session.scalar(select(exists().where(WishlistItem.sku_id == sku.sku_id)))
    if not wished:
        return None
    alert = WishlistAlert(
        id=uuid.uuid4(),
        sku_id=sku.sku_id,
        kind=kind,
        data={"sku_id": sku.sku_id, "name": sku.name, **data},
    )
    session.add(alert)
    session.flush()
    enqueue_fan_out(session, jobs, alert.id)
    return alert


def enqueue_fan_out(session: Session, jobs: Jobs, alert_id: uuid.UUID) -> None:
    jobs.enqueue_after_commit(
        session, "notification_send", FAN_OUT_JOB, str(alert_id), job_id=f"wishlist-{alert_id}"
    )


def fan_out_batch(
    session: Session,
    *,
    jobs: Jobs,
    vault: Vault,
    alert_id: uuid.UUID,
    now: datetime,
    batch: int = BATCH,
) -> bool:
    """Tell the next ``batch`` wishlisters of the alert (by user id, after the cursor); True
    while more remain. The alert row is locked: two runs of the job take turns."""
    alert = session.get(WishlistAlert, alert_id, with_for_update=True)
    if alert is None or alert.done_at is not None:
        return False
    query = select(WishlistItem.user_id).where(WishlistItem.sku_id == alert.sku_id)
    if alert.cursor is not None:
        query = query.where(WishlistItem.user_id > alert.cursor)
    users = session.scalars(query.order_by(WishlistItem.user_id).limit(batch)).all()
    for user_id in users:
        notifications.deliver_notification(
            session,
            jobs=jobs,
            vault=vault,
            user_id=user_id,
            kind=f"wishlist.{alert.kind}",
            data=alert.data,
            key=f"wishlist:{alert.id}:{user_id}",
            now=now,
        )
    if len(users) < batch:
        alert.done_at = now
        return False
    alert.cursor = users[-1]
    return True
