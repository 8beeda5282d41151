"""Fraud rules: the one place that says why a paid order should wait for a person.

``reasons`` runs when an order is paid, before anything is delivered (orders.fulfil). Any
reason holds the order (``held``) with its reasons recorded on it, for an admin to approve or
cancel (commerce/reviews.py). Each rule is a setting (``PP_FRAUD_*``, ``PP_KYC_AMOUNT``); 0
turns it off. Amounts are in the order's minor units, whatever its currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from player_platform.commerce.models import Order
from player_platform.config import Settings
from player_platform.identity.models import User


@dataclass(frozen=True)
class Rules:
    window: timedelta = timedelta(hours=1)  # velocity and accounts-per-IP/device look this far
    orders_per_player: int = 0
    orders_per_ip: int = 0
    orders_per_fingerprint: int = 0
    accounts_per_ip: int = 0
    accounts_per_device: int = 0
    new_account_age: timedelta = timedelta(0)
    new_account_amount: int = 0
    kyc_amount: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(
            window=timedelta(minutes=settings.fraud_window_minutes),
            orders_per_player=settings.fraud_orders_per_player,
            orders_per_ip=settings.fraud_orders_per_ip,
            orders_per_fingerprint=settings.fraud_orders_per_fingerprint,
            accounts_per_ip=settings.fraud_accounts_per_ip,
            accounts_per_device=settings.fraud_accounts_per_device,
            new_account_age=timedelta(hours=settings.fraud_new_account_hours),
            new_account_amount=settings.fraud_new_account_amount,
            kyc_amount=settings.kyc_amount,
        )


def reasons(session: Session, *, order: Order, rules: Rules, now: datetime) -> list[str]:
    """Why this paid order should be held (empty: deliver it). Velocity counts the other
    orders of the window, so the limit is how many orders pass before the next is held."""
    since = now - rules.window
    user = session.get(User, order.user_id)
    found = []
    velocity = (
        ("velocity_player", rules.orders_per_player, Order.user_id, order.user_id),
        ("velocity_ip", rules.orders_per_ip, Order.client_ip, order.client_ip),
        (
            "velocity_fingerprint",
            rules.orders_per_fingerprint,
            Order.payment_fingerprint,
            order.payment_fingerprint,
        ),
    )
    for reason, limit, column, value in velocity:
        if limit and value is not None and _orders(session, order, column == value, since) >= limit:
            found.append(reason)
    crowds = (
        ("accounts_per_ip", rules.accounts_per_ip, Order.client_ip, order.client_ip),
        ("accounts_per_device", rules.accounts_per_device, Order.device_id, order.device_id),
    )
    for reason, limit, column, value in crowds:
        if limit and value is not None and _accounts(session, column == value, since) > limit:
            found.append(reason)
    if (
        rules.new_account_amount
        and order.total >= rules.new_account_amount
        and user is not None
        and user.created_at > now - rules.new_account_age
    ):
        found.append("new_account_high_value")
    if order.flagged_at is not None:
        found.append("receipt_flagged")
    if rules.kyc_amount and order.total >= rules.kyc_amount and not _kyc_verified(user):
        found.append("kyc_required")
    return found


def _orders(session: Session, order: Order, match: ColumnElement[bool], since: datetime) -> int:
    return session.scalar(
        select(func.count()).where(
            match, Order.id != order.id, Order.created_at >= since, Order.status != "failed"
        )
    )


def _accounts(session: Session, match: ColumnElement[bool], since: datetime) -> int:
    return session.scalar(
        select(func.count(Order.user_id.distinct())).where(match, Order.created_at >= since)
    )


def _kyc_verified(user: User | None) -> bool:
    return user is not None and user.kyc_verified_at is not None


def kyc_blocks(session: Session, *, order: Order, rules: Rules) -> bool:
    """Whether delivery must still wait for the buyer's verified identity."""
    return (
        bool(rules.kyc_amount)
        and order.total >= rules.kyc_amount
        and not _kyc_verified(session.get(User, order.user_id))
    )
