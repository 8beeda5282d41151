"""Key fulfilment of a paid order: the pool first, then a supplier, else a backorder.

Each game_key SKU an order delivers is one ``KeyLine``. A run:

1. in one transaction (the order row locked): claim what the pool has for each open line;
   a line that is complete is delivered (its keys ``delivered``, the player told); a line
   still short is marked ``purchasing`` with the quantity it will ask for;
2. outside any transaction: ask the ``KeySource`` for each such line, under the line's
   ``order_ref`` (stable until the supplier says "unavailable", when no money moved), so a
   re-run after a crash or a timeout is the same supplier order, never a second purchase;
3. in one transaction per answer: record the codes (sealed, hashed, UNIQUE), or the pending
   supplier order (completed by ``receive_supplier_keys``), or the backorder.

The periodic ``retry`` runs the same for every open line, so a killed worker, a restock or a
late supplier completes it; the order lock, the line's state and the UNIQUE keyed hash make
any number of runs deliver each key once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from player_platform.commerce import orders
from player_platform.commerce.models import Order
from player_platform.db import Database, insert_for
from player_platform.jobs import Jobs
from player_platform.keys import codes, inventory, store
from player_platform.keys.models import GameKey, KeyLine
from player_platform.messaging import notifications
from player_platform.security.vault import Vault
from player_platform.studiohooks import service as studiohooks
from player_platform.suppliers.base import KeySource, Purchase

log = logging.getLogger(__name__)
SERVABLE = ("fulfilled", "backordered", "partially_refunded")
OPEN = ("pending", "purchasing", "supplier_pending", "backordered")
# A line left ``purchasing`` this long belongs to a dead run: the retry asks again.
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Ask:
    """One call to a supplier, decided under the order lock, made outside any transaction."""

    line_id: uuid.UUID
    attempt: int
    sku_id: str
    platform: str
    quantity: int
    order_ref: str
    supplier: str | None = None  # set: collect this pending supplier order
    external_order_id: str | None = None


@dataclass(frozen=True)
class Keeper:
    """What recording keys needs: the vault that seals them, the jobs that tell the player,
    the threshold a pool created on the way gets."""

    vault: Vault
    jobs: Jobs
    threshold: int


@dataclass(frozen=True)
class Context:
    db: Database
    source: KeySource
    keeper: Keeper
    clock: Callable[[], datetime]


def fulfil_order(ctx: Context, order_id: uuid.UUID) -> None:
    """Serve every open key line of one order (see the module docstring)."""
    asks = ctx.db.transaction(lambda session: _serve_from_pool(session, ctx, order_id))
    for ask in asks:
        purchase = _call(ctx.source, ask)
        if purchase is not None:
            ctx.db.transaction(lambda session, a=ask, p=purchase: _record(session, ctx, a, p))


def _call(source: KeySource, ask: Ask) -> Purchase | None:
    """The supplier's answer; None when the call failed (a timeout may have placed the order):
    the line stays ``purchasing`` and the retry asks again under the same ``order_ref``."""
    try:
        if ask.supplier is not None:
            return source.collect(supplier=ask.supplier, external_order_id=ask.external_order_id)
        return source.purchase(
            sku_id=ask.sku_id, platform=ask.platform, quantity=ask.quantity, order_ref=ask.order_ref
        )
    except Exception as error:  # whatever a supplier adapter raises: the retry asks again
        log.warning("key supplier failed", extra={"sku": ask.sku_id, "error": repr(error)})
        return None


def _serve_from_pool(session: Session, ctx: Context, order_id: uuid.UUID) -> list[Ask]:
    order = orders.lock(session, order_id)
    if order.status not in SERVABLE:
        return []
    now = ctx.clock()
    asks = []
    touched: set[uuid.UUID] = set()
    for line in _lines(session, order, now):
        if line.status in ("purchasing", "supplier_pending"):
            asks.append(_ask(line))
            continue
        if line.status not in ("pending", "backordered"):
            continue
        claimed = store.claim(
            session,
            sku_id=line.sku_id,
            quantity=line.quantity - _held(session, line),
            owner_id=order.user_id,
            order_id=order.id,
            now=now,
        )
        touched.update(key.pool_id for key in claimed)
        missing = line.quantity - _held(session, line)
        if missing == 0:
            line.status, line.delivered_at = "delivered", now
        else:
            line.status, line.purchase_quantity, line.updated_at = "purchasing", missing, now
            asks.append(_ask(line))
    inventory.check_stock(session, pool_ids=touched, jobs=ctx.keeper.jobs, now=now)
    _settle(session, ctx.keeper.jobs, order, now)
    return asks


def _lines(session: Session, order: Order, now: datetime) -> list[KeyLine]:
    """The order's key lines, created on its first run (one per game_key SKU delivered)."""
    for sku, quantity in orders.deliverables(session, order):
        if sku.type != "game_key":
            continue
        session.execute(
            insert_for(session, KeyLine.__table__)
            .values(
                id=uuid.uuid4(),
                order_id=order.id,
                sku_id=sku.sku_id,
                platform=inventory.default_platform(sku.platforms),
                quantity=quantity,
                status="pending",
                attempt=0,
                purchase_quantity=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["order_id", "sku_id"])
        )
    return list(
        session.scalars(
            select(KeyLine)
            .where(KeyLine.order_id == order.id)
            .order_by(KeyLine.sku_id)
            .execution_options(populate_existing=True)
        )
    )


def _held(session: Session, line: KeyLine) -> int:
    """Keys this line holds now (a refunded one that went back to the pool is not held)."""
    return session.scalar(
        select(func.count())
        .select_from(GameKey)
        .where(
            GameKey.order_id == line.order_id,
            GameKey.sku_id == line.sku_id,
            GameKey.status.in_(("assigned", "delivered")),
        )
    )


def _ask(line: KeyLine) -> Ask:
    return Ask(
        line_id=line.id,
        attempt=line.attempt,
        sku_id=line.sku_id,
        platform=line.platform,
        quantity=line.purchase_quantity,
        order_ref=line.order_ref,
        supplier=line.supplier if line.status == "supplier_pending" else None,
        external_order_id=line.external_order_id if line.status == "supplier_pending" else None,
    )


def _record(session: Session, ctx: Context, ask: Ask, purchase: Purchase) -> None:
    """Apply a supplier's answer to its line, unless another run got there first."""
    line = session.get(KeyLine, ask.line_id)
    order = orders.lock(session, line.order_id)
    session.refresh(line)
    expected = "supplier_pending" if ask.supplier is not None else "purchasing"
    now = ctx.clock()
    if ask.supplier is not None and purchase.status == "pending" and line.status == expected:
        return  # still at the supplier, never re-bought: the retry collects it again
    # A collect answering "unavailable" settled that the supplier holds no such order and took
    # no money (base.py): the line is backordered and bought again under a new order_ref.
    if line.status != expected or line.attempt != ask.attempt:
        if purchase.status == "delivered":  # codes we paid for: keep them, in the pool
            _store_codes(session, ctx.keeper, line, purchase, owner=None, now=now)
        return
    _apply(session, ctx.keeper, order, line, purchase, now)


def _apply(
    session: Session,
    keeper: Keeper,
    order: Order,
    line: KeyLine,
    purchase: Purchase,
    now: datetime,
) -> None:
    if purchase.status == "pending":
        line.status, line.supplier = "supplier_pending", purchase.supplier
        line.external_order_id, line.updated_at = purchase.external_order_id, now
    elif purchase.status == "delivered":
        _store_codes(session, keeper, line, purchase, owner=order, now=now)
        if _held(session, line) >= line.quantity:
            line.status, line.delivered_at = "delivered", now
        else:
            _backorder(line, "the supplier delivered too few keys", now)
    else:
        _backorder(line, purchase.reason or "unavailable", now)
    _settle(session, keeper.jobs, order, now)


def _backorder(line: KeyLine, reason: str, now: datetime) -> None:
    """Nothing to sell now: a new supplier order next time (no money moved on this one)."""
    line.status, line.reason, line.attempt = "backordered", reason[:255], line.attempt + 1
    line.supplier = line.external_order_id = None
    line.backordered_at = line.backordered_at or now
    line.updated_at = now


def _store_codes(
    session: Session,
    keeper: Keeper,
    line: KeyLine,
    purchase: Purchase,
    *,
    owner: Order | None,
    now: datetime,
) -> int:
    """Supplier codes as keys: sealed, hashed (a code seen before is skipped), assigned to the
    order when ``owner`` is given, else available in the pool. Returns how many were new."""
    pool = inventory.ensure_pool(
        session, sku_id=line.sku_id, platform=line.platform, threshold=keeper.threshold, now=now
    )
    stored = 0
    for raw in purchase.codes:
        sealed = codes.seal(keeper.vault, codes.normalise(line.platform, raw))
        held = owner is not None and _held(session, line) < line.quantity
        row = {
            "id": sealed.id,
            "pool_id": pool.id,
            "sku_id": line.sku_id,
            "platform": line.platform,
            "sealed_code": sealed.sealed_code,
            "vault_kid": sealed.vault_kid,
            "code_hash": sealed.code_hash,
            "hint": sealed.hint,
            "status": "assigned" if held else "available",
            "source": purchase.supplier or "supplier",
            "order_id": owner.id if held else None,
            "user_id": owner.user_id if held else None,
            "assigned_at": now if held else None,
            "created_at": now,
            "updated_at": now,
        }
        inserted = session.execute(
            insert_for(session, GameKey.__table__)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["code_hash"])
        )
        stored += inserted.rowcount
    return stored


def _settle(session: Session, jobs: Jobs, order: Order, now: datetime) -> None:
    """Deliver the keys of completed lines (tell the player once), and move the order between
    ``fulfilled`` and ``backordered`` (telling the player when it becomes backordered)."""
    done = select(KeyLine.sku_id).where(KeyLine.order_id == order.id, KeyLine.status == "delivered")
    delivered = session.execute(
        update(GameKey)
        .where(
            GameKey.order_id == order.id,
            GameKey.status == "assigned",
            GameKey.sku_id.in_(done.scalar_subquery()),
        )
        .values(status="delivered", delivered_at=now, updated_at=now)
        .returning(GameKey.id, GameKey.sku_id, GameKey.platform, GameKey.hint)
        .execution_options(synchronize_session=False)
    ).all()
    _emit_delivered(session, jobs, order, delivered)
    for sku_id in sorted({key.sku_id for key in delivered}):
        notifications.notify(
            session,
            jobs,
            user_id=order.user_id,
            kind="keys.delivered",
            data={"order_id": str(order.id), "sku_id": sku_id},
        )
    states = set(session.scalars(select(KeyLine.status).where(KeyLine.order_id == order.id)))
    if "backordered" in states and order.status == "fulfilled":
        order.status, order.updated_at = "backordered", now
        orders.notify(session, jobs=jobs, user_id=order.user_id, kind="order.backordered",
                      order_id=order.id)  # fmt: skip
    elif not states.intersection(OPEN) and order.status == "backordered":
        order.status, order.updated_at = "fulfilled", now


def _emit_delivered(session: Session, jobs: Jobs, order: Order, keys: list[Any]) -> None:
    """The studio's key.delivered webhook: which keys, masked (never a code)."""
    if keys:
        studiohooks.emit(session, "key.delivered", {
            "order_id": str(order.id),
            "user_id": str(order.user_id),
            "keys": [{"key_id": str(k.id), "sku_id": k.sku_id, "platform": k.platform,
                      "masked_code": codes.mask(k.hint)} for k in keys],
        }, jobs=jobs)  # fmt: skip


def receive_supplier_keys(
    session: Session,
    *,
    keeper: Keeper,
    supplier: str,
    external_order_id: str,
    codes: tuple[str, ...],
    now: datetime,
) -> int:
    """A supplier delivered the keys of an order it had answered ``pending`` for (its webhook
    or a poll): record them in the caller's transaction and deliver the line. Idempotent: a
    repeat finds the line delivered and its codes already stored. Returns how many keys the
    line gained; 0 when no line waits on that supplier order (the codes, paid for, still go
    to the pool when the line exists but was served or refunded meanwhile)."""
    line = session.scalars(
        select(KeyLine).where(
            KeyLine.supplier == supplier, KeyLine.external_order_id == external_order_id
        )
    ).one_or_none()
    if line is None:
        log.warning("supplier keys for no waiting line", extra={"supplier": supplier})
        return 0
    order = orders.lock(session, line.order_id)
    session.refresh(line)
    purchase = Purchase(
        status="delivered", supplier=supplier, codes=codes, external_order_id=external_order_id
    )
    if line.status != "supplier_pending":
        _store_codes(session, keeper, line, purchase, owner=None, now=now)
        return 0
    before = _held(session, line)
    _apply(session, keeper, order, line, purchase, now)
    return _held(session, line) - before


def open_orders(session: Session, *, now: datetime, limit: int) -> list[uuid.UUID]:
    """Orders with a line to serve again: backordered, waiting on a supplier, or left
    mid-run by a dead worker."""
    stale = now - STALE_AFTER
    rows = session.scalars(
        select(KeyLine.order_id)
        .where(
            or_(
                KeyLine.status.in_(("backordered", "supplier_pending")),
                (KeyLine.status.in_(("pending", "purchasing")) & (KeyLine.updated_at < stale)),
            )
        )
        .group_by(KeyLine.order_id)
        .order_by(func.min(KeyLine.updated_at))
        .limit(limit)
    )
    return list(rows)


def retry(ctx: Context, *, limit: int = 200) -> dict[str, Any]:
    """The periodic job: serve again every open order (oldest first)."""
    with ctx.db.unit_of_work() as session:
        order_ids = open_orders(session, now=ctx.clock(), limit=limit)
    for order_id in order_ids:
        fulfil_order(ctx, order_id)
    return {"orders": len(order_ids)}
