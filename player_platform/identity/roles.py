"""Who may do what: an admin gives an account its roles (moderator, admin, publisher, reseller).

Access tokens carry the roles they were signed with, so a change ends the account's sessions:
the next sign-in carries the new roles, and a removed right stops at once. Audited."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.errors import Conflict, NotFound
from player_platform.identity.models import ROLES, User
from player_platform.identity.sessions import revoke_all

ASSIGNABLE = tuple(role for role in ROLES if role != "player")  # every account is a player


def set_roles(
    session: Session,
    *,
    user_id: uuid.UUID,
    roles: list[str],
    actor_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> User:
    """Give ``user_id`` exactly ``roles`` (besides player). An admin cannot take the admin role
    from themselves (409 ``own_admin_role``): another admin must, so a studio keeps one."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No such player.", code="user_not_found")
    wanted = ["player", *(role for role in ASSIGNABLE if role in roles)]
    if user.id == actor_id and "admin" not in wanted:
        raise Conflict("Another admin must take your admin role.", code="own_admin_role")
    if sorted(wanted) == sorted(user.roles):
        return user
    old = list(user.roles)
    user.roles = wanted
    ended = revoke_all(session, user_id=user.id, now=now)
    record(
        session,
        actor_id=actor_id,
        action="user.roles",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
        old={"roles": old},
        new={"roles": wanted, "sessions_ended": ended},
    )
    return user
