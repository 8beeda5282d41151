"""Supplier offers (price, stock) kept in ``supplier_offers``: pulled in batches by a periodic
job, read by the chain (which supplier to ask, at what price) and by the catalog (the best
offer and how many keys suppliers have)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.db import Database, insert_for, utcnow
from player_platform.outbound import ProviderUnavailable
from player_platform.suppliers.adapter import Adapter
from player_platform.suppliers.models import SupplierOffer, SupplierProduct

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BestOffer:
    supplier: str
    price_cents: int  # EUR cents for one key
    quantity: int


def current(
    session: Session, products: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], SupplierOffer]:
    """The last synced offers of these (supplier, product id) pairs."""
    wanted = set(products)
    if not wanted:
        return {}
    rows = session.scalars(
        select(SupplierOffer).where(
            SupplierOffer.product_id.in_({product for _, product in wanted})
        )
    )
    return {(o.supplier, o.product_id): o for o in rows if (o.supplier, o.product_id) in wanted}


def sync(db: Database, adapters: dict[str, Adapter]) -> dict[str, int]:
    """Pull the offers of every mapped product from each configured supplier; offers synced
    per supplier (a supplier that fails keeps its last offers and is logged)."""
    synced = {}
    for name, adapter in adapters.items():
        with db.unit_of_work() as session:
            product_ids = list(
                session.scalars(
                    select(SupplierProduct.product_id)
                    .where(SupplierProduct.supplier == name)
                    .distinct()
                )
            )
        try:
            synced[name] = _store(db, name, adapter, product_ids)
        except ProviderUnavailable as error:
            log.warning("supplier sync failed", extra={"supplier": name, "error": str(error)})
            synced[name] = 0
    return synced


def _store(db: Database, name: str, adapter: Adapter, product_ids: list[str]) -> int:
    count = 0
    batch: list[dict] = []
    for offer in adapter.offers(product_ids):
        batch.append(
            {
                "supplier": name,
                "product_id": offer.product_id,
                "price_cents": int(offer.price * 100),
                "quantity": max(offer.quantity, 0),
                "synced_at": utcnow(),
            }
        )
        if len(batch) >= 100:
            count += _upsert(db, batch)
            batch = []
    return count + _upsert(db, batch)


def _upsert(db: Database, rows: list[dict]) -> int:
    if not rows:
        return 0
    with db.unit_of_work() as session:
        statement = insert_for(session, SupplierOffer.__table__).values(rows)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["supplier", "product_id"],
                set_={
                    "price_cents": statement.excluded.price_cents,
                    "quantity": statement.excluded.quantity,
                    "synced_at": statement.excluded.synced_at,
                },
            )
        )
    return len(rows)


def best_offers(
    session: Session, floors: dict[str, int | None], *, suppliers: Iterable[str]
) -> dict[str, tuple[BestOffer | None, int]]:
    """Per SKU: its cheapest offer in stock from the given suppliers at or under its margin
    floor, and the keys those suppliers have (what the store can sell beyond its pools)."""
    rows = session.execute(
        select(SupplierProduct.sku_id, SupplierOffer)
        .join(
            SupplierOffer,
            (SupplierOffer.supplier == SupplierProduct.supplier)
            & (SupplierOffer.product_id == SupplierProduct.product_id),
        )
        .where(
            SupplierProduct.sku_id.in_(list(floors)),
            SupplierProduct.supplier.in_(list(suppliers)),
            SupplierOffer.quantity > 0,
        )
    ).all()
    result: dict[str, tuple[BestOffer | None, int]] = {sku: (None, 0) for sku in floors}
    for sku_id, offer in rows:
        floor = floors[sku_id]
        if floor is not None and offer.price_cents > floor:
            continue
        best, stock = result[sku_id]
        if best is None or offer.price_cents < best.price_cents:
            best = BestOffer(offer.supplier, offer.price_cents, offer.quantity)
        result[sku_id] = (best, stock + offer.quantity)
    return result


def last_syncs(session: Session) -> dict[str, datetime]:
    """When each supplier's offers were last pulled."""
    rows = session.execute(
        select(SupplierOffer.supplier, func.max(SupplierOffer.synced_at)).group_by(
            SupplierOffer.supplier
        )
    ).all()
    return dict(rows)


def set_route(
    session: Session, *, sku_id: str, platform: str, supplier: str, product_id: str, priority: int
) -> None:
    """Map our SKU on ``platform`` to a supplier's product (lower ``priority`` asked first)."""
    statement = insert_for(session, SupplierProduct.__table__).values(
        id=uuid.uuid4(),
        sku_id=sku_id,
        platform=platform,
        supplier=supplier,
        product_id=product_id,
        priority=priority,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["sku_id", "platform", "supplier"],
            set_={"product_id": product_id, "priority": priority, "updated_at": utcnow()},
        )
    )


def routes_of(session: Session, sku_id: str) -> list[SupplierProduct]:
    """The SKU's supplier products, in the order they are asked per platform."""
    return list(
        session.scalars(
            select(SupplierProduct)
            .where(SupplierProduct.sku_id == sku_id)
            .order_by(SupplierProduct.platform, SupplierProduct.priority, SupplierProduct.supplier)
        )
    )


def replace_routes(
    session: Session,
    *,
    sku_id: str,
    routes: list[dict[str, Any]],
    actor_id: uuid.UUID,
    origin: Origin,
) -> list[SupplierProduct]:
    """Make ``routes`` (supplier, platform, product_id, priority; one per supplier and
    platform) the SKU's whole supplier mapping (admin, audited)."""
    old = [_route_view(r) for r in routes_of(session, sku_id)]
    session.execute(delete(SupplierProduct).where(SupplierProduct.sku_id == sku_id))
    for route in routes:
        set_route(session, sku_id=sku_id, **route)
    record(
        session,
        actor_id=actor_id,
        action="sku.suppliers",
        resource_type="sku",
        resource_id=sku_id,
        origin=origin,
        old={"routes": old},
        new={"routes": [_route_view(r) for r in routes_of(session, sku_id)]},
    )
    return routes_of(session, sku_id)


def _route_view(route: SupplierProduct) -> dict[str, Any]:
    return {
        "supplier": route.supplier,
        "platform": route.platform,
        "product_id": route.product_id,
        "priority": route.priority,
    }
