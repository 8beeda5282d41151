"""`python -m player_platform init`: apply migrations and create the configured admin.

Run it before starting web processes (make run does); the app itself never migrates."""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config

from player_platform.config import ConfigError, Settings
from player_platform.db import Database, utcnow
from player_platform.identity.service import ensure_admin

ROOT = Path(__file__).resolve().parent.parent


def migrate(settings: Settings) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    command.upgrade(config, "head")


def bootstrap(settings: Settings) -> None:
    if not (settings.admin_email and settings.admin_password):
        return
    db = Database.from_url(settings.database_url)
    with db.unit_of_work() as session:
        ensure_admin(
            session, email=settings.admin_email, password=settings.admin_password, now=utcnow()
        )
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m player_platform")
    parser.add_argument("command", choices=["init", "migrate", "bootstrap"])
    args = parser.parse_args()
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        raise SystemExit(f"player-platform: {error}") from None
    if args.command in {"init", "migrate"}:
        migrate(settings)
    if args.command in {"init", "bootstrap"}:
        bootstrap(settings)


if __name__ == "__main__":
    main()
