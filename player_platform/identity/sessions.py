"""Sessions: access tokens, rotating refresh-token families, and resolving a bearer to an actor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlalchemy import (
    CTE,
    Column,
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin
from player_platform.db import Database
from player_platform.errors import Forbidden, Unauthorized
from player_platform.identity.models import Identity, RefreshToken, User
from player_platform.identity.session_cache import cache_of, mark_stale
from player_platform.security.tokens import AccessClaims, TokenSigner, hash_token, new_opaque_token


@dataclass(frozen=True)
class TokenPair:
    user: User | Row  # a Row of UserSchema's columns when ``exchange`` spent the token alone
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class UserView:
    """The columns of a user that the hot paths read, loaded by a Core query (no ORM entity):
    what submissions and standings need, and what ``ensure_active`` checks."""

    id: uuid.UUID
    display_name: str
    region: str | None
    roles: list[str]
    status: str
    status_reason: str | None
    status_until: datetime | None

    def has_role(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles

    def cached(self) -> dict:
        """The fields as JSON values, for the session cache."""
        until = self.status_until.isoformat() if self.status_until else None
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return values | {"id": str(self.id), "status_until": until}

    @classmethod
    def from_cached(cls, cached: dict) -> UserView:
        until = cached["status_until"] and datetime.fromisoformat(cached["status_until"])
        return cls(**cached | {"id": uuid.UUID(cached["id"]), "status_until": until})


@dataclass(frozen=True)
class Actor:
    """An authenticated caller: the user as stored now (the ORM entity, or a read-only
    ``UserView`` from ``authenticate_view``), and the claims of the token it used."""

    user: User | UserView
    claims: AccessClaims

    @property
    def id(self) -> uuid.UUID:
        return self.user.id

    def require_role(self, role: str) -> None:
        """Staff rights need the role and a sign-in that included a TOTP code."""
        if not self.user.has_role(role):
            raise Forbidden(f"This needs the {role} role.", code="forbidden")
        if not self.claims.mfa:
            raise Forbidden("Sign in with a TOTP code to use staff rights.", code="mfa_required")


CLOSED_STATUSES = frozenset({"merged", "deleted"})


def ensure_active(user: User | UserView, *, now: datetime) -> None:
    """Raise account_banned for a banned user, or a suspended one whose suspension still runs."""
    if user.status == "active":
        return
    if user.status in CLOSED_STATUSES:
        raise Unauthorized("This account was closed or merged into another.", code="account_closed")
    if user.status == "suspended" and user.status_until is not None and user.status_until <= now:
        return
    raise Forbidden(
        "This account is banned." if user.status == "banned" else "This account is suspended.",
        code="account_banned",
        account_status=user.status,
        reason=user.status_reason,
        until=user.status_until.isoformat() if user.status_until else None,
    )


def start_session(
    session: Session, tokens: TokenSigner, *, user: User, mfa: bool, origin: Origin, now: datetime
) -> TokenPair:
    """Open a new refresh-token family for ``user`` and issue its first pair."""
    return _issue(
        session,
        tokens,
        user=user,
        refresh_token=new_opaque_token(),
        family_id=uuid.uuid4(),
        mfa=mfa,
        origin=origin,
        now=now,
    )


def refresh(
    session: Session, tokens: TokenSigner, *, refresh_token: str, origin: Origin, now: datetime
) -> TokenPair:
    """Spend ``refresh_token`` and rotate it. Presented again within the reuse window (a retry
    after a lost answer, or two requests racing) it answers the same successor; later, or once
    that successor was spent, it revokes its family."""
    spent = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == hash_token(refresh_token),
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(RefreshToken.user_id, RefreshToken.family_id, RefreshToken.mfa)
    ).first()
    if spent is None:
        return _answer_retry(session, tokens, refresh_token=refresh_token, now=now)
    user = session.get(User, spent.user_id)
    ensure_active(user, now=now)
    return _issue(
        session,
        tokens,
        user=user,
        refresh_token=tokens.successor(refresh_token),
        family_id=spent.family_id,
        mfa=spent.mfa,
        origin=origin,
        now=now,
    )


def exchange(
    db: Database, tokens: TokenSigner, *, refresh_token: str, origin: Origin, now: datetime
) -> TokenPair:
    """``refresh`` as one self-committing statement on PostgreSQL when the token is live and
    its owner in good standing (the common case: 2 round trips instead of 6); anything else
    (a retry within the reuse window, a reused, revoked or unknown token, a banned owner, the
    embedded SQLite) goes through ``refresh`` in a unit of work, which answers it as before."""
    if db.dialect == "postgresql":
        successor = tokens.successor(refresh_token)
        params = new_session_params(tokens, refresh_token=successor, origin=origin, now=now)
        with db.autocommit() as connection:
            owner = connection.execute(
                _EXCHANGE, {**params, "spent_hash": hash_token(refresh_token)}
            ).first()
        if owner is not None:
            return issue_pair(tokens, owner, refresh_token=successor, now=now)
    with db.unit_of_work() as session:
        return refresh(session, tokens, refresh_token=refresh_token, origin=origin, now=now)


# The rule of ``ensure_active`` in SQL, for statements that act only for a user who may sign in.
def in_good_standing(user_id: ColumnElement) -> ColumnElement[bool]:
    users = User.__table__
    return (
        select(users.c.id)
        .where(
            users.c.id == user_id,
            or_(
                users.c.status == "active",
                and_(users.c.status == "suspended", users.c.status_until <= bindparam("now")),
            ),
        )
        .exists()
    )


def opening_session(owner: CTE) -> Select:
    """Insert the refresh token of ``new_session_params`` for ``owner`` (a CTE of ``id``,
    ``family_id``, ``mfa`` and the other columns ``issue_pair`` reads), and return ``owner``:
    one statement with the CTEs that found or made it."""
    tokens = RefreshToken.__table__
    opened = (
        insert(tokens)
        .from_select(
            [
                *("id", "user_id", "family_id", "token_hash", "mfa", "user_agent", "ip"),
                *("created_at", "expires_at"),
            ],
            select(
                bindparam("new_token_id"),
                owner.c.id,
                owner.c.family_id,
                bindparam("new_token_hash"),
                owner.c.mfa,
                bindparam("new_token_user_agent"),
                bindparam("new_token_ip"),
                bindparam("now"),
                bindparam("new_token_expires_at"),
            ),
        )
        .cte("opened")
    )
    return select(owner).add_cte(opened)


def owner_columns() -> tuple[Column, ...]:
    """The user's columns ``issue_pair`` (and ``TokenPairSchema``) need."""
    users = User.__table__
    return (users.c.id, users.c.display_name, users.c.roles, users.c.status, users.c.created_at)


def new_session_params(
    tokens: TokenSigner, *, refresh_token: str, origin: Origin, now: datetime
) -> dict:
    """The parameters of ``opening_session``. None is named after a column: an UPDATE in the
    same statement would take such a parameter as a SET value."""
    return {
        "now": now,
        "new_token_id": uuid.uuid4(),
        "new_token_hash": hash_token(refresh_token),
        "new_token_user_agent": (origin.user_agent or "")[:255] or None,
        "new_token_ip": origin.ip,
        "new_token_expires_at": now + tokens.refresh_lifetime,
    }


def issue_pair(tokens: TokenSigner, owner: Row, *, refresh_token: str, now: datetime) -> TokenPair:
    """The pair of a session ``opening_session`` opened (``owner`` is its row)."""
    return _pair(
        tokens,
        user=owner,
        refresh_token=refresh_token,
        family_id=owner.family_id,
        mfa=owner.mfa,
        now=now,
    )


def _exchange_statement() -> Select:
    """Spend the token (only while live and its owner may sign in), insert its successor in
    the same family, and return the owner: all or nothing, in one statement."""
    tokens, users = RefreshToken.__table__, User.__table__
    now = bindparam("now")
    spent = (
        update(tokens)
        .where(
            tokens.c.token_hash == bindparam("spent_hash"),
            tokens.c.used_at.is_(None),
            tokens.c.revoked_at.is_(None),
            tokens.c.expires_at > now,
            in_good_standing(tokens.c.user_id),
        )
        .values(used_at=now)
        .returning(tokens.c.user_id, tokens.c.family_id, tokens.c.mfa)
        .cte("spent")
    )
    owner = (
        select(*owner_columns(), spent.c.family_id, spent.c.mfa)
        .join_from(spent, users, users.c.id == spent.c.user_id)
        .cte("owner")
    )
    return opening_session(owner)


_EXCHANGE = _exchange_statement()


def revoke_family(session: Session, *, family_id: uuid.UUID, now: datetime) -> None:
    owners = session.scalars(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(RefreshToken.user_id)
    ).all()
    for user_id in set(owners):
        mark_stale(session, user_id)


def revoke_all(session: Session, *, user_id: uuid.UUID, now: datetime) -> int:
    """Sign ``user_id`` out everywhere; returns how many sessions were open."""
    mark_stale(session, user_id)
    rows = session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(RefreshToken.family_id, RefreshToken.used_at, RefreshToken.expires_at)
    ).all()
    return len({row.family_id for row in rows if row.used_at is None and row.expires_at > now})


def list_sessions(session: Session, *, user_id: uuid.UUID, now: datetime) -> list[RefreshToken]:
    """The live refresh token of each open family: one per signed-in device."""
    return list(
        session.scalars(
            select(RefreshToken)
            .where(
                RefreshToken.user_id == user_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .order_by(RefreshToken.created_at.desc())
        )
    )


# Built once: every authenticated request runs it (building it per call cost ~8% of a request).
_OPEN_SESSION = (
    exists()
    .where(RefreshToken.family_id == bindparam("family_id"), RefreshToken.revoked_at.is_(None))
    .correlate(None)
    .label("open")
)
_USER_AND_SESSION = select(User, _OPEN_SESSION).where(User.id == bindparam("user_id"))


def authenticate(session: Session, claims: AccessClaims, *, now: datetime) -> Actor:
    """Resolve a verified access token (``TokenSigner.verify``) to an actor with one query: the
    user and whether its session is still open, so bans and sign-outs take effect at once, not
    when the token expires."""
    row = session.execute(
        _USER_AND_SESSION, {"user_id": claims.user_id, "family_id": claims.session_id}
    ).first()
    if row is None or not row.open:
        raise Unauthorized("This session has ended; sign in again.", code="session_revoked")
    ensure_active(row.User, now=now)
    return Actor(user=row.User, claims=claims)


_USER_VIEW_AND_SESSION = select(
    *(User.__table__.c[field.name] for field in fields(UserView)), _OPEN_SESSION
).where(User.__table__.c.id == bindparam("user_id"))


def authenticate_view(session: Session, claims: AccessClaims, *, now: datetime) -> Actor:
    """``authenticate`` for callers that only read the user: the same checks, answered from
    the session cache when it holds the caller (session_cache.py), else by the same query read
    as plain columns on the session's connection (no ORM entity: ~0.1-0.2 ms less CPU)."""
    cache = cache_of(session)
    lookup = cache.lookup(claims.user_id, claims.session_id) if cache else None
    if lookup is not None and lookup.user is not None:
        user = UserView.from_cached(lookup.user)
        ensure_active(user, now=now)
        return Actor(user=user, claims=claims)
    row = (
        session.connection()
        .execute(
            _USER_VIEW_AND_SESSION, {"user_id": claims.user_id, "family_id": claims.session_id}
        )
        .first()
    )
    if row is None or not row.open:
        raise Unauthorized("This session has ended; sign in again.", code="session_revoked")
    user = UserView(*row[:-1])
    ensure_active(user, now=now)
    if lookup is not None:
        cache.fill(lookup, claims.user_id, claims.session_id, user.cached())
    return Actor(user=user, claims=claims)


_USERS, _IDENTITIES = User.__table__, Identity.__table__
_PROFILE = (
    select(
        *(_USERS.c[field.name] for field in fields(UserView)),
        _USERS.c.created_at,
        _USERS.c.totp_enabled_at,
        _OPEN_SESSION,
        _IDENTITIES.c.provider,
        _IDENTITIES.c.provider_id,
        _IDENTITIES.c.linked_at,
        _IDENTITIES.c.verified_at,
    )
    .select_from(_USERS.outerjoin(_IDENTITIES, _IDENTITIES.c.user_id == _USERS.c.id))
    .where(_USERS.c.id == bindparam("user_id"))
    .order_by(_IDENTITIES.c.linked_at)
)


def profile(connection: Connection, claims: AccessClaims, *, now: datetime) -> dict:
    """The caller's profile (``MeSchema``'s fields, as JSON values), checked like
    ``authenticate``: the user, its open session and its identities in one query (a row per
    identity), no ORM entity and no transaction needed."""
    rows = connection.execute(
        _PROFILE, {"user_id": claims.user_id, "family_id": claims.session_id}
    ).all()
    if not rows or not rows[0].open:
        raise Unauthorized("This session has ended; sign in again.", code="session_revoked")
    user = rows[0]
    ensure_active(UserView(*user[: len(fields(UserView))]), now=now)
    identities = [row for row in rows if row.provider is not None]
    return {
        "id": str(user.id),
        "display_name": user.display_name,
        "roles": user.roles,
        "status": user.status,
        "status_reason": user.status_reason,
        "status_until": user.status_until.isoformat() if user.status_until else None,
        "region": user.region,
        "created_at": user.created_at.isoformat(),
        "mfa_enabled": user.totp_enabled_at is not None,
        "email_verified": any(i.provider == "email" and i.verified_at for i in identities),
        "identities": [
            {
                "provider": i.provider,
                "provider_id": i.provider_id,
                "linked_at": i.linked_at.isoformat(),
            }
            for i in identities
        ],
    }


def _issue(
    session: Session,
    tokens: TokenSigner,
    *,
    user: User,
    refresh_token: str,
    family_id: uuid.UUID,
    mfa: bool,
    origin: Origin,
    now: datetime,
) -> TokenPair:
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_token(refresh_token),
            mfa=mfa,
            user_agent=(origin.user_agent or "")[:255] or None,
            ip=origin.ip,
            created_at=now,
            expires_at=now + tokens.refresh_lifetime,
        )
    )
    return _pair(
        tokens, user=user, refresh_token=refresh_token, family_id=family_id, mfa=mfa, now=now
    )


def _pair(
    tokens: TokenSigner,
    *,
    user: User | Row,
    refresh_token: str,
    family_id: uuid.UUID,
    mfa: bool,
    now: datetime,
) -> TokenPair:
    access_token = tokens.issue(
        user_id=user.id, session_id=family_id, roles=user.roles, mfa=mfa, now=now
    )
    return TokenPair(
        user=user,
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=tokens.lifetime_seconds,
    )


def _answer_retry(
    session: Session, tokens: TokenSigner, *, refresh_token: str, now: datetime
) -> TokenPair:
    """A refresh token that could not be spent: within the reuse window of its spending, and
    while its successor is unspent, answer that successor again (with a fresh access token);
    otherwise refuse it, revoking the family when it was a spent one."""
    token = session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_token(refresh_token))
    )
    if token is None or token.used_at is None or token.revoked_at is not None:
        raise Unauthorized(
            "The refresh token is invalid, expired or revoked.", code="invalid_refresh_token"
        )
    if now - token.used_at <= tokens.refresh_reuse_window:
        successor_token = tokens.successor(refresh_token)
        successor = session.scalar(
            select(RefreshToken).where(
                RefreshToken.token_hash == hash_token(successor_token),
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
        )
        if successor is not None:
            user = session.get(User, successor.user_id)
            ensure_active(user, now=now)
            return _pair(
                tokens,
                user=user,
                refresh_token=successor_token,
                family_id=successor.family_id,
                mfa=successor.mfa,
                now=now,
            )
    revoke_family(session, family_id=token.family_id, now=now)
    raise Unauthorized(
        "This refresh token was already used; every session of its family is now revoked.",
        code="refresh_token_reused",
        persist=True,
    )


# A spent refresh token is kept this long to recognise its reuse (which revokes its family);
# past it, a replay is an unknown token (401) and the row would only grow the biggest table:
# every rotation leaves one (docs/SCALING.md).
SPENT_KEPT = timedelta(days=7)


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete refresh tokens that can no longer be used nor tell much: expired, or spent
    longer than ``SPENT_KEPT`` ago (the live token of their family stays)."""
    result = session.execute(
        delete(RefreshToken).where(
            or_(RefreshToken.expires_at <= now, RefreshToken.used_at <= now - SPENT_KEPT)
        )
    )
    return result.rowcount or 0
