"""Database.transaction(): a unit of work that PostgreSQL aborts with a serialization failure
(40001) is run again from the start, a bounded number of times. The conflicts are real: two
connections update one row, one of them at REPEATABLE READ."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from player_platform.commerce.models import ProviderCursor
from player_platform.db import Database, after_commit, utcnow

NAME = "test.counter"


def _bump(db: Database) -> None:
    with db.unit_of_work() as session:
        cursor = session.get(ProviderCursor, NAME)
        cursor.position = str(int(cursor.position) + 1)


def _contended_increment(db: Database, *, conflicts: int):
    """A work function that reads the counter in a snapshot, lets another connection bump it
    (on its first ``conflicts`` runs), then writes: PostgreSQL answers 40001 to the write."""
    runs = []

    def work(session):
        runs.append(1)
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        value = int(
            session.scalar(select(ProviderCursor.position).where(ProviderCursor.name == NAME))
        )
        if len(runs) <= conflicts:
            with ThreadPoolExecutor(1) as other:  # another connection commits meanwhile
                other.submit(_bump, db).result()
        session.execute(
            ProviderCursor.__table__.update()
            .where(ProviderCursor.name == NAME)
            .values(position=str(value + 1))
        )
        return value + 1

    return work, runs


@pytest.fixture
def counter(committing_db: Database) -> Database:
    with committing_db.unit_of_work() as session:
        session.add(ProviderCursor(name=NAME, position="0", updated_at=utcnow()))
    return committing_db


def _position(db: Database) -> str:
    with db.unit_of_work() as session:
        return session.scalar(select(ProviderCursor.position).where(ProviderCursor.name == NAME))


def test_a_serialization_failure_is_run_again_and_no_change_is_lost(counter):
    work, runs = _contended_increment(counter, conflicts=1)
    assert counter.transaction(work) == 2  # the second run read the other connection's bump
    assert len(runs) == 2
    assert _position(counter) == "2"


def test_a_conflict_that_persists_gives_up_after_the_bounded_attempts(counter):
    work, runs = _contended_increment(counter, conflicts=10)
    with pytest.raises(OperationalError) as raised:
        counter.transaction(work, attempts=3)
    assert raised.value.orig.sqlstate == "40001"
    assert len(runs) == 3
    assert _position(counter) == "3"  # only the other connection's three bumps committed


def test_a_transaction_cannot_be_retried_inside_an_open_unit_of_work(counter):
    with counter.unit_of_work(), pytest.raises(RuntimeError):
        counter.transaction(lambda session: None)


def test_an_after_commit_callback_runs_once_for_the_run_that_committed(counter):
    work, runs = _contended_increment(counter, conflicts=2)
    calls = []

    def with_callback(session):
        after_commit(session, lambda: calls.append(len(runs)))
        return work(session)

    counter.transaction(with_callback)
    assert calls == [3]
