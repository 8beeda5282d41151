"""A player's keys in their GDPR export (masked: the code is a secret they reveal in the app)
and in an account merge (they follow the account)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from player_platform.db import iso_or_none
from player_platform.identity.models import User
from player_platform.jobs import Jobs
from player_platform.keys import store
from player_platform.keys.models import GameKey


def export_section(session: Session, user: User) -> list[dict[str, Any]]:
    keys = session.scalars(
        select(GameKey).where(GameKey.user_id == user.id).order_by(GameKey.assigned_at)
    )
    return [_exported(store.view(key)) for key in keys]


def _exported(view: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready: ids as text, times as RFC 3339."""
    return {
        name: iso_or_none(value) if isinstance(value, datetime) else
        str(value) if isinstance(value, uuid.UUID) else value
        for name, value in view.items()
    }  # fmt: skip


def move_keys(
    session: Session, *, source_id: uuid.UUID, target_id: uuid.UUID, jobs: Jobs, now: datetime
) -> None:
    session.execute(
        update(GameKey)
        .where(GameKey.user_id == source_id)
        .values(user_id=target_id, updated_at=now)
    )
