"""Persistence: engine, declarative Base, and the unit of work that owns each transaction."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    MetaData,
    TypeDecorator,
    cast,
    create_engine,
    event,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from player_platform.errors import DomainError

T = TypeVar("T")
log = logging.getLogger(__name__)

# Serialization failure and deadlock: PostgreSQL rolled the transaction back, running it again
# from the start is the documented remedy.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
RETRY_ATTEMPTS = 4

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CONNECT_TIMEOUT_SECONDS = 5
# The server is shutting down or starting up (admin_shutdown, crash_shutdown, cannot_connect_now).
UNREACHABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """timestamptz that always comes back timezone-aware in UTC, SQLite included."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso_or_none(value: datetime | None) -> str | None:
    """RFC 3339 for exports and audit values; None stays None."""
    return value.isoformat() if value else None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
    }


def created_at_column(**options: Any) -> Mapped[datetime]:
    """A timestamptz set on insert, by Python for ORM rows and by the server for raw SQL."""
    return mapped_column(default=utcnow, server_default=func.now(), **options)


class Timestamps:
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column(onupdate=utcnow)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def insert_for(session: Session, table: Any) -> Any:
    """An INSERT that knows ON CONFLICT on both PostgreSQL and the embedded SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def json_array_holds_any(
    session: Session, column: Any, values: Iterable[str]
) -> ColumnElement[bool]:
    """``column`` (a JSON array of strings) holds one of ``values``: JSONB containment on
    PostgreSQL, ``json_each`` on the embedded SQLite."""
    values = sorted(values)
    if session.get_bind().dialect.name == "postgresql":
        return or_(*(cast(column, JSONB).contains([value]) for value in values))
    members = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(members).where(members.c.value.in_(values)))


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching values that contain ``text``."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the unit of work that owns ``session`` has committed."""
    session.info.setdefault("after_commit", []).append(callback)


_current: ContextVar[Session | None] = ContextVar("unit_of_work", default=None)


class Database:
    """One engine and session factory; ``unit_of_work()`` is the only place that commits."""

    def __init__(self, bind: Engine | Connection, *, replica: Engine | None = None) -> None:
        self.bind = bind
        self.replica = replica
        options = (
            {"join_transaction_mode": "create_savepoint"} if isinstance(bind, Connection) else {}
        )
        self.sessions = sessionmaker(bind=bind, expire_on_commit=False, **options)
        self.replica_sessions = (
            sessionmaker(bind=replica, expire_on_commit=False) if replica is not None else None
        )

    @classmethod
    def from_url(cls, url: str, *, replica: str | None = None) -> Database:
        return cls(_engine(url), replica=_engine(replica, read_only=True) if replica else None)

    @property
    def dialect(self) -> str:
        return self.bind.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Open the transaction, or join the one already open in this context.

        The outermost block commits (then runs after-commit callbacks) or rolls back; inner
        blocks share its session so one request or job is one transaction.
        """
        current = _current.get()
        if current is not None:
            yield current
            return
        session = self.sessions()
        token = _current.set(session)
        committed = False
        try:
            yield session
            # A read served from caches never began a transaction: nothing to commit.
            if session.in_transaction() or session.new or session.dirty or session.deleted:
                session.commit()
            committed = True
        except DomainError as error:
            if error.persist:  # its effects stand (a revoked family), and so do their callbacks
                session.commit()
                committed = True
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            _current.reset(token)
            callbacks = session.info.pop("after_commit", [])
            session.close()
            if committed:
                for callback in callbacks:
                    callback()

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A pooled connection outside any transaction: each statement commits on its own.

        For a request whose SQL is one statement (a read, or a write that holds alone): it
        saves the BEGIN and COMMIT round trips of a unit of work (two of the four a /v1/me
        spent). Inside an open unit of work, or on a database bound to one connection (the
        tests' rolled-back transaction), it joins that unit of work instead.
        """
        if isinstance(self.bind, Connection) or _current.get() is not None:
            with self.unit_of_work() as session:
                yield session.connection()
            return
        with self.bind.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def replica_session(self) -> Iterator[Session]:
        """A read-only session on the read replica (PP_DATABASE_REPLICA_URL), for the routes
        where a read a moment stale is harmless: the catalog, closed seasons' archives, UGC
        listings. Never for money, sessions or a read that decides a write. Without a replica it
        is the unit of work on the primary. Nothing it does is written (its transactions are read
        only)."""
        if self.replica_sessions is None:
            with self.unit_of_work() as session:
                yield session
            return
        with self.replica_sessions() as session:
            yield session
            session.commit()  # ends the read-only transaction, keeping what it loaded

    def transaction(self, work: Callable[[Session], T], *, attempts: int = RETRY_ATTEMPTS) -> T:
        """Run ``work(session)`` in a unit of work of its own and return what it returns; when
        PostgreSQL aborts it with a serialization failure or a deadlock (40001, 40P01), run it
        again from the start, at most ``attempts`` times in all.

        A function, not a context manager: a ``with`` block cannot be re-run. ``work`` must be
        safe to repeat (its only outside effects are after-commit callbacks, which run once, after
        the commit that counts), and it must be the outermost unit of work: a joined one cannot
        be retried on its own.
        """
        if _current.get() is not None:
            raise RuntimeError("Database.transaction() inside an open unit of work")
        attempt = 0
        while True:
            attempt += 1
            try:
                with self.unit_of_work() as session:
                    return work(session)
            except DBAPIError as error:
                if attempt == attempts or not is_retryable(error):
                    raise
                log.warning(
                    "transaction retried",
                    extra={"sqlstate": error.orig.sqlstate, "attempt": attempt},
                )
                time.sleep(random.uniform(0, 0.02 * attempt))  # de-synchronise the contenders

    def dispose(self) -> None:
        if isinstance(self.bind, Engine):
            self.bind.dispose()
        if self.replica is not None:
            self.replica.dispose()


def _engine(url: str, *, read_only: bool = False) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A database that does not answer fails the request in seconds (503), not minutes.
    connect_args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    if read_only:  # every transaction of these connections refuses writes
        connect_args["options"] = "-c default_transaction_read_only=on"
    return create_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, connect_args=connect_args
    )


def database_unreachable(error: Exception) -> bool:
    """Whether ``error`` says the database cannot be reached (down, restarting, refusing
    connections, no pooled connection free in time) rather than that a statement failed."""
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, OperationalError):
        return False
    if not hasattr(error.orig, "sqlstate"):
        return error.connection_invalidated  # not psycopg: SQLite's errors are not outages
    sqlstate = error.orig.sqlstate
    return (
        error.connection_invalidated
        or sqlstate is None  # no server answer at all: refused, reset, timed out
        or sqlstate.startswith("08")  # connection exception
        or sqlstate in UNREACHABLE_SQLSTATES
    )


def is_retryable(error: BaseException) -> bool:
    """A serialization failure or deadlock that running the transaction again resolves."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) in RETRYABLE_SQLSTATES


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
