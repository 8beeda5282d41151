"""Purchases with Steam and Epic, as steps: each function here is one unit of work, and
commerce/purchases.py calls the provider between them, so no Steam or Epic call waits inside a
transaction or under a row lock.

A receipt is keyed on (provider, provider_order_id): the first verification creates or locks
that order, every later one finds it. Presented by its owner again, it answers the same order
and grants (nothing new); presented by another account, it is refused with 409
``receipt_already_used``, and the order is flagged for review and the attempt audited.

A Steam order stays ``pending`` until a step records what Steam said; a crash after Steam
finalized leaves it pending, and the periodic Steam poll (refunds.poll_steam) settles it.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin
from player_platform.commerce import catalog, orders
from player_platform.commerce.models import Order, Sku
from player_platform.commerce.steam import SteamMicroTxn, SteamTxnFailed, TxnLine
from player_platform.errors import Conflict, Invalid, NotFound, PaymentRequired
from player_platform.identity.models import Identity
from player_platform.jobs import Jobs
from storage import Storage

NO_CURRENCY = "XXX"  # ISO 4217: no currency involved (Epic orders carry no price)
STEAM_FAILED = ("Failed", "Refunded", "Chargedback")


@dataclass(frozen=True)
class SteamStart:
    """A pending Steam order and what InitTxn needs."""

    order: Order  # as committed: pending, with its items
    steam_order_id: int
    steam_id: str
    currency: str
    lines: list[TxnLine]


def linked_id(session: Session, user_id: uuid.UUID, provider: str) -> str:
    provider_id = session.scalar(
        select(Identity.provider_id).where(
            Identity.user_id == user_id, Identity.provider == provider
        )
    )
    if provider_id is None:
        raise Conflict(
            f"Link a {provider} account first.", code=f"{provider}_not_linked", provider=provider
        )
    return provider_id


def open_steam_order(
    session: Session,
    *,
    user_id: uuid.UUID,
    sku_id: str,
    quantity: int,
    currency: str,
    now: datetime,
) -> SteamStart:
    """A pending order with a fresh Steam orderid; InitTxn comes next."""
    steam_id = linked_id(session, user_id, "steam")
    lines = orders.price_lines(session, lines=[(sku_id, quantity)], currency=currency)
    for sku, _, _ in lines:
        if sku.steam_item_id is None:
            raise Invalid(f"{sku.sku_id} is not sold on Steam.", code="not_sold_on_steam")
    steam_order_id = secrets.randbits(63)
    order = orders.create_order(
        session,
        user_id=user_id,
        provider="steam",
        currency=currency,
        lines=lines,
        provider_order_id=str(steam_order_id),
        provider_data={"steamid": steam_id},
        now=now,
    )
    txn_lines = [TxnLine(s.steam_item_id, q, a, s.name) for s, q, a in lines]
    return SteamStart(order, steam_order_id, steam_id, currency, txn_lines)


def steam_init_answer(start: SteamStart, params: dict[str, Any]) -> orders.Purchase:
    """What the client needs after InitTxn: the pending order and Steam's payment parameters.
    Nothing is written: Steam's transid is stored with the order's outcome (record_steam_txn),
    from QueryTxn, which repeats it."""
    order = start.order
    payment = {"provider": "steam", "orderid": order.provider_order_id, **_str(params)}
    return orders.Purchase(order, [], payment)


def record_steam_init_refused(session: Session, *, order_id: uuid.UUID, now: datetime) -> None:
    """Steam refused InitTxn: the order is kept, failed (402 steam_txn_failed)."""
    orders.fail(orders.lock(session, order_id), reason="steam:init_refused", now=now)


@dataclass(frozen=True)
class SteamOrderState:
    status: str
    steam_order_id: int


def steam_order_state(
    session: Session, *, user_id: uuid.UUID, order_id: uuid.UUID
) -> SteamOrderState:
    """What finalize checks before asking Steam, in one row read (no items, no grants): the
    caller's Steam order's status and Steam orderid; 404 and 422 as ``steam_order``."""
    row = session.execute(
        select(Order.user_id, Order.provider, Order.status, Order.provider_order_id).where(
            Order.id == order_id
        )
    ).first()
    if row is None or row.user_id != user_id:
        raise NotFound("No such order.", code="order_not_found")
    if row.provider != "steam":
        raise Invalid("This is not a Steam order.", code="not_a_steam_order")
    return SteamOrderState(row.status, int(row.provider_order_id))


def steam_order(session: Session, *, user_id: uuid.UUID, order_id: uuid.UUID) -> orders.Purchase:
    """The caller's Steam order as it stands (finalize asks Steam next if it is pending)."""
    order = orders.own_order(session, user_id=user_id, order_id=order_id)
    if order.provider != "steam":
        raise Invalid("This is not a Steam order.", code="not_a_steam_order")
    return orders.Purchase(order, orders.order_entitlements(session, order.id))


def ask_steam(
    api: SteamMicroTxn, steam_order_id: int, *, txn: dict[str, Any] | None = None
) -> dict[str, Any]:
    """QueryTxn (unless ``txn`` is its fresh answer), and FinalizeTxn when the player approved:
    what Steam holds now. Safe to repeat: a FinalizeTxn that lost a race reads the order again."""
    txn = txn if txn is not None else api.query_txn(steam_order_id)
    if txn.get("status") == "Approved":
        try:
            api.finalize_txn(steam_order_id)
        except SteamTxnFailed:
            return api.query_txn(steam_order_id)
        txn = {**txn, "status": "Succeeded"}
    return txn


def record_steam_txn(
    session: Session,
    *,
    order_id: uuid.UUID,
    txn: dict[str, Any],
    storage: Storage,
    jobs: Jobs,
    now: datetime,
) -> orders.Purchase:
    """Apply what Steam said to the locked order: fulfil a succeeded one (once), fail a failed
    one (402 receipt_invalid, kept), 402 payment_pending while the player has not approved."""
    order = orders.lock(session, order_id)
    if order.status != "pending":
        return orders.Purchase(order, orders.order_entitlements(session, order.id))
    if txn.get("transid") and "transid" not in order.provider_data:
        order.provider_data = {**order.provider_data, "transid": str(txn["transid"])}
    status = txn.get("status")
    if status in STEAM_FAILED:
        orders.fail(order, reason=f"steam:{status}", now=now)
        raise PaymentRequired(
            "Steam did not take this payment.", code="receipt_invalid", persist=True
        )
    if status != "Succeeded":
        raise PaymentRequired(
            "The player has not approved this purchase in Steam yet.", code="payment_pending"
        )
    granted = orders.fulfil(
        session, order=order, receipt={"steam": txn}, storage=storage, jobs=jobs, now=now
    )
    return orders.Purchase(order, granted)


def claim_steam_receipt(
    session: Session, *, user_id: uuid.UUID, orderid: str, origin: Origin, now: datetime
) -> tuple[orders.Purchase | None, str]:
    """The caller's order of this Steam orderid if we have it (None: not yet adopted), and the
    caller's SteamID; 409 receipt_already_used for another account's order."""
    steam_id = linked_id(session, user_id, "steam")
    order = orders.claim_existing(
        session,
        provider="steam",
        provider_order_id=orderid,
        user_id=user_id,
        origin=origin,
        now=now,
    )
    if order is None:
        return None, steam_id
    return orders.Purchase(order, orders.order_entitlements(session, order.id)), steam_id


def adopt_steam_order(
    session: Session,
    *,
    user_id: uuid.UUID,
    orderid: str,
    txn: dict[str, Any],
    origin: Origin,
    now: datetime,
) -> Order:
    """An order we did not start here (another server of the game called InitTxn), from what
    QueryTxn said: its items must be SKUs we sell on Steam. The caller checked its SteamID."""
    lines = []
    for item in txn.get("items") or []:
        sku = session.scalar(select(Sku).where(Sku.steam_item_id == _int(item.get("itemid"))))
        if sku is None:
            raise PaymentRequired("This order holds items we do not sell.", code="receipt_invalid")
        lines.append((sku, _int(item.get("qty")), _int(item.get("amount"))))
    if not lines:
        raise PaymentRequired("This order holds no items.", code="receipt_invalid")
    order = orders.create_order(
        session,
        user_id=user_id,
        provider="steam",
        currency=str(txn.get("currency", ""))[:3],
        lines=lines,
        provider_order_id=orderid,
        provider_data={"steamid": str(txn.get("steamid")), "transid": str(txn.get("transid", ""))},
        now=now,
    )
    # None: another request adopted it first, perhaps for another account (then 409).
    return order or orders.claim_existing(
        session,
        provider="steam",
        provider_order_id=orderid,
        user_id=user_id,
        origin=origin,
        now=now,
    )


def epic_offer(session: Session, *, user_id: uuid.UUID, sku_id: str) -> tuple[str, list[str]]:
    """The caller's Epic account id and the catalog items that prove ownership of ``sku_id``."""
    account_id = linked_id(session, user_id, "epic")
    sku = catalog.get_sku(session, sku_id, active_only=True)
    if not sku.epic_catalog_item_ids:
        raise Invalid(f"{sku_id} is not sold on Epic.", code="not_sold_on_epic")
    return account_id, list(sku.epic_catalog_item_ids)


def grant_epic_ownership(
    session: Session,
    *,
    user_id: uuid.UUID,
    account_id: str,
    sku_id: str,
    claims: dict[str, Any],
    origin: Origin,
    storage: Storage,
    jobs: Jobs,
    now: datetime,
) -> orders.Purchase:
    """Durable ownership on Epic, verified: one order per (Epic account, SKU), provider order
    id ``{account_id}:{sku_id}``, priced 0 in XXX (Epic took the money; we never see it)."""
    provider_order_id = f"{account_id}:{sku_id}"

    def claim() -> Order | None:
        return orders.claim_existing(
            session,
            provider="epic",
            provider_order_id=provider_order_id,
            user_id=user_id,
            origin=origin,
            now=now,
        )

    order = (
        claim()
        or orders.create_order(
            session,
            user_id=user_id,
            provider="epic",
            currency=NO_CURRENCY,
            lines=[(catalog.get_sku(session, sku_id), 1, 0)],
            provider_order_id=provider_order_id,
            provider_data={"account_id": account_id},
            now=now,
        )
        or claim()  # a concurrent verification created it first
    )
    granted = orders.fulfil(
        session,
        order=order,
        receipt={"epic": {"ownership": claims}},
        storage=storage,
        jobs=jobs,
        now=now,
    )
    return orders.Purchase(order, granted)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PaymentRequired(
            "Steam answered an unreadable order.", code="receipt_invalid"
        ) from None


def _str(params: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in params.items() if k in ("transid", "steamurl")}
