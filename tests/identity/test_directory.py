"""Finding staff (whom feedback is assigned to) works on PostgreSQL and on the embedded SQLite."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from player_platform.__main__ import migrate
from player_platform.config import Settings
from player_platform.db import Database, database_unreachable
from player_platform.identity.directory import staff_members
from player_platform.identity.models import User


def _people(session) -> None:
    session.add_all(
        [
            User(display_name="Ada", roles=["player", "admin"]),
            User(display_name="Mo", roles=["player", "moderator"]),
            User(display_name="Pat", roles=["player"]),
        ]
    )
    session.flush()


def test_staff_members_are_the_moderators_and_admins(db):
    with db.unit_of_work() as session:
        _people(session)
        assert [u.display_name for u in staff_members(session)] == ["Ada", "Mo"]


def test_staff_members_on_the_embedded_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/embedded.db"
    migrate(Settings(database_url=url))
    embedded = Database.from_url(url)
    with embedded.unit_of_work() as session:
        _people(session)
        assert [u.display_name for u in staff_members(session)] == ["Ada", "Mo"]
    embedded.dispose()


def test_a_failed_statement_on_sqlite_is_not_reported_as_the_database_being_down(tmp_path):
    """SQLite's errors carry no SQLSTATE; only psycopg's 'no server answer' means an outage."""
    embedded = Database.from_url(f"sqlite:///{tmp_path}/embedded.db")
    with pytest.raises(sa.exc.OperationalError) as failed, embedded.bind.connect() as conn:
        conn.execute(sa.text("SELECT @> 1"))
    assert not database_unreachable(failed.value)
    embedded.dispose()
