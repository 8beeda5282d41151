"""One person, one user: sign in with a provider identity, link and unlink identities.

A provider identity (``provider``, ``provider_id``) belongs to at most one user, enforced by
the unique constraint on ``identities``: concurrent attempts to claim one leave exactly one
owner. Every link and unlink writes an ``account_links`` row and an audit entry.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Uuid, bindparam, func, literal, literal_column, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from player_platform.audit.service import Origin, record
from player_platform.db import Database
from player_platform.errors import Conflict, NotFound
from player_platform.identity import display_names
from player_platform.identity.models import AccountLink, Identity, User
from player_platform.identity.sessions import (
    TokenPair,
    ensure_active,
    in_good_standing,
    issue_pair,
    new_session_params,
    opening_session,
    owner_columns,
    start_session,
)
from player_platform.security.tokens import TokenSigner, new_opaque_token


@dataclass(frozen=True)
class ProviderIdentity:
    """An identity a provider vouched for, ready to sign in with or to link."""

    provider: str
    provider_id: str
    display_name: str
    details: dict[str, Any] = field(default_factory=dict)
    email: str | None = None
    secret_hash: str | None = None  # email identities: the argon2id hash
    credentials: str | None = None  # provider tokens, sealed by the vault


def find_identity(session: Session, provider: str, provider_id: str) -> Identity | None:
    return session.scalar(
        select(Identity)
        .where(Identity.provider == provider, Identity.provider_id == provider_id)
        .options(selectinload(Identity.user))
    )


def sign_in(
    session: Session,
    tokens: TokenSigner,
    *,
    found: ProviderIdentity,
    origin: Origin,
    now: datetime,
) -> TokenPair:
    """Sign in as the owner of ``found``, creating the user on first sight."""
    identity = find_identity(session, found.provider, found.provider_id)
    if identity is None:  # first sight; a concurrent first sign-in may win: use its account
        identity = create_user(session, found=found, origin=origin, now=now) or find_identity(
            session, found.provider, found.provider_id
        )
    else:
        _refresh(identity, found)
    ensure_active(identity.user, now=now)
    return start_session(session, tokens, user=identity.user, mfa=False, origin=origin, now=now)


def enter(
    db: Database,
    tokens: TokenSigner,
    *,
    found: ProviderIdentity,
    origin: Origin,
    now: datetime,
) -> TokenPair:
    """``sign_in`` as one self-committing statement on PostgreSQL for a returning player in
    good standing (what the provider says merged into the identity, a new session opened: 2
    round trips instead of ~7); a first sight, a closed or banned account, sealed provider
    credentials or the embedded SQLite go through ``sign_in`` in a unit of work."""
    if db.dialect == "postgresql" and not found.credentials:
        refresh_token = new_opaque_token()
        params = new_session_params(tokens, refresh_token=refresh_token, origin=origin, now=now)
        with db.autocommit() as connection:
            owner = connection.execute(
                _RETURNING_PLAYER,
                {
                    **params,
                    "seen_provider": found.provider,
                    "seen_provider_id": found.provider_id,
                    "seen_details": found.details or {},
                    "new_family_id": uuid.uuid4(),
                },
            ).first()
        if owner is not None:
            return issue_pair(tokens, owner, refresh_token=refresh_token, now=now)
    with db.unit_of_work() as session:
        return sign_in(session, tokens, found=found, origin=origin, now=now)


def _returning_player_statement() -> Select:
    """``_refresh`` of the identity (only while its user may sign in), then a new session."""
    identities, users = Identity.__table__, User.__table__
    seen = (
        update(identities)
        .where(
            identities.c.provider == bindparam("seen_provider"),
            identities.c.provider_id == bindparam("seen_provider_id"),
            in_good_standing(identities.c.user_id),
        )
        .values(
            metadata=func.coalesce(identities.c.metadata, literal_column("'{}'::jsonb")).op("||")(
                bindparam("seen_details", type_=JSONB)
            )
        )
        .returning(identities.c.user_id)
        .cte("seen")
    )
    owner = (
        select(
            *owner_columns(),
            bindparam("new_family_id", type_=Uuid).label("family_id"),
            literal(False).label("mfa"),
        )
        .join_from(seen, users, users.c.id == seen.c.user_id)
        .cte("owner")
    )
    return opening_session(owner)


_RETURNING_PLAYER = _returning_player_statement()


def link(
    session: Session, *, user: User, found: ProviderIdentity, origin: Origin, now: datetime
) -> Identity:
    """Add ``found`` to ``user``. Linking what the user already holds is a no-op; an identity
    of another user, or a second identity of a provider the user has, is refused."""
    existing = find_identity(session, found.provider, found.provider_id)
    if existing is not None and existing.user_id == user.id:
        _refresh(existing, found)
        return existing
    if existing is not None:
        raise Conflict("This identity belongs to another account.", code="identity_in_use")
    if any(i.provider == found.provider for i in user.identities):
        raise Conflict(
            f"A {found.provider} identity is already linked; unlink it first.",
            code="provider_already_linked",
        )
    identity = _new_identity(found, now=now)
    try:
        with session.begin_nested():
            user.identities.append(identity)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "This identity belongs to another account.", code="identity_in_use"
        ) from None
    _log_link(session, user=user, identity=identity, action="link", origin=origin)
    return identity


def unlink(session: Session, *, user: User, provider: str, origin: Origin, now: datetime) -> None:
    """Remove the user's identity of ``provider``; never the last way into the account."""
    session.scalar(select(User.id).where(User.id == user.id).with_for_update())
    identity = session.scalar(
        select(Identity).where(Identity.user_id == user.id, Identity.provider == provider)
    )
    if identity is None:
        raise NotFound(f"No {provider} identity is linked.", code="identity_not_linked")
    count = session.scalar(select(func.count()).where(Identity.user_id == user.id))
    if count <= 1:
        raise Conflict("This is the only way into the account.", code="last_identity")
    _log_link(session, user=user, identity=identity, action="unlink", origin=origin)
    session.delete(identity)
    session.flush()
    session.expire(user, ["identities"])


def create_user(
    session: Session, *, found: ProviderIdentity, origin: Origin, now: datetime
) -> Identity | None:
    """A new player holding ``found``; None when another request created that identity first
    (the unique constraint on ``identities`` settles the race)."""
    name = display_names.clean(found.display_name)
    user = User(display_name=name, roles=["player"], created_at=now)
    identity = _new_identity(found, now=now)
    user.identities.append(identity)
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        return None
    record(
        session,
        actor_id=user.id,
        action="user.register",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
        new={"display_name": user.display_name, "provider": found.provider},
    )
    _log_link(session, user=user, identity=identity, action="link", origin=origin)
    return identity


def _new_identity(found: ProviderIdentity, *, now: datetime) -> Identity:
    return Identity(
        provider=found.provider,
        provider_id=found.provider_id,
        provider_email=found.email,
        secret_hash=found.secret_hash,
        credentials=found.credentials,
        details=found.details or None,
        linked_at=now,
    )


def _refresh(identity: Identity, found: ProviderIdentity) -> None:
    """Keep what the provider says about the account current (persona, bans, tokens)."""
    if found.details:
        identity.details = {**(identity.details or {}), **found.details}
    if found.credentials:
        identity.credentials = found.credentials


def _log_link(
    session: Session,
    *,
    user: User,
    identity: Identity,
    action: str,
    origin: Origin,
    performed_by: uuid.UUID | None = None,
) -> None:
    session.add(
        AccountLink(
            user_id=user.id,
            identity_id=identity.id if action != "unlink" else None,
            action=action,
            provider=identity.provider,
            performed_by=performed_by or user.id,
        )
    )
    record(
        session,
        actor_id=performed_by or user.id,
        action=f"identity.{action}",
        resource_type="user",
        resource_id=user.id,
        origin=origin,
        new={"provider": identity.provider, "provider_id": identity.provider_id},
    )
