"""Account merge: a player proves they also own another account and folds it into this one.

Proof is the other account's refresh token or a provider credential that signs into it. The
other account's identities move to the caller, its sessions end, and it is retired (status
``merged``, ``merged_into_id``), in one transaction, audited. Accounts that both hold an
identity of the same provider are not merged: the player must unlink one first.

What other domains hold for the account (wallets, entitlements, UGC items, ...) moves in the
use case that calls this, player_platform/usecases/accounts.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.errors import Conflict, NotFound
from player_platform.identity.linking import ProviderIdentity, find_identity
from player_platform.identity.models import AccountLink, Identity, RefreshToken, User
from player_platform.identity.sessions import ensure_active, revoke_all
from player_platform.security.tokens import hash_token


def owner_of_refresh_token(session: Session, refresh_token: str, *, now: datetime) -> uuid.UUID:
    """The user a live refresh token belongs to (proof of holding that account)."""
    user_id = session.scalar(
        select(RefreshToken.user_id).where(
            RefreshToken.token_hash == hash_token(refresh_token),
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
    )
    if user_id is None:
        raise NotFound("No account signs in with this proof.", code="merge_source_not_found")
    return user_id


def owner_of_identity(session: Session, found: ProviderIdentity) -> uuid.UUID:
    identity = find_identity(session, found.provider, found.provider_id)
    if identity is None:
        raise NotFound("No account signs in with this proof.", code="merge_source_not_found")
    return identity.user_id


def merge_accounts(
    session: Session,
    *,
    target: User,
    source_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> User:
    """Fold account ``source_id``'s identities into ``target`` and retire it; returns ``target``
    with every identity (the use case moves what other domains hold)."""
    if source_id == target.id:
        raise Conflict("That proof is for this same account.", code="merge_same_account")
    # Lock both users in a fixed order so two merges of one pair cannot deadlock.
    locked = session.scalars(
        select(User)
        .where(User.id.in_([target.id, source_id]))
        .order_by(User.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    source = next(u for u in locked if u.id == source_id)
    ensure_active(source, now=now)
    ensure_active(target, now=now)
    moving = list(session.scalars(select(Identity).where(Identity.user_id == source_id)))
    clashes = {i.provider for i in moving} & {i.provider for i in target.identities}
    if clashes:
        raise Conflict(
            "Both accounts hold an identity of the same provider; unlink one first.",
            code="merge_conflict",
            providers=sorted(clashes),
        )
    for identity in moving:
        identity.user_id = target.id
        session.add(
            AccountLink(
                user_id=target.id,
                identity_id=identity.id,
                action="merge",
                provider=identity.provider,
                performed_by=target.id,
                details={"from_user_id": str(source_id)},
            )
        )
    revoke_all(session, user_id=source_id, now=now)
    old = {"status": source.status}
    source.status, source.merged_into_id, source.updated_at = "merged", target.id, now
    record(
        session,
        actor_id=target.id,
        action="user.merge",
        resource_type="user",
        resource_id=source_id,
        origin=origin,
        old=old,
        new={
            "status": "merged",
            "merged_into_id": str(target.id),
            "identities": sorted(i.provider for i in moving),
        },
    )
    session.flush()
    session.expire(target, ["identities"])
    return target
