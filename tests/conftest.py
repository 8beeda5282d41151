"""Infrastructure fixtures: a PostgreSQL database per test worker (migrated once), a Redis
database per worker, the app on top, and a live HTTP server for concurrency tests.

Services must be running (`make test` starts them). When one is missing the tests that need it
skip locally and fail when CI=true.
"""

from __future__ import annotations

import contextlib
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
from tests import factories
from tests.fakes import codeswholesale as fake_codeswholesale
from tests.fakes import epic as fake_epic
from tests.fakes import kinguin as fake_kinguin
from tests.fakes import paypal as fake_paypal
from tests.fakes import serve
from tests.fakes import steam as fake_steam
from tests.fakes import stripe as fake_stripe
from tests.fakes import twitch as fake_twitch
from tests.fakes.codeswholesale import FakeCodesWholesale, codeswholesale_app
from tests.fakes.epic import FakeEpic, epic_app
from tests.fakes.kinguin import FakeKinguin, kinguin_app
from tests.fakes.paypal import FakePayPal, paypal_app
from tests.fakes.steam import FakeSteam, steam_app
from tests.fakes.stripe import FakeStripe, stripe_app
from tests.fakes.twitch import FakeTwitch, twitch_app
from tests.smtp import Mailbox, start_server
from tests.support import bearer

ADMIN_DATABASE_URL = os.environ.get(
    "PP_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("PP_TEST_REDIS_URL", "redis://127.0.0.1:6379")
STEAM_RELAY_SECRET = "test-steam-relay-secret"
IN_CI = os.environ.get("CI", "").lower() == "true"
# Two test runs on one machine (say, two people in one checkout) each take a slot of their own:
# PostgreSQL databases pp_test_<slot>_<worker>, Redis databases 1 + 4 * slot + worker.
SLOT = int(os.environ.get("PP_TEST_SLOT", "0"))
# Redis has 16 databases by default: a slot above 2 names its first one (PP_TEST_REDIS_DB, e.g.
# 1 on a Redis of its own given by PP_TEST_REDIS_URL).
REDIS_FIRST_DB = int(os.environ.get("PP_TEST_REDIS_DB", str(1 + 4 * SLOT)))


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
def database_url(worker_id: str) -> str:
    return fresh_database(f"pp_test_{SLOT}_{_worker_number(worker_id)}")


def fresh_database(name: str) -> str:
    """The URL of database ``name``, created empty (dropped first) and migrated to the head."""
    admin = sa.create_engine(ADMIN_DATABASE_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        unavailable("PostgreSQL", error)
    finally:
        admin.dispose()
    url = sa.make_url(ADMIN_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    migrate(Settings(env="test", database_url=url))
    return url


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
    url = f"{REDIS_URL}/{REDIS_FIRST_DB + _worker_number(worker_id)}"
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


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[str, Mailbox]]:
    """A real SMTP server on loopback (aiosmtpd): its PP_SMTP_URL and what it received."""
    mailbox = Mailbox()
    try:
        controller = start_server(mailbox)
    except (OSError, RuntimeError) as error:
        unavailable("the loopback SMTP server", error)
    yield f"smtp://127.0.0.1:{controller.port}", mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    smtp_server[1].clear()
    return smtp_server[1]


@pytest.fixture(scope="session")
def fake_servers() -> Iterator[dict[str, object]]:
    """The outside services, faked on loopback for the whole test run (PROVIDERS.md)."""
    fakes = {
        "steam": FakeSteam(),
        "epic": FakeEpic(),
        "twitch": FakeTwitch(),
        "stripe": FakeStripe(),
        "kinguin": FakeKinguin(),
        "codeswholesale": FakeCodesWholesale(),
        "paypal": FakePayPal(),
    }
    with (
        serve(steam_app(fakes["steam"])) as steam_url,
        serve(epic_app(fakes["epic"])) as epic_url,
        serve(twitch_app(fakes["twitch"])) as twitch_url,
        serve(stripe_app(fakes["stripe"])) as stripe_url,
        serve(kinguin_app(fakes["kinguin"])) as kinguin_url,
        serve(codeswholesale_app(fakes["codeswholesale"])) as codeswholesale_url,
        serve(paypal_app(fakes["paypal"])) as paypal_url,
    ):
        fakes["settings"] = {
            "steam_api_url": steam_url,
            "steam_api_key": fake_steam.PUBLISHER_KEY,
            "steam_app_id": fake_steam.APP_ID,
            "steam_openid_url": f"{steam_url}/openid/login",
            "epic_jwks_url": f"{epic_url}/epic/oauth/v2/.well-known/jwks.json",
            "epic_connect_jwks_url": f"{epic_url}/auth/v1/oauth/jwks",
            "epic_client_id": fake_epic.CLIENT_ID,
            "epic_deployment_id": fake_epic.DEPLOYMENT_ID,
            "epic_ecom_keys_url": f"{epic_url}/ecommerceintegration/api/public/publickeys",
            "twitch_auth_url": f"{twitch_url}/oauth2",
            "twitch_client_id": fake_twitch.CLIENT_ID,
            "twitch_client_secret": fake_twitch.CLIENT_SECRET,
            "twitch_api_url": f"{twitch_url}/helix",
            "twitch_eventsub_secret": fake_twitch.EVENTSUB_SECRET,
            "steam_webhook_secret": STEAM_RELAY_SECRET,
            "stripe_api_url": stripe_url,
            "stripe_secret_key": fake_stripe.SECRET_KEY,
            "stripe_webhook_secret": fake_stripe.WEBHOOK_SECRET,
            "kinguin_api_url": kinguin_url,
            "kinguin_api_key": fake_kinguin.API_KEY,
            "kinguin_webhook_secret": fake_kinguin.WEBHOOK_SECRET,
            "codeswholesale_api_url": codeswholesale_url,
            "codeswholesale_client_id": fake_codeswholesale.CLIENT_ID,
            "codeswholesale_client_secret": fake_codeswholesale.CLIENT_SECRET,
            "paypal_api_url": paypal_url,
            "paypal_client_id": fake_paypal.CLIENT_ID,
            "paypal_client_secret": fake_paypal.CLIENT_SECRET,
            "paypal_webhook_id": fake_paypal.WEBHOOK_ID,
        }
        yield fakes


@pytest.fixture
def steam(fake_servers) -> FakeSteam:
    fake_servers["steam"].reset()
    return fake_servers["steam"]


@pytest.fixture
def epic(fake_servers) -> FakeEpic:
    fake_servers["epic"].reset()
    return fake_servers["epic"]


@pytest.fixture
def stripe(fake_servers) -> FakeStripe:
    fake_servers["stripe"].reset()
    return fake_servers["stripe"]


@pytest.fixture
def kinguin(fake_servers) -> FakeKinguin:
    fake_servers["kinguin"].reset()
    return fake_servers["kinguin"]


@pytest.fixture
def codeswholesale(fake_servers) -> FakeCodesWholesale:
    fake_servers["codeswholesale"].reset()
    return fake_servers["codeswholesale"]


@pytest.fixture
def paypal(fake_servers) -> FakePayPal:
    fake_servers["paypal"].reset()
    return fake_servers["paypal"]


@pytest.fixture
def twitch(fake_servers) -> FakeTwitch:
    fake_servers["twitch"].reset()
    return fake_servers["twitch"]


def make_settings(database_url: str, redis_url: str, tmp_path, **overrides) -> Settings:
    values = {
        "env": "test",
        "database_url": database_url,
        "redis_url": redis_url,
        "storage_url": f"file://{tmp_path}/storage",
        "secret_key": "test-secret-key-that-is-long-enough-for-production",
        "jobs_inline": False,
        "password_hash_cost": "cheapest",  # argon2 at full cost is a third of the suite's CPU
        "rate_limit_auth_ip": 10_000,
        "rate_limit_write_user": 10_000,
        "rate_limit_read_ip": 10_000,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str, redis_url: str, redis, tmp_path, fake_servers) -> Settings:
    return make_settings(database_url, redis_url, tmp_path, **fake_servers["settings"])


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
def admin_user(platform: Platform) -> factories.SignedIn:
    """An admin signed in with a TOTP code (``factories.staff``)."""
    with platform.db.unit_of_work() as session:
        return factories.staff(session, platform, role="admin")


@pytest.fixture
def admin(admin_user: factories.SignedIn) -> dict[str, str]:
    """Headers of an admin signed in with a TOTP code."""
    return bearer(admin_user.access_token)


@pytest.fixture
def live_platform(settings: Settings, committing_db: Database) -> Platform:
    p = Platform.from_settings(settings, db=committing_db)
    bind_current(p)
    return p


@pytest.fixture
def live_server(live_platform: Platform) -> Iterator[str]:
    """The app served by a threaded WSGI server on loopback: real sockets, real concurrency."""
    with serving(live_platform) as url:
        yield url


@contextlib.contextmanager
def serving(platform: Platform) -> Iterator[str]:
    """Serve ``platform``'s app on a loopback port until the block ends; yields its URL."""
    server = make_server("127.0.0.1", 0, create_app(platform=platform), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
