"""Persistence: engine, declarative Base, and the unit of work that owns each transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator, create_engine, event, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from player_platform.errors import DomainError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

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


def contains_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching values that contain ``text``."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the unit of work that owns ``session`` has committed."""
    session.info.setdefault("after_commit", []).append(callback)


_current: ContextVar[Session | None] = ContextVar("unit_of_work", default=None)


class Database:
    """One engine and session factory; ``unit_of_work()`` is the only place that commits."""

    def __init__(self, bind: Engine | Connection) -> None:
        self.bind = bind
        options = (
            {"join_transaction_mode": "create_savepoint"} if isinstance(bind, Connection) else {}
        )
        self.sessions = sessionmaker(bind=bind, expire_on_commit=False, **options)

    @classmethod
    def from_url(cls, url: str) -> Database:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        return cls(engine)

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
        try:
            yield session
            # A read served from caches never began a transaction: nothing to commit.
            if session.in_transaction() or session.new or session.dirty or session.deleted:
                session.commit()
        except DomainError as error:
            session.commit() if error.persist else session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            _current.reset(token)
            callbacks = session.info.pop("after_commit", [])
            session.close()
        for callback in callbacks:
            callback()

    def dispose(self) -> None:
        if isinstance(self.bind, Engine):
            self.bind.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
