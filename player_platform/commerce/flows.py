"""Commerce flows that call a provider (Steam, Stripe, PayPal, Epic), shared by the routes and the
periodic jobs. Each flow is: read or claim in one unit of work, call the provider with no
transaction open and no row locked, record the outcome in a new unit of work. Every unit of
work runs through ``Database.transaction``, so a serialization failure or deadlock re-runs it.

The state a crash between the steps leaves, and what finishes it:
- a Steam order ``pending`` (InitTxn or FinalizeTxn made, not recorded): ``poll_steam``;
- a Stripe checkout ``pending`` without a PaymentIntent: ``fail_abandoned_checkouts``;
- a paid Stripe order still ``pending``: the payment_intent.succeeded webhook (re-driven);
- a PayPal order captured but not recorded: the buyer's capture retried (PayPal answers the
  first capture to our PayPal-Request-Id again) or PAYMENT.CAPTURE.COMPLETED (re-driven);
- a refund request ``refunding``: ``finish_refunds`` asks the provider again and completes it.
Provider calls repeated by those jobs are safe: Stripe calls carry our Idempotency-Key, PayPal's
our PayPal-Request-Id, Steam's
are preceded or followed by QueryTxn.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from player_platform.audit.service import Origin
from player_platform.commerce import fraud, orders, refunds, reviews, service
from player_platform.commerce import paypal as paypal_orders
from player_platform.commerce import stripe as stripe_orders
from player_platform.commerce.epic import EpicOwnership
from player_platform.commerce.models import Order, RefundRequest
from player_platform.commerce.paypal_api import PayPalApi
from player_platform.commerce.steam import SteamMicroTxn, SteamTxnFailed
from player_platform.commerce.stripe_api import StripeApi
from player_platform.db import Database, utcnow
from player_platform.errors import PaymentRequired, Unavailable
from player_platform.jobs import Jobs
from storage import Storage

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
REFUNDED_ON_STEAM = ("Refunded", "PartialRefund", "RefundedSuspectedFraud")


def checkout(
    db: Database,
    *,
    stripe: StripeApi,
    paypal: PayPalApi,
    provider: str,
    user_id: uuid.UUID,
    lines: list[tuple[str, int]],
    currency: str,
    client_ip: str | None,
    device_id: str | None,
    clock: Clock = utcnow,
) -> orders.Purchase:
    """A pending order for the cart, then the provider's payment: a Stripe PaymentIntent the
    client confirms, or a PayPal order the buyer approves (then ``capture_paypal``)."""
    order = db.transaction(
        functools.partial(
            orders.open_checkout,
            provider=provider,
            user_id=user_id,
            lines=lines,
            currency=currency,
            client_ip=client_ip,
            device_id=device_id,
            now=clock(),
        )
    )
    if provider == "paypal":
        paypal_order = paypal.create_order(
            order_id=order.id, amount=order.total, currency=order.currency
        )
        record = functools.partial(
            paypal_orders.record_paypal_order, order_id=order.id, paypal_order=paypal_order
        )
    else:
        intent = stripe.create_payment_intent(
            order_id=order.id, amount=order.total, currency=order.currency
        )
        record = functools.partial(
            stripe_orders.record_payment_intent, order_id=order.id, intent=intent
        )
    return db.transaction(functools.partial(record, now=clock()))


def capture_paypal(
    db: Database,
    *,
    paypal: PayPalApi,
    storage: Storage,
    jobs: Jobs,
    rules: fraud.Rules,
    user_id: uuid.UUID,
    order_id: uuid.UUID,
    clock: Clock = utcnow,
) -> orders.Purchase:
    """After the buyer approved: capture with PayPal, then the order is fulfilled (once). A
    retry captures nothing twice: PayPal answers our PayPal-Request-Id with the first capture."""
    order = db.transaction(
        functools.partial(paypal_orders.claim_capture, user_id=user_id, order_id=order_id)
    )
    if order.status == "pending":
        paypal_order = paypal.capture_order(
            order_id=order.id, paypal_order_id=str(order.provider_order_id)
        )
    else:
        paypal_order = {}
    return db.transaction(
        functools.partial(
            paypal_orders.settle_capture,
            order_id=order.id,
            paypal_order=paypal_order,
            storage=storage,
            jobs=jobs,
            rules=rules,
            now=clock(),
        )
    )


def init_steam(
    db: Database,
    *,
    steam: SteamMicroTxn,
    user_id: uuid.UUID,
    sku_id: str,
    quantity: int,
    currency: str,
    language: str,
    clock: Clock = utcnow,
) -> orders.Purchase:
    """A pending order (committed first), then Steam's InitTxn: the client shows the overlay.
    An order Steam refused is kept as failed (402 steam_txn_failed); an accepted one needs no
    second write (service.steam_init_answer)."""
    start = db.transaction(
        functools.partial(
            service.open_steam_order,
            user_id=user_id,
            sku_id=sku_id,
            quantity=quantity,
            currency=currency,
            now=clock(),
        )
    )
    try:
        params = steam.init_txn(
            order_id=start.steam_order_id,
            steam_id=start.steam_id,
            currency=start.currency,
            language=language,
            lines=start.lines,
        )
    except SteamTxnFailed:
        db.transaction(
            functools.partial(
                service.record_steam_init_refused, order_id=start.order.id, now=clock()
            )
        )
        raise
    return service.steam_init_answer(start, params)


def finalize_steam(
    db: Database,
    *,
    steam: SteamMicroTxn,
    storage: Storage,
    jobs: Jobs,
    user_id: uuid.UUID,
    order_id: uuid.UUID,
    clock: Clock = utcnow,
) -> orders.Purchase:
    """After the overlay: QueryTxn and FinalizeTxn, then the order is fulfilled (once)."""
    state = db.transaction(
        functools.partial(service.steam_order_state, user_id=user_id, order_id=order_id)
    )
    if state.status != "pending":
        return db.transaction(
            functools.partial(service.steam_order, user_id=user_id, order_id=order_id)
        )
    txn = service.ask_steam(steam, state.steam_order_id)
    return _record_steam(db, order_id, txn, storage=storage, jobs=jobs, clock=clock)


def verify_receipt(
    db: Database,
    *,
    provider: str,
    receipt: dict[str, Any],
    steam: SteamMicroTxn,
    stripe: StripeApi,
    epic: EpicOwnership,
    storage: Storage,
    jobs: Jobs,
    rules: fraud.Rules,
    user_id: uuid.UUID,
    origin: Origin,
    clock: Clock = utcnow,
) -> orders.Purchase:
    """Any provider's proof of payment, turned into one fulfilled order (see service.py);
    the fraud ``rules`` judge the web store's payments (Stripe)."""
    common = {"user_id": user_id, "origin": origin, "storage": storage, "jobs": jobs}
    if provider == "steam":
        return _verify_steam(db, steam=steam, orderid=receipt["orderid"], clock=clock, **common)
    if provider == "epic":
        return _verify_epic(db, epic=epic, receipt=receipt, clock=clock, **common)
    return _verify_stripe(
        db,
        stripe=stripe,
        rules=rules,
        payment_intent_id=receipt["payment_intent_id"],
        clock=clock,
        **common,
    )


def _verify_steam(
    db: Database,
    *,
    steam: SteamMicroTxn,
    orderid: str,
    user_id: uuid.UUID,
    origin: Origin,
    storage: Storage,
    jobs: Jobs,
    clock: Clock,
) -> orders.Purchase:
    claimed, steam_id = db.transaction(
        functools.partial(
            service.claim_steam_receipt,
            user_id=user_id,
            orderid=orderid,
            origin=origin,
            now=clock(),
        )
    )
    if claimed is not None and claimed.order.status != "pending":
        return claimed
    try:
        txn = steam.query_txn(int(orderid))
    except SteamTxnFailed:
        raise PaymentRequired("Steam does not know this order.", code="receipt_invalid") from None
    if claimed is None and str(txn.get("steamid")) != steam_id:
        raise PaymentRequired(
            "This order belongs to another Steam account.", code="receipt_invalid"
        )
    txn = service.ask_steam(steam, int(orderid), txn=txn)
    if claimed is not None:
        return _record_steam(db, claimed.order.id, txn, storage=storage, jobs=jobs, clock=clock)

    def adopt_and_record(session):
        order = service.adopt_steam_order(
            session, user_id=user_id, orderid=orderid, txn=txn, origin=origin, now=clock()
        )
        return service.record_steam_txn(
            session, order_id=order.id, txn=txn, storage=storage, jobs=jobs, now=clock()
        )

    return db.transaction(adopt_and_record)


def _record_steam(
    db: Database,
    order_id: uuid.UUID,
    txn: dict[str, Any],
    *,
    storage: Storage,
    jobs: Jobs,
    clock: Clock,
) -> orders.Purchase:
    return db.transaction(
        functools.partial(
            service.record_steam_txn,
            order_id=order_id,
            txn=txn,
            storage=storage,
            jobs=jobs,
            now=clock(),
        )
    )


def _verify_epic(
    db: Database,
    *,
    epic: EpicOwnership,
    receipt: dict[str, Any],
    user_id: uuid.UUID,
    origin: Origin,
    storage: Storage,
    jobs: Jobs,
    clock: Clock,
) -> orders.Purchase:
    sku_id = receipt["sku_id"]
    account_id, item_ids = db.transaction(
        functools.partial(service.epic_offer, user_id=user_id, sku_id=sku_id)
    )
    claims = epic.verify(
        receipt["ownership_token"], account_id=account_id, catalog_item_ids=item_ids, now=clock()
    )
    return db.transaction(
        functools.partial(
            service.grant_epic_ownership,
            user_id=user_id,
            account_id=account_id,
            sku_id=sku_id,
            claims=claims,
            origin=origin,
            storage=storage,
            jobs=jobs,
            now=clock(),
        )
    )


def _verify_stripe(
    db: Database,
    *,
    stripe: StripeApi,
    rules: fraud.Rules,
    payment_intent_id: str,
    user_id: uuid.UUID,
    origin: Origin,
    storage: Storage,
    jobs: Jobs,
    clock: Clock,
) -> orders.Purchase:
    """The client's word that it paid, checked with Stripe (the webhook may not be here yet)."""
    claimed = db.transaction(
        functools.partial(
            stripe_orders.claim_payment,
            user_id=user_id,
            payment_intent_id=payment_intent_id,
            origin=origin,
            now=clock(),
        )
    )
    if claimed.order.status != "pending":
        return claimed
    intent = stripe.payment_intent(payment_intent_id)
    return db.transaction(
        functools.partial(
            stripe_orders.settle_payment,
            order_id=claimed.order.id,
            intent=intent,
            storage=storage,
            jobs=jobs,
            rules=rules,
            now=clock(),
        )
    )


def request_refund(
    db: Database,
    *,
    refunder: Refunder,
    jobs: Jobs,
    user_id: uuid.UUID,
    order_id: uuid.UUID,
    reason: str,
    origin: Origin,
    clock: Clock = utcnow,
) -> RefundRequest:
    """A player's request, decided by the rules (refunds.request_refund); refunded at once
    when they approve it."""
    refund = db.transaction(
        functools.partial(
            refunds.request_refund,
            jobs=jobs,
            user_id=user_id,
            order_id=order_id,
            reason=reason,
            origin=origin,
            now=clock(),
        )
    )
    if refund.status != "refunding":
        return refund
    return settle_refund(db, refund.id, refunder=refunder, jobs=jobs, clock=clock)


def decide_refund(
    db: Database,
    *,
    refunder: Refunder,
    jobs: Jobs,
    refund_id: uuid.UUID,
    approve: bool,
    actor_id: uuid.UUID,
    reason: str | None,
    origin: Origin,
    clock: Clock = utcnow,
) -> RefundRequest:
    """An admin approves (refunded with the provider, then reversed) or denies a request."""
    refund = db.transaction(
        functools.partial(
            refunds.decide,
            jobs=jobs,
            refund_id=refund_id,
            approve=approve,
            actor_id=actor_id,
            reason=reason,
            origin=origin,
            now=clock(),
        )
    )
    if refund.status != "refunding":
        return refund
    return settle_refund(db, refund.id, refunder=refunder, jobs=jobs, clock=clock)


def settle_refund(
    db: Database,
    refund_id: uuid.UUID,
    *,
    refunder: Refunder,
    jobs: Jobs,
    clock: Clock = utcnow,
) -> RefundRequest:
    """Refund a ``refunding`` request's order with its provider, then reverse the order. When
    the provider fails, the request stays ``refunding`` for ``finish_refunds``."""
    order = db.transaction(functools.partial(refunds.refund_order, refund_id=refund_id))
    if order is not None:
        try:
            refunder.refund(order)
        except (Unavailable, PaymentRequired) as error:
            log.warning(
                "provider refund failed; retried by finish_refunds",
                extra={"refund": str(refund_id), "code": error.code},
            )
            return db.transaction(lambda session: session.get(RefundRequest, refund_id))
    return db.transaction(
        functools.partial(refunds.complete_refund, refund_id=refund_id, jobs=jobs, now=clock())
    )


@dataclass(frozen=True)
class Refunder:
    """The providers a paid order can be refunded with: the one its order names is asked."""

    steam: SteamMicroTxn
    stripe: StripeApi
    paypal: PayPalApi

    def refund(self, order: Order) -> None:
        """Give the whole payment back; safe to repeat (each call carries our idempotency key)."""
        if order.provider == "paypal":
            self.paypal.refund(order_id=order.id, capture_id=paypal_orders.capture_id(order))
        elif order.provider == "stripe":
            self.stripe.refund(order_id=order.id, payment_intent_id=order.provider_order_id)
        elif order.provider == "steam":
            steam_order_id = int(order.provider_order_id)
            try:
                self.steam.refund_txn(steam_order_id)
            except SteamTxnFailed:  # refunded by an earlier attempt that did not record it?
                if self.steam.query_txn(steam_order_id).get("status") not in REFUNDED_ON_STEAM:
                    raise


def cancel_held(
    db: Database,
    *,
    refunder: Refunder,
    jobs: Jobs,
    order_id: uuid.UUID,
    actor_id: uuid.UUID,
    reason: str,
    origin: Origin,
    clock: Clock = utcnow,
) -> Order:
    """An admin cancels a held order: refunded with its provider, then recorded. A provider
    failure leaves the order held (503); cancelling again is safe (idempotent refunds)."""
    order = db.transaction(functools.partial(reviews.held_order, order_id=order_id))
    refunder.refund(order)
    return db.transaction(
        functools.partial(
            reviews.record_cancel,
            order_id=order_id,
            jobs=jobs,
            actor_id=actor_id,
            reason=reason,
            origin=origin,
            now=clock(),
        )
    )


def finish_refunds(
    db: Database,
    *,
    refunder: Refunder,
    jobs: Jobs,
    clock: Clock = utcnow,
) -> int:
    """Periodic: complete the refunds left ``refunding``; how many were completed."""
    waiting = db.transaction(functools.partial(refunds.refunds_in_progress, now=clock()))
    done = 0
    for refund_id in waiting:
        refund = settle_refund(db, refund_id, refunder=refunder, jobs=jobs, clock=clock)
        done += refund.status == "approved"
    return done


def poll_steam(
    db: Database, *, steam: SteamMicroTxn, storage: Storage, jobs: Jobs, clock: Clock = utcnow
) -> dict[str, int]:
    """Periodic: settle Steam orders left pending (QueryTxn, FinalizeTxn), then apply the
    refunds and chargebacks GetReport lists since the stored cursor."""
    settled = 0
    for order_id, steam_order_id in db.transaction(
        functools.partial(refunds.pending_steam_orders, now=clock())
    ):
        try:
            txn = service.ask_steam(steam, steam_order_id)
        except SteamTxnFailed:
            txn = {"status": "Unknown"}  # Steam never saw it: InitTxn failed or was lost
        if txn.get("status") == "Succeeded":
            _record_steam(db, order_id, txn, storage=storage, jobs=jobs, clock=clock)
            settled += 1
            continue
        db.transaction(
            functools.partial(
                refunds.give_up_on_steam_order,
                order_id=order_id,
                status=str(txn.get("status")),
                now=clock(),
            )
        )
    since = db.transaction(refunds.report_position)
    rows = steam.report(since=since)
    reversed_ = db.transaction(
        functools.partial(refunds.apply_report, rows=rows, since=since, jobs=jobs, now=clock())
    )
    return {"settled": settled, "reversed": reversed_}
