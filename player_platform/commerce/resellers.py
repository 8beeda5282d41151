"""Resellers buy game keys in bulk against a prepaid balance.

A reseller is an account with the ``reseller`` role; its server API key (scope
``keys:purchase``, ``owner_id`` = the account) places orders. The balance is the account's
wallet of the consumable SKU PP_RESELLER_BALANCE_SKU (1 = one minor unit of
PP_RESELLER_CURRENCY): the same ledger as every other balance, so a top-up, a purchase and a
refund are ledger entries that reconcile like the rest. An order is a normal order (provider
``reseller_balance``) fulfilled through orders.fulfil, which hands game keys to the
fulfilment queue.

Exactly once per Idempotency-Key, also after the replay record expired: the order's
``provider_order_id`` is the key id and a hash of the Idempotency-Key, unique in SQL, and the
balance is debited in the same transaction as the order is made.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.commerce import catalog, orders
from player_platform.commerce.models import Order
from player_platform.errors import Forbidden, Invalid, NotFound
from player_platform.identity.models import User
from player_platform.jobs import Jobs
from player_platform.security.api_keys import ServerCaller
from player_platform.wallet import service as wallet
from storage import Storage

SCOPE = "keys:purchase"
PROVIDER = "reseller_balance"


def reseller_account(session: Session, user_id: uuid.UUID) -> User:
    """The account, which must hold the reseller role (404 user_not_found, 422 not_a_reseller)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such account.", code="user_not_found")
    if "reseller" not in user.roles:
        raise Invalid("This account is not a reseller.", code="not_a_reseller")
    return user


def purchase(
    session: Session,
    *,
    caller: ServerCaller,
    idempotency_key: str,
    lines: list[tuple[str, int]],
    balance_sku: str,
    currency: str,
    storage: Storage,
    jobs: Jobs,
    origin: Origin,
    now: datetime,
) -> tuple[Order, int]:
    """Buy ``lines`` (game keys only) from the caller's balance; the order and the balance
    left. 409 insufficient_funds leaves no order and no debit."""
    caller.require_scope(SCOPE)
    if caller.owner_id is None:
        raise Forbidden("This API key belongs to no reseller account.", code="not_a_reseller")
    reseller_account(session, caller.owner_id)
    receipt_id = f"{caller.key_id}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
    order = orders.lock_by_provider_id(session, PROVIDER, receipt_id)
    if order is None:
        order = _place(
            session,
            caller=caller,
            receipt_id=receipt_id,
            lines=lines,
            balance_sku=balance_sku,
            currency=currency,
            storage=storage,
            jobs=jobs,
            origin=origin,
            now=now,
        )
    return order, balance(session, user_id=order.user_id, balance_sku=balance_sku, now=now)


def _place(
    session: Session,
    *,
    caller: ServerCaller,
    receipt_id: str,
    lines: list[tuple[str, int]],
    balance_sku: str,
    currency: str,
    storage: Storage,
    jobs: Jobs,
    origin: Origin,
    now: datetime,
) -> Order:
    priced = orders.price_lines(session, lines=lines, currency=currency)
    if any(sku.type != "game_key" for sku, _, _ in priced):
        raise Invalid("Resellers buy game keys only.", code="not_a_game_key")
    order = orders.create_order(
        session,
        user_id=caller.owner_id,
        provider=PROVIDER,
        provider_order_id=receipt_id,
        provider_data={"api_key_id": str(caller.key_id)},
        currency=currency,
        lines=priced,
        now=now,
    )
    if order is None:  # a concurrent retry made it first; ours waited for its commit
        return orders.lock_by_provider_id(session, PROVIDER, receipt_id)
    wallet.spend(
        session,
        user_id=order.user_id,
        sku_id=balance_sku,
        quantity=order.total,
        reason="reseller purchase",
        reference=f"order:{order.id}:payment",
        now=now,
    )
    orders.fulfil(
        session,
        order=order,
        receipt={"reseller": {"api_key_id": str(caller.key_id), "name": caller.name}},
        storage=storage,
        jobs=jobs,
        now=now,
    )
    record(
        session,
        actor_id=order.user_id,
        action="reseller.purchase",
        resource_type="order",
        resource_id=order.id,
        origin=origin,
        new={"api_key_id": str(caller.key_id), "total": order.total, "currency": currency},
    )
    return order


def balance(session: Session, *, user_id: uuid.UUID, balance_sku: str, now: datetime) -> int:
    return wallet.locked_wallet(session, user_id=user_id, sku_id=balance_sku, now=now).balance


def top_up(
    session: Session,
    *,
    user_id: uuid.UUID,
    amount: int,
    reason: str,
    balance_sku: str,
    actor_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> int:
    """Credit a reseller's prepaid balance (admin, audited); the balance after."""
    reseller_account(session, user_id)
    catalog.get_sku(session, balance_sku)
    credited = wallet.credit(
        session,
        user_id=user_id,
        sku_id=balance_sku,
        quantity=amount,
        reason=reason[:255],
        reference=None,
        now=now,
    )
    record(
        session,
        actor_id=actor_id,
        action="reseller.top_up",
        resource_type="user",
        resource_id=user_id,
        origin=origin,
        new={"amount": amount, "balance": credited.balance, "reason": reason},
    )
    return credited.balance
