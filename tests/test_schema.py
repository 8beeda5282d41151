"""Migrations and models agree: one head, and `upgrade head` gives the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from player_platform.__main__ import ROOT, migrate
from player_platform.config import Settings
from player_platform.db import Database
from player_platform.models import Base


def test_there_is_exactly_one_head():
    script = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini")))
    assert len(script.get_heads()) == 1


def test_upgrade_head_on_postgresql_gives_the_models_schema(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_head_works_on_the_embedded_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/embedded.db"
    migrate(Settings(database_url=url))
    with Database.from_url(url).bind.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        assert compare_metadata(context, Base.metadata) == []
