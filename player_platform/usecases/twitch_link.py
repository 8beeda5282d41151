"""Linking a Twitch account, and with it the drops that waited for it (identity knows
nothing of drops; this use case joins the two)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from player_platform.audit.service import Origin
from player_platform.drops import service as drops
from player_platform.identity import linking
from player_platform.identity.linking import ProviderIdentity
from player_platform.identity.models import Identity, User
from player_platform.jobs import Jobs


def link_twitch(
    session: Session,
    *,
    jobs: Jobs,
    user: User,
    found: ProviderIdentity,
    origin: Origin,
    now: datetime,
) -> Identity:
    """Link ``found`` to ``user`` and grant the drops its Twitch user earned before."""
    identity = linking.link(session, user=user, found=found, origin=origin, now=now)
    drops.grant_waiting(
        session, user_id=user.id, twitch_user_id=identity.provider_id, jobs=jobs, now=now
    )
    return identity
