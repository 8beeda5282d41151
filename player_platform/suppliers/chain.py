"""The suppliers as one ``KeySource``: for a SKU, the suppliers that sell it are asked in their
priority order, each behind its circuit breaker, skipping any whose price is above the SKU's
margin floor, until one sells.

Money is never taken twice. Before a buy goes out, a ``supplier_orders`` row records which
supplier is asked under which order reference (committed first). Any later call with the same
reference (a retry, a crash, ``collect``) asks that supplier about it before anyone else: a
buy whose outcome is unknown stays ``pending`` at its supplier until a lookup finds the order
or, ``uncertain_grace_seconds`` after it was sent, still finds none."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from redis import Redis
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from player_platform.config import Settings
from player_platform.db import Database, insert_for, utcnow
from player_platform.outbound import ProviderUnavailable
from player_platform.suppliers import codeswholesale, kinguin, offers
from player_platform.suppliers.adapter import Adapter, Refused, SupplierOrder, Uncertain
from player_platform.suppliers.base import Purchase
from player_platform.suppliers.breaker import BreakerPolicy, Breakers, BreakerStatus
from player_platform.suppliers.models import (
    OPEN_ORDER_STATUSES,
    SupplierOrderRecord,
    SupplierProduct,
)

log = logging.getLogger(__name__)
SUPPLIERS = (codeswholesale.NAME, kinguin.NAME)  # every supplier an adapter exists for
# The most a SKU may cost from a supplier (EUR cents for one key), None for no limit.
MarginFloor = Callable[[Session, str], int | None]


@dataclass(frozen=True)
class Route:
    supplier: str
    product_id: str
    unit_price_cents: int


@dataclass(frozen=True)
class SupplierHealth:
    name: str
    breaker: BreakerStatus
    last_sync_at: datetime | None


class SupplierChain:
    def __init__(
        self,
        *,
        db: Database,
        adapters: dict[str, Adapter],
        breakers: Breakers,
        margin_floor: MarginFloor,
        uncertain_grace_seconds: float,
    ) -> None:
        self.db = db
        self.adapters = adapters
        self.breakers = breakers
        self.margin_floor = margin_floor
        self.uncertain_grace = timedelta(seconds=uncertain_grace_seconds)

    def purchase(self, *, sku_id: str, platform: str, quantity: int, order_ref: str) -> Purchase:
        earlier = self._earlier_orders(order_ref)
        for record in earlier:
            outcome = self._resolve(record)
            if outcome.status != "unavailable":
                return outcome
        asked = {record.supplier for record in earlier}
        routes, reasons = self.routes(sku_id=sku_id, platform=platform, quantity=quantity)
        for route in routes:
            if route.supplier in asked:
                continue  # it refused or lacked this very order already
            outcome = self._buy(route, quantity=quantity, order_ref=order_ref)
            if outcome.status != "unavailable":
                return outcome
            reasons.append(outcome.reason or route.supplier)
        return Purchase("unavailable", reason="; ".join(reasons)[:255] or "no supplier sells it")

    def collect(self, *, supplier: str, external_order_id: str) -> Purchase:
        """``external_order_id`` is the supplier's id, or our order reference while the
        supplier's is not known (a buy whose answer was lost)."""
        with self.db.unit_of_work() as session:
            record = session.scalars(
                select(SupplierOrderRecord).where(
                    SupplierOrderRecord.supplier == supplier,
                    or_(
                        SupplierOrderRecord.external_order_id == external_order_id,
                        SupplierOrderRecord.order_ref == external_order_id,
                    ),
                )
            ).first()
            if record is not None:
                session.expunge(record)
        if record is None:  # not asked through this chain: nothing settles it, it waits
            return Purchase("pending", supplier=supplier, external_order_id=external_order_id)
        return self._resolve(record)

    def health(self, *, now: float) -> list[SupplierHealth]:
        """Each configured supplier's breaker and last offer sync (the admin view)."""
        with self.db.unit_of_work() as session:
            synced = offers.last_syncs(session)
        return [
            SupplierHealth(name, self.breakers.status(name, now=now), synced.get(name))
            for name in sorted(self.adapters)
        ]

    def routes(self, *, sku_id: str, platform: str, quantity: int) -> tuple[list[Route], list[str]]:
        """The suppliers to ask, in order, and why the others are left out."""
        with self.db.unit_of_work() as session:
            floor = self.margin_floor(session, sku_id)
            mapped = session.execute(
                select(SupplierProduct.supplier, SupplierProduct.product_id)
                .where(SupplierProduct.sku_id == sku_id, SupplierProduct.platform == platform)
                .order_by(SupplierProduct.priority, SupplierProduct.supplier)
            ).all()
            known = offers.current(session, [(s, p) for s, p in mapped])
        routes, reasons = [], []
        for supplier, product_id in mapped:
            offer = known.get((supplier, product_id))
            if supplier not in self.adapters:
                continue  # not configured here
            if offer is None or offer.quantity < quantity:
                reasons.append(f"{supplier}: out of stock")
            elif floor is not None and offer.price_cents > floor:
                reasons.append(f"{supplier}: price above the margin floor")
            else:
                routes.append(Route(supplier, product_id, offer.price_cents))
        return routes, reasons

    def _buy(self, route: Route, *, quantity: int, order_ref: str) -> Purchase:
        adapter = self.adapters[route.supplier]
        if not self.breakers.allow(route.supplier, now=time.time()):
            return Purchase("unavailable", reason=f"{route.supplier}: circuit open")
        if not self._record_asking(route, quantity=quantity, order_ref=order_ref):
            # Another run is asking this supplier for this very order right now: it is that
            # supplier's, and asking anyone else could buy it twice.
            return Purchase("pending", supplier=route.supplier, external_order_id=order_ref)
        started = time.monotonic()
        try:
            order = adapter.place_order(
                product_id=route.product_id,
                quantity=quantity,
                unit_price=Decimal(route.unit_price_cents) / 100,
                order_ref=order_ref,
            )
        except Refused as refusal:  # an answer: the supplier is healthy, it just said no
            self._observe(route.supplier, started, ok=True)
            self._close(order_ref, route.supplier, "refused", refusal.reason)
            return Purchase("unavailable", reason=f"{route.supplier}: {refusal.reason}"[:255])
        except Uncertain as error:
            self._observe(route.supplier, started, ok=False)
            log.warning(
                "supplier order outcome unknown",
                extra={"supplier": route.supplier, "order_ref": order_ref},
            )
            return Purchase(
                "pending",
                supplier=route.supplier,
                external_order_id=order_ref,
                reason=str(error)[:255],
            )
        except ProviderUnavailable as error:  # answered with an error: nothing was bought
            self._observe(route.supplier, started, ok=False)
            self._close(order_ref, route.supplier, "failed", str(error))
            return Purchase("unavailable", reason=f"{route.supplier}: unavailable")
        self._observe(route.supplier, started, ok=True)
        return self._placed(order_ref, route.supplier, order)

    def _resolve(self, record: SupplierOrderRecord) -> Purchase:
        """What became of an order asked earlier: delivered, still pending, or not there."""
        if record.status not in OPEN_ORDER_STATUSES:
            return Purchase("unavailable", supplier=record.supplier, reason=record.reason)
        adapter = self.adapters.get(record.supplier)
        pending = Purchase(
            "pending",
            supplier=record.supplier,
            external_order_id=record.external_order_id or record.order_ref,
        )
        if adapter is None:
            return pending  # configured off since: it stays with that supplier
        try:
            order = (
                adapter.fetch_order(record.external_order_id)
                if record.external_order_id
                else adapter.find_order(record.order_ref)
            )
        except ProviderUnavailable:
            return pending
        if order is None:
            if utcnow() - record.created_at < self.uncertain_grace:
                return pending
            self._close(record.order_ref, record.supplier, "absent", "not placed at the supplier")
            return Purchase("unavailable", supplier=record.supplier, reason="never placed")
        return self._placed(record.order_ref, record.supplier, order)

    def _placed(self, order_ref: str, supplier: str, order: SupplierOrder) -> Purchase:
        if order.state == "failed":
            self._close(order_ref, supplier, "failed", "the supplier cancelled the order")
            return Purchase("unavailable", supplier=supplier, reason=f"{supplier}: cancelled")
        self._update(
            order_ref, supplier, status="placed", external_order_id=order.external_order_id
        )
        if order.state == "completed" and order.codes:
            return Purchase(
                "delivered",
                supplier=supplier,
                codes=order.codes,
                external_order_id=order.external_order_id,
            )
        return Purchase("pending", supplier=supplier, external_order_id=order.external_order_id)

    def _record_asking(self, route: Route, *, quantity: int, order_ref: str) -> bool:
        """Commit the intent before the call, in a transaction of its own (``transaction``
        refuses to run inside an open unit of work: the caller must not hold one across a
        supplier call); False when this supplier had this order reference already."""

        def insert(session: Session) -> bool:
            table = SupplierOrderRecord.__table__
            inserted = session.execute(
                insert_for(session, table)
                .values(
                    id=uuid.uuid4(),
                    order_ref=order_ref,
                    supplier=route.supplier,
                    product_id=route.product_id,
                    quantity=quantity,
                    unit_price_cents=route.unit_price_cents,
                    status="asking",
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["order_ref", "supplier"])
                .returning(table.c.id)
            ).scalar()
            return inserted is not None

        return self.db.transaction(insert)

    def _close(self, order_ref: str, supplier: str, status: str, reason: str) -> None:
        self._update(order_ref, supplier, status=status, reason=reason[:255])

    def _update(self, order_ref: str, supplier: str, **values: object) -> None:
        with self.db.unit_of_work() as session:
            record = session.scalars(
                select(SupplierOrderRecord).where(
                    SupplierOrderRecord.order_ref == order_ref,
                    SupplierOrderRecord.supplier == supplier,
                )
            ).one()
            for name, value in values.items():
                setattr(record, name, value)

    def _observe(self, supplier: str, started: float, *, ok: bool) -> None:
        self.breakers.record(supplier, ok=ok, seconds=time.monotonic() - started, now=time.time())

    def _earlier_orders(self, order_ref: str) -> list[SupplierOrderRecord]:
        with self.db.unit_of_work() as session:
            records = list(
                session.scalars(
                    select(SupplierOrderRecord)
                    .where(SupplierOrderRecord.order_ref == order_ref)
                    .order_by(SupplierOrderRecord.created_at)
                )
            )
            session.expunge_all()
        return records


def build_adapters(settings: Settings) -> dict[str, Adapter]:
    """The configured suppliers by name; one without credentials is left out."""
    timeout = (3.05, float(settings.supplier_timeout_seconds))
    adapters: dict[str, Adapter] = {}
    if settings.codeswholesale_client_id and settings.codeswholesale_client_secret:
        adapters[codeswholesale.NAME] = codeswholesale.CodesWholesale(
            api_url=settings.codeswholesale_api_url,
            client_id=settings.codeswholesale_client_id,
            client_secret=settings.codeswholesale_client_secret,
            timeout=timeout,
        )
    if settings.kinguin_api_key:
        adapters[kinguin.NAME] = kinguin.Kinguin(
            api_url=settings.kinguin_api_url, api_key=settings.kinguin_api_key, timeout=timeout
        )
    return adapters


def build_chain(
    settings: Settings, *, db: Database, redis: Redis, margin_floor: MarginFloor
) -> SupplierChain:
    return SupplierChain(
        db=db,
        adapters=build_adapters(settings),
        breakers=Breakers(
            redis,
            BreakerPolicy(
                slow_seconds=settings.supplier_slow_seconds,
                open_seconds=settings.supplier_breaker_open_seconds,
            ),
        ),
        margin_floor=margin_floor,
        uncertain_grace_seconds=settings.supplier_uncertain_grace_seconds,
    )
