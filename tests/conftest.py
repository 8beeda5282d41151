"""Infrastructure fixtures: a PostgreSQL database per test worker (migrated once), a Redis
database per worker, the app on top, and a live HTTP server for concurrency tests.

Services must be running (`make test` starts them). When one is missing the tests that need it
skip locally and fail when CI=true.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
import redis as redis_lib
import sqlalchemy as sa
from werkzeug.serving import make_server

from player_platform.__main__ import migrate
from player_platform.app import create_app
from player_platform.config import Settings
from player_platform.db import Database
from player_platform.models import Base
from player_platform.platform import Platform, bind_current

ADMIN_DATABASE_URL = os.environ.get(
    "PP_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("PP_TEST_REDIS_URL", "redis://127.0.0.1:6379")
IN_CI = os.environ.get("CI", "").lower() == "true"
# Two test runs on one machine (say, two people in one checkout) each take a slot of their own:
# PostgreSQL databases pp_test_<slot>_<worker>, Redis databases 1 + 4 * slot + worker.
SLOT = int(os.environ.get("PP_TEST_SLOT", "0"))


def unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({error.__class__.__name__}: {error})"
    if IN_CI:
        pytest.fail(message + "; CI needs it", pytrace=False)
    pytest.skip(message + "; run `make test` to start it")


def _worker_number(worker_id: str) -> int:
    number = 0 if worker_id == "master" else int(worker_id.removeprefix("gw"))
    if number > 3:
        raise pytest.UsageError("at most 4 test workers (-n 4): each has its own Redis database")
    return number


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> Iterator[str]:
    name = f"pp_test_{SLOT}_{_worker_number(worker_id)}"
    admin = sa.create_engine(ADMIN_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        unavailable("PostgreSQL", error)
    url = sa.make_url(ADMIN_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    migrate(Settings(env="test", database_url=url))
    yield url
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = Database.from_url(database_url).bind
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine: sa.Engine) -> Iterator[Database]:
    """A database whose every commit is a savepoint of one transaction rolled back at the end."""
    connection = engine.connect()
    outer = connection.begin()
    yield Database(connection)
    outer.rollback()
    connection.close()


@pytest.fixture
def committing_db(engine: sa.Engine) -> Iterator[Database]:
    """Real commits, for workers, other connections and concurrency; tables emptied after."""
    yield Database(engine)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture(scope="session")
def redis_url(worker_id: str) -> str:
    url = f"{REDIS_URL}/{1 + 4 * SLOT + _worker_number(worker_id)}"
    try:
        redis_lib.Redis.from_url(url).ping()
    except redis_lib.RedisError as error:
        unavailable("Redis", error)
    return url


@pytest.fixture
def redis(redis_url: str) -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def make_settings(database_url: str, redis_url: str, tmp_path, **overrides) -> Settings:
    values = {
        "env": "test",
        "database_url": database_url,
        "redis_url": redis_url,
        "storage_url": f"file://{tmp_path}/storage",
        "secret_key": "test-secret-key-that-is-long-enough-for-production",
        "jobs_inline": False,
        "rate_limit_auth_ip": 10_000,
        "rate_limit_write_user": 10_000,
        "rate_limit_read_ip": 10_000,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str, redis_url: str, redis, tmp_path) -> Settings:
    return make_settings(database_url, redis_url, tmp_path)


@pytest.fixture
def platform(settings: Settings, db: Database) -> Platform:
    p = Platform.from_settings(settings, db=db)
    bind_current(p)
    return p


@pytest.fixture
def app(platform: Platform):
    return create_app(platform=platform)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def live_platform(settings: Settings, committing_db: Database) -> Platform:
    p = Platform.from_settings(settings, db=committing_db)
    bind_current(p)
    return p


@pytest.fixture
def live_server(live_platform: Platform) -> Iterator[str]:
    """The app served by a threaded WSGI server on loopback: real sockets, real concurrency."""
    server = make_server("127.0.0.1", 0, create_app(platform=live_platform), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
