"""Purchases with each provider: Steam InitTxn/FinalizeTxn, Epic ownership, Stripe checkout,
and verify-receipt, which turns any provider's proof of payment into one fulfilled order.

A receipt is keyed on (provider, provider_order_id): the first verification creates or locks
that order, every later one finds it. Presented by its owner again, it answers the same order
and grants (nothing new); presented by another account, it is refused with 409
``receipt_already_used``, and the order is flagged for review and the attempt audited.
"""

from __future__ import annotations

import functools
import secrets
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin
from player_platform.commerce import catalog, orders, stripe
from player_platform.commerce.models import Order, Sku
from player_platform.commerce.steam import SteamMicroTxn, SteamTxnFailed, TxnLine
from player_platform.errors import Conflict, Invalid, PaymentRequired
from player_platform.identity.models import Identity

if TYPE_CHECKING:
    from player_platform.platform import Platform

NO_CURRENCY = "XXX"  # ISO 4217: no currency involved (Epic orders carry no price)


def microtxn(platform: Platform) -> SteamMicroTxn:
    return SteamMicroTxn(platform.steam, sandbox=platform.settings.steam_sandbox)


def _linked_id(session: Session, user_id: uuid.UUID, provider: str) -> str:
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


def init_steam(
    session: Session,
    *,
    platform: Platform,
    user_id: uuid.UUID,
    sku_id: str,
    quantity: int,
    currency: str,
    language: str,
    now: datetime,
) -> orders.Purchase:
    """A pending order and Steam's InitTxn: the client then shows the overlay."""
    steam_id = _linked_id(session, user_id, "steam")
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
    params = microtxn(platform).init_txn(
        order_id=steam_order_id,
        steam_id=steam_id,
        currency=currency,
        language=language,
        lines=[TxnLine(s.steam_item_id, q, a, s.name) for s, q, a in lines],
    )
    order.provider_data = {**order.provider_data, "transid": str(params.get("transid", ""))}
    payment = {"provider": "steam", "orderid": str(steam_order_id), **_str(params)}
    return orders.Purchase(order, [], payment)


def finalize_steam(
    session: Session, *, platform: Platform, user_id: uuid.UUID, order_id: uuid.UUID, now: datetime
) -> orders.Purchase:
    order = orders.own_order(session, user_id=user_id, order_id=order_id)
    if order.provider != "steam":
        raise Invalid("This is not a Steam order.", code="not_a_steam_order")
    return settle_steam(session, platform=platform, order=orders.lock(session, order.id), now=now)


def settle_steam(
    session: Session, *, platform: Platform, order: Order, now: datetime
) -> orders.Purchase:
    """QueryTxn; finalize an approved order; fulfil a succeeded one (once)."""
    if order.status != "pending":
        return orders.Purchase(order, orders.order_entitlements(session, order.id))
    api = microtxn(platform)
    steam_order_id = int(order.provider_order_id)
    txn = api.query_txn(steam_order_id)
    status = txn.get("status")
    if status == "Approved":
        api.finalize_txn(steam_order_id)
        txn = {**txn, "status": "Succeeded"}
    elif status != "Succeeded":
        if status in ("Failed", "Refunded", "Chargedback"):
            orders.fail(order, reason=f"steam:{status}", now=now)
            raise PaymentRequired(
                "Steam did not take this payment.", code="receipt_invalid", persist=True
            )
        raise PaymentRequired(
            "The player has not approved this purchase in Steam yet.", code="payment_pending"
        )
    granted = orders.fulfil(
        session,
        order=order,
        receipt={"steam": txn},
        storage=platform.storage,
        jobs=platform.jobs,
        now=now,
    )
    return orders.Purchase(order, granted)


def verify_receipt(
    session: Session,
    *,
    platform: Platform,
    user_id: uuid.UUID,
    provider: str,
    receipt: dict[str, Any],
    origin: Origin,
    now: datetime,
) -> orders.Purchase:
    if provider == "steam":
        return _verify_steam(
            session,
            platform=platform,
            user_id=user_id,
            orderid=receipt["orderid"],
            origin=origin,
            now=now,
        )
    if provider == "epic":
        return _verify_epic(
            session,
            platform=platform,
            user_id=user_id,
            sku_id=receipt["sku_id"],
            ownership_token=receipt["ownership_token"],
            origin=origin,
            now=now,
        )
    return stripe.verify_payment_intent(
        session,
        platform=platform,
        user_id=user_id,
        payment_intent_id=receipt["payment_intent_id"],
        origin=origin,
        now=now,
    )


def _verify_steam(
    session: Session,
    *,
    platform: Platform,
    user_id: uuid.UUID,
    orderid: str,
    origin: Origin,
    now: datetime,
) -> orders.Purchase:
    order = orders.claim_existing(
        session,
        provider="steam",
        provider_order_id=orderid,
        user_id=user_id,
        origin=origin,
        now=now,
    )
    if order is None:
        order = _adopt_steam_order(
            session, platform=platform, user_id=user_id, orderid=orderid, now=now
        )
        if order.user_id != user_id:  # another request adopted it for another account first
            return _verify_steam(
                session, platform=platform, user_id=user_id, orderid=orderid, origin=origin, now=now
            )
    return settle_steam(session, platform=platform, order=order, now=now)


def _adopt_steam_order(
    session: Session, *, platform: Platform, user_id: uuid.UUID, orderid: str, now: datetime
) -> Order:
    """An order we did not start here (another server of the game called InitTxn): its Steam
    account must be the caller's and its items SKUs we sell on Steam."""
    try:
        txn = microtxn(platform).query_txn(int(orderid))
    except SteamTxnFailed:
        raise PaymentRequired("Steam does not know this order.", code="receipt_invalid") from None
    if str(txn.get("steamid")) != _linked_id(session, user_id, "steam"):
        raise PaymentRequired(
            "This order belongs to another Steam account.", code="receipt_invalid"
        )
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
    return order or orders.lock_by_provider_id(session, "steam", orderid)


def _verify_epic(
    session: Session,
    *,
    platform: Platform,
    user_id: uuid.UUID,
    sku_id: str,
    ownership_token: str,
    origin: Origin,
    now: datetime,
) -> orders.Purchase:
    """Durable ownership on Epic: one order per (Epic account, SKU), provider order id
    ``{account_id}:{sku_id}``, priced 0 in XXX (Epic took the money; we never see the price)."""
    account_id = _linked_id(session, user_id, "epic")
    sku = catalog.get_sku(session, sku_id, active_only=True)
    if not sku.epic_catalog_item_ids:
        raise Invalid(f"{sku_id} is not sold on Epic.", code="not_sold_on_epic")
    claims = platform.epic_ownership.verify(
        ownership_token,
        account_id=account_id,
        catalog_item_ids=sku.epic_catalog_item_ids,
        now=now,
    )
    provider_order_id = f"{account_id}:{sku.sku_id}"
    claim = functools.partial(
        orders.claim_existing,
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
            lines=[(sku, 1, 0)],
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
        storage=platform.storage,
        jobs=platform.jobs,
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
