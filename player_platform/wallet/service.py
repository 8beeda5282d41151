"""Entitlements and wallets: grant, spend, revoke, claw back, reconcile, move on merge.

Every ledger change locks its wallet row first (``SELECT ... FOR UPDATE``), so concurrent
changes to one wallet serialize and each entry's ``balance_after`` is exact. Effects that must
happen once carry a ``reference`` (or an entitlement ``grant_key``) under a unique constraint:
a repeat inserts nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.orm import Session

from player_platform.db import insert_for
from player_platform.errors import Conflict, Invalid
from player_platform.jobs import Jobs
from player_platform.pagination import Page, Position
from player_platform.wallet.models import Entitlement, LedgerEntry, Wallet


@dataclass(frozen=True)
class Mismatch:
    wallet_id: uuid.UUID
    balance: int
    ledger_sum: int


def grant_entitlement(
    session: Session,
    *,
    user_id: uuid.UUID,
    sku_id: str,
    grant_key: str,
    order_id: uuid.UUID | None,
    now: datetime,
) -> Entitlement:
    """Grant a durable SKU once per ``grant_key``; a repeat returns the existing grant."""
    grant_entitlements(
        session,
        grants=[{"user_id": user_id, "sku_id": sku_id, "grant_key": grant_key}],
        order_id=order_id,
        now=now,
    )
    return session.scalars(select(Entitlement).where(Entitlement.grant_key == grant_key)).one()


def grant_entitlements(
    session: Session, *, grants: list[dict], order_id: uuid.UUID | None, now: datetime
) -> None:
    """Grant durable SKUs (``user_id``, ``sku_id``, ``grant_key`` each), once per grant key, in
    one statement."""
    if grants:
        session.execute(
            insert_for(session, Entitlement.__table__)
            .values(
                [
                    {"id": uuid.uuid4(), "order_id": order_id, "status": "active"}
                    | {"granted_at": now}
                    | grant
                    for grant in grants
                ]
            )
            .on_conflict_do_nothing(index_elements=["grant_key"])
        )


def revoke_entitlements(
    session: Session, *, order_id: uuid.UUID, reason: str, now: datetime, sku_ids=None
) -> list[Entitlement]:
    """Revoke the active entitlements an order granted (only ``sku_ids`` when given)."""
    query = select(Entitlement).where(
        Entitlement.order_id == order_id, Entitlement.status == "active"
    )
    if sku_ids is not None:
        query = query.where(Entitlement.sku_id.in_(sku_ids))
    revoked = list(session.scalars(query.with_for_update()))
    for entitlement in revoked:
        entitlement.status = "revoked"
        entitlement.revoked_at = now
        entitlement.revocation_reason = reason
    return revoked


def list_entitlements(session: Session, *, user_id: uuid.UUID, status: str) -> list[Entitlement]:
    return list(
        session.scalars(
            select(Entitlement)
            .where(Entitlement.user_id == user_id, Entitlement.status == status)
            .order_by(Entitlement.granted_at, Entitlement.id)
        )
    )


def locked_wallet(session: Session, *, user_id: uuid.UUID, sku_id: str, now: datetime) -> Wallet:
    """The wallet row, created on first use, locked until the transaction ends."""
    session.execute(
        insert_for(session, Wallet.__table__)
        .values(id=uuid.uuid4(), user_id=user_id, sku_id=sku_id, balance=0, debt=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "sku_id"])
    )
    return session.scalars(
        select(Wallet)
        .where(Wallet.user_id == user_id, Wallet.sku_id == sku_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _append(
    session: Session,
    wallet: Wallet,
    *,
    change_type: str,
    quantity: int,
    now: datetime,
    order_id: uuid.UUID | None = None,
    reason: str | None = None,
    reference: str | None = None,
) -> LedgerEntry | None:
    """Add one entry and move the balance with it; None when ``reference`` was used already."""
    if reference is not None and session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.reference == reference)
    ):
        return None  # the wallet lock is held: no one else can insert this reference meanwhile
    wallet.balance += quantity
    wallet.updated_at = now
    entry = LedgerEntry(
        wallet_id=wallet.id,
        sku_id=wallet.sku_id,
        change_type=change_type,
        quantity=quantity,
        balance_after=wallet.balance,
        order_id=order_id,
        reason=reason,
        reference=reference,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def credit(
    session: Session,
    *,
    user_id: uuid.UUID,
    sku_id: str,
    quantity: int,
    now: datetime,
    change_type: str = "grant",
    order_id: uuid.UUID | None = None,
    reason: str | None = None,
    reference: str | None = None,
) -> Wallet:
    """Add ``quantity`` (once per ``reference``); an outstanding debt is settled from it first."""
    wallet = locked_wallet(session, user_id=user_id, sku_id=sku_id, now=now)
    entry = _append(
        session,
        wallet,
        change_type=change_type,
        quantity=quantity,
        now=now,
        order_id=order_id,
        reason=reason,
        reference=reference,
    )
    if entry is not None and wallet.debt:
        settled = min(wallet.debt, wallet.balance)
        wallet.debt -= settled
        _append(session, wallet, change_type="clawback", quantity=-settled, now=now, reason="debt")
    return wallet


@dataclass(frozen=True)
class Credit:
    user_id: uuid.UUID
    sku_id: str
    quantity: int
    reference: str


def credit_many(session: Session, *, credits: list[Credit], reason: str, now: datetime) -> int:
    """``credit`` for a batch in a few statements: every wallet locked once (in id order), one
    ``grant`` entry per credit in the order given, each ``reference`` once, debts settled from
    the new balance. Returns the number of entries added."""
    if not credits:
        return 0
    keys = sorted({(c.user_id, c.sku_id) for c in credits}, key=str)
    session.execute(
        insert_for(session, Wallet.__table__)
        .values(
            [
                {"id": uuid.uuid4(), "user_id": u, "sku_id": s, "balance": 0, "debt": 0}
                | {"updated_at": now}
                for u, s in keys
            ]
        )
        .on_conflict_do_nothing(index_elements=["user_id", "sku_id"])
    )
    wallets = session.scalars(
        select(Wallet)
        .where(tuple_(Wallet.user_id, Wallet.sku_id).in_(keys))
        .order_by(Wallet.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_key = {(w.user_id, w.sku_id): w for w in wallets}
    used = set(  # the wallets are locked: no one else adds these references meanwhile
        session.scalars(
            select(LedgerEntry.reference).where(
                LedgerEntry.reference.in_([c.reference for c in credits])
            )
        )
    )
    entries: list[dict] = []
    for c in credits:
        if c.reference not in used:
            used.add(c.reference)
            entries.append(
                _entry(by_key[c.user_id, c.sku_id], "grant", c.quantity, now)
                | {"reason": reason, "reference": c.reference}
            )
    credited = {e["wallet_id"] for e in entries}
    for wallet in wallets:
        if wallet.id in credited and wallet.debt:
            settled = min(wallet.debt, wallet.balance)
            wallet.debt -= settled
            entries.append(_entry(wallet, "clawback", -settled, now) | {"reason": "debt"})
    if entries:
        session.execute(LedgerEntry.__table__.insert(), entries)
    session.flush()
    return sum(e["change_type"] == "grant" for e in entries)


def _entry(wallet: Wallet, change_type: str, quantity: int, now: datetime) -> dict:
    """A ledger row that moves ``wallet`` (held locked) by ``quantity``."""
    wallet.balance += quantity
    wallet.updated_at = now
    return {
        "id": uuid.uuid4(),
        "wallet_id": wallet.id,
        "sku_id": wallet.sku_id,
        "change_type": change_type,
        "quantity": quantity,
        "balance_after": wallet.balance,
        "order_id": None,
        "reason": None,
        "reference": None,
        "created_at": now,
    }


def spend(
    session: Session,
    *,
    user_id: uuid.UUID,
    sku_id: str,
    quantity: int,
    now: datetime,
    reason: str | None = None,
    reference: str | None = None,
) -> Wallet:
    """Take ``quantity`` from the balance: 409 insufficient_funds, or wallet_in_debt."""
    if quantity <= 0:
        raise Invalid("Spend a positive quantity.", errors={"quantity": ["Must be positive."]})
    wallet = locked_wallet(session, user_id=user_id, sku_id=sku_id, now=now)
    if wallet.debt:
        raise Conflict(
            "This wallet owes a clawed-back balance; spends wait until it is settled.",
            code="wallet_in_debt",
            debt=wallet.debt,
        )
    if wallet.balance < quantity:
        raise Conflict(
            f"The balance of {sku_id} is {wallet.balance}, less than {quantity}.",
            code="insufficient_funds",
            balance=wallet.balance,
        )
    _append(
        session,
        wallet,
        change_type="spend",
        quantity=-quantity,
        now=now,
        reason=reason,
        reference=reference,
    )
    return wallet


@dataclass(frozen=True)
class Balance:
    sku_id: str
    balance: int


# The wallet's UPDATE takes its row lock and re-checks the WHERE on the latest row version once
# a concurrent spend commits (READ COMMITTED), so spends of one wallet serialize as under
# SELECT ... FOR UPDATE, the balance never goes below zero, and balance_after is the balance
# this spend left.
SPEND_AT_ONCE = text(
    """
    WITH spent AS (
        UPDATE wallets SET balance = balance - :quantity, updated_at = :now
        WHERE user_id = :user_id AND sku_id = :sku_id AND debt = 0 AND balance >= :quantity
        RETURNING id, balance
    ), entry AS (
        INSERT INTO ledger_entries
            (id, wallet_id, sku_id, change_type, quantity, balance_after, reason, created_at)
        SELECT :entry_id, id, :sku_id, 'spend', -:quantity, balance, :reason, :now FROM spent
    )
    SELECT balance FROM spent
    """
)


def spend_if_funded(
    session: Session,
    *,
    user_id: uuid.UUID,
    sku_id: str,
    quantity: int,
    now: datetime,
    reason: str | None = None,
) -> Balance | None:
    """``spend`` in one statement (PostgreSQL) when the wallet exists, owes nothing and holds
    ``quantity``: the ledger entry and the balance move together, one round trip and the row
    lock held only until the commit. None when it spent nothing (no wallet, too little, a
    debt, an unknown SKU, or not PostgreSQL): ``spend`` then says why, or spends."""
    if quantity <= 0 or session.get_bind().dialect.name != "postgresql":
        return None
    balance = session.scalar(
        SPEND_AT_ONCE,
        {
            "user_id": user_id,
            "sku_id": sku_id,
            "quantity": quantity,
            "now": now,
            "entry_id": uuid.uuid4(),
            "reason": reason,
        },
    )
    return None if balance is None else Balance(sku_id, balance)


def claw_back(
    session: Session,
    *,
    user_id: uuid.UUID,
    sku_id: str,
    quantity: int,
    order_id: uuid.UUID,
    reference: str,
    now: datetime,
) -> int:
    """Take back what a refunded order granted: what the balance lacks becomes debt.

    Returns the shortfall recorded as debt (0 when the balance covered it or it ran before).
    """
    wallet = locked_wallet(session, user_id=user_id, sku_id=sku_id, now=now)
    taken = min(quantity, wallet.balance)
    entry = _append(
        session,
        wallet,
        change_type="clawback",
        quantity=-taken,
        now=now,
        order_id=order_id,
        reason="refund",
        reference=reference,
    )
    if entry is None:
        return 0
    wallet.debt += quantity - taken
    return quantity - taken


def balances(session: Session, *, user_id: uuid.UUID) -> list[Wallet]:
    return list(
        session.scalars(select(Wallet).where(Wallet.user_id == user_id).order_by(Wallet.sku_id))
    )


def ledger(
    session: Session, *, user_id: uuid.UUID, limit: int, cursor: str | None = None
) -> Page[LedgerEntry]:
    """Entries of all the user's wallets, newest first."""
    query = (
        select(LedgerEntry)
        .join(Wallet, Wallet.id == LedgerEntry.wallet_id)
        .where(Wallet.user_id == user_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(
            tuple_(LedgerEntry.created_at, LedgerEntry.id) < (after.created_at, after.id)
        )
    entries = list(session.scalars(query))
    more = len(entries) > limit
    entries = entries[:limit]
    next_cursor = Position(entries[-1].created_at, entries[-1].id).encode() if more else None
    return Page(entries, next_cursor)


def reconcile(session: Session) -> list[Mismatch]:
    """Every wallet whose balance differs from the sum of its ledger entries."""
    sums = (
        select(LedgerEntry.wallet_id, func.coalesce(func.sum(LedgerEntry.quantity), 0).label("s"))
        .group_by(LedgerEntry.wallet_id)
        .subquery()
    )
    rows = session.execute(
        select(Wallet.id, Wallet.balance, func.coalesce(sums.c.s, 0))
        .outerjoin(sums, sums.c.wallet_id == Wallet.id)
        .where(Wallet.balance != func.coalesce(sums.c.s, 0))
    ).all()
    return [Mismatch(wallet_id=r[0], balance=r[1], ledger_sum=int(r[2])) for r in rows]


def move_holdings(
    session: Session,
    *,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    jobs: Jobs,  # a merge step's argument: nothing here waits for the commit
    now: datetime,
) -> dict[str, int]:
    """Account merge: move active entitlements and wallet balances (and debts) to the target.

    Balances move as a pair of ``transfer`` entries, so both ledgers still add up; history is
    not rewritten. Wallets are locked in a fixed order (by SKU) to avoid deadlocks.
    """
    moved = session.execute(
        update(Entitlement)
        .where(Entitlement.user_id == source_id, Entitlement.status == "active")
        .values(user_id=target_id)
    ).rowcount
    transferred = 0
    sources = session.scalars(
        select(Wallet).where(Wallet.user_id == source_id).order_by(Wallet.sku_id)
    ).all()
    for source in sources:
        source = locked_wallet(session, user_id=source_id, sku_id=source.sku_id, now=now)
        amount, debt = source.balance, source.debt
        if not amount and not debt:
            continue
        target = locked_wallet(session, user_id=target_id, sku_id=source.sku_id, now=now)
        reason = f"merge:{source_id}"
        if amount:
            _append(
                session, source, change_type="transfer", quantity=-amount, now=now, reason=reason
            )
            _append(
                session, target, change_type="transfer", quantity=amount, now=now, reason=reason
            )
        source.debt, target.debt = 0, target.debt + debt
        transferred += 1
    return {"entitlements": moved or 0, "wallets": transferred}
