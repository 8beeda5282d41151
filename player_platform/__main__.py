"""`python -m player_platform init`: apply migrations and create the configured admin.
`python -m player_platform keys import FILE --sku ...` and `keys rotate`: the key warehouse.

Run `init` before starting web processes (make run does); the app itself never migrates."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from tqdm import tqdm

from player_platform.audit.service import SYSTEM
from player_platform.commerce import catalog
from player_platform.config import ConfigError, Settings
from player_platform.db import Database, utcnow
from player_platform.identity.service import ensure_admin
from player_platform.keys import importer, inventory, rotation
from player_platform.platform import Platform

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


def import_keys(settings: Settings, args: argparse.Namespace) -> None:
    """Stream FILE into the SKU's pool with a progress bar; print the outcome."""
    p = Platform.from_settings(settings)
    with p.db.unit_of_work() as session:
        sku = catalog.get_sku(session, args.sku)
        platform = args.platform or inventory.default_platform(sku.platforms)
    kind = args.format or ("jsonl" if args.file.endswith((".jsonl", ".ndjson")) else "csv")
    target = importer.Target(sku_id=sku.sku_id, platform=platform, actor_id=None, origin=SYSTEM)
    with (
        open(args.file, "rb") as lines,
        tqdm(total=os.path.getsize(args.file), unit="B", unit_scale=True) as bar,
    ):
        position = [0]

        def advance(_: int) -> None:
            bar.update(lines.tell() - position[0])
            position[0] = lines.tell()

        result = importer.import_codes(
            p.db,
            vault=p.vault,
            jobs=p.jobs,
            formats=p.key_formats,
            target=target,
            lines=lines,
            kind=kind,
            batch=settings.keys_import_batch,
            threshold=settings.keys_low_stock_threshold,
            now=utcnow,
            progress=advance,
        )
    summary = result.as_dict()
    print(
        f"imported {summary['imported']}, duplicates {summary['duplicates']}, "
        f"invalid {summary['invalid_total']}"
    )
    for entry in summary["invalid"][:20]:
        print(f"  line {entry['line']}: {entry['reason']}")


def rotate_keys(settings: Settings) -> None:
    p = Platform.from_settings(settings)
    with tqdm(total=rotation.remaining(p.db, p.vault), unit="keys") as bar:
        done = rotation.rotate(p.db, p.vault, progress=bar.update)
    print(f"re-sealed {done} keys under {p.vault.current_kid}")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m player_platform")
    commands = root.add_subparsers(dest="command", required=True)
    for name in ("init", "migrate", "bootstrap"):
        commands.add_parser(name)
    keys = commands.add_parser("keys", help="the game-key warehouse").add_subparsers(
        dest="keys_command", required=True
    )
    load = keys.add_parser("import", help="import a CSV or JSON lines file of codes")
    load.add_argument("file")
    load.add_argument("--sku", required=True)
    load.add_argument("--platform", choices=["steam", "epic", "gog", "other"])
    load.add_argument("--format", choices=importer.FORMATS)
    keys.add_parser("rotate", help="re-seal every key under the current vault key")
    return root


def main() -> None:
    args = parser().parse_args()
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        raise SystemExit(f"player-platform: {error}") from None
    if args.command in {"init", "migrate"}:
        migrate(settings)
    if args.command in {"init", "bootstrap"}:
        bootstrap(settings)
    if args.command == "keys" and args.keys_command == "import":
        import_keys(settings, args)
    if args.command == "keys" and args.keys_command == "rotate":
        rotate_keys(settings)


if __name__ == "__main__":
    main()
