"""Verified identity (KYC): an admin records that a player's identity was checked; orders of
PP_KYC_AMOUNT or more wait for it (commerce/fraud.py). Audited both ways."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.errors import NotFound
from player_platform.identity.models import User


def set_verified(
    session: Session,
    *,
    user_id: uuid.UUID,
    verified: bool,
    actor_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> User:
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No such player.", code="user_not_found")
    if verified == (user.kyc_verified_at is not None):
        return user
    old = user.kyc_verified_at
    user.kyc_verified_at = now if verified else None
    record(
        session,
        actor_id=actor_id,
        action="user.kyc_verified" if verified else "user.kyc_revoked",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
        old={"kyc_verified_at": old.isoformat() if old else None},
        new={"kyc_verified_at": now.isoformat() if verified else None},
    )
    return user
