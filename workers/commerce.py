"""Commerce jobs: Stripe and PayPal events, Steam polling, unfinished refunds and checkouts, wallet
reconciliation and the game-key fulfilment hook (workers/keys.py). Each
re-checks state, so a duplicate run (a retry, a re-drive) changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable

from player_platform import platform
from player_platform.commerce import flows, paypal, refunds, stripe
from player_platform.db import utcnow
from player_platform.wallet import service as wallet
from workers import keys
from workers.webhooks import process_event

log = logging.getLogger(__name__)


def process_stripe_event(row_id: str) -> str:
    return _process_payment_event(row_id, stripe.apply_event)


def process_paypal_event(row_id: str) -> str:
    return _process_payment_event(row_id, paypal.apply_event)


def _process_payment_event(row_id: str, apply_event: Callable[..., str]) -> str:
    """A web payment provider's event, applied with the fraud rules (paid orders may be held)."""
    p = platform.current()
    return process_event(
        row_id,
        lambda session, payload: apply_event(
            session,
            storage=p.storage,
            jobs=p.jobs,
            rules=p.fraud_rules,
            event=payload,
            now=utcnow(),
        ),
    )


def process_steam_event(row_id: str) -> str:
    """A relay's refund or chargeback: the same reversal as a GetReport row (poll_steam)."""
    p = platform.current()
    return process_event(
        row_id,
        lambda session, payload: (
            "reversed"
            if refunds.apply_report_row(
                session, jobs=p.jobs, row=payload["transaction"], now=utcnow()
            )
            else "nothing to reverse"
        ),
    )


def poll_steam() -> dict[str, int]:
    p = platform.current()
    if not (p.settings.steam_api_key and p.settings.steam_app_id):
        return {}
    outcome = flows.poll_steam(p.db, steam=p.steam_microtxn, storage=p.storage, jobs=p.jobs)
    log.info("steam polled", extra=outcome)
    return outcome


def finish_refunds() -> int:
    """Complete the refunds left ``refunding`` (a crash or a provider outage mid-refund)."""
    p = platform.current()
    done = flows.finish_refunds(p.db, refunder=p.refunder, jobs=p.jobs)
    log.info("refunds finished", extra={"count": done})
    return done


def fail_abandoned_checkouts() -> int:
    """Fail Stripe checkouts whose PaymentIntent was never recorded (a crash mid-checkout)."""
    p = platform.current()
    failed = p.db.transaction(
        lambda session: stripe.fail_abandoned_checkouts(session, now=utcnow())
    )
    log.info("abandoned checkouts failed", extra={"count": failed})
    return failed


def reconcile_wallets() -> int:
    """balance = sum(entries) for every wallet; mismatches are logged as errors."""
    p = platform.current()
    with p.db.unit_of_work() as session:
        mismatches = wallet.reconcile(session)
    for m in mismatches:
        log.error(
            "wallet does not add up",
            extra={"wallet": str(m.wallet_id), "balance": m.balance, "ledger_sum": m.ledger_sum},
        )
    return len(mismatches)


def fulfil_game_keys(order_id: str) -> None:
    """The hook orders.fulfil enqueues for game_key SKUs: the pool, a supplier, or a backorder
    (player_platform/keys/fulfilment.py)."""
    keys.fulfil_order(order_id)
