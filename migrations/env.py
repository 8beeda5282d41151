"""Alembic environment: the URL comes from the caller (tests) or from PP_DATABASE_URL."""

from alembic import context
from sqlalchemy import create_engine

from player_platform.config import Settings
from player_platform.db import Database
from player_platform.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = Database.from_url(url).bind if url.startswith("sqlite") else create_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
