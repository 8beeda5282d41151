"""Drops in account-level use cases (usecases/accounts.py). Erasure leaves drops alone: a drop
records a grant (accounting, like the ledger); an account merge moves them (service.move_player).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from player_platform.db import iso_or_none
from player_platform.drops.models import Drop
from player_platform.identity.models import User


def export_section(session: Session, user: User) -> list[dict[str, Any]]:
    """GDPR export: the Twitch drops granted (or refused) to the player."""
    drops = session.scalars(select(Drop).where(Drop.user_id == user.id).order_by(Drop.earned_at))
    return [
        {"id": str(d.id), "campaign_id": str(d.campaign_id) if d.campaign_id else None,
         "benefit_id": d.benefit_id, "twitch_user_id": d.twitch_user_id, "status": d.status,
         "refusal": d.refusal, "earned_at": d.earned_at.isoformat(),
         "granted_at": iso_or_none(d.granted_at)}
        for d in drops
    ]  # fmt: skip
