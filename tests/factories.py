"""Factories: players, staff, seasons and SKUs written through the services in the caller's
session. They flush, never commit: the caller's unit of work (``platform.db.unit_of_work()``)
owns the transaction. Tests whose subject is not those routes use these instead of HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy.orm import Session

from blueprints.leaderboards.schemas import SeasonCreateSchema
from player_platform.audit.service import Origin
from player_platform.commerce.catalog import create_sku
from player_platform.commerce.models import Sku
from player_platform.db import utcnow
from player_platform.identity import mfa
from player_platform.identity import service as accounts
from player_platform.identity.models import User
from player_platform.identity.sessions import authenticate, start_session
from player_platform.leaderboards import service as leaderboards
from player_platform.leaderboards.models import Season
from player_platform.platform import Platform

PASSWORD = "correct horse battery staple"
TEST_ORIGIN = Origin(ip="127.0.0.1", user_agent="tests")


@dataclass(frozen=True)
class SignedIn:
    """A user and the tokens of a session of theirs, in the shape the API answers with."""

    user_id: uuid.UUID
    email: str
    access_token: str
    refresh_token: str
    totp_secret: str | None = None

    def as_response(self) -> dict:
        return {
            "user": {"id": str(self.user_id)},
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "email": self.email,
            "totp_secret": self.totp_secret,
        }


def player(
    session: Session,
    platform: Platform,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str = "Player One",
    region: str | None = None,
) -> SignedIn:
    """A player with an email sign-in, signed in once."""
    email = email or f"player-{uuid.uuid4().hex[:10]}@example.com"
    pair = accounts.register(
        session,
        platform.tokens,
        email=email,
        password=password,
        display_name=display_name,
        origin=TEST_ORIGIN,
        now=utcnow(),
    )
    pair.user.region = region
    session.flush()
    return SignedIn(pair.user.id, email, pair.access_token, pair.refresh_token)


def staff(session: Session, platform: Platform, *, role: str = "moderator") -> SignedIn:
    """A staff member (``role``) with TOTP enrolled, signed in with a code: the token carries
    the rights."""
    signed_up = player(session, platform, display_name=f"Staff {role}")
    now = utcnow()
    user = session.get(User, signed_up.user_id)
    user.roles = ["player", role]
    secret = mfa.enrol(
        session, platform.vault, user=user, account=signed_up.email, origin=TEST_ORIGIN, now=now
    ).secret
    session.flush()  # confirming re-reads the user under a row lock
    mfa.confirm(
        session,
        platform.vault,
        user=user,
        otp=pyotp.TOTP(secret).at(now),
        origin=TEST_ORIGIN,
        now=now,
    )
    pair = start_session(session, platform.tokens, user=user, mfa=True, origin=TEST_ORIGIN, now=now)
    session.flush()
    return SignedIn(user.id, signed_up.email, pair.access_token, pair.refresh_token, secret)


def sku(session: Session, **values) -> Sku:
    """A SKU in the catalog, made by the system (``values`` as the admin API takes them)."""
    return create_sku(session, actor_id=None, origin=TEST_ORIGIN, now=utcnow(), **values)


def season(session: Session, platform: Platform, *, admin: SignedIn, **fields) -> Season:
    """A season created by ``admin`` (a ``staff(role="admin")``): ``fields`` as the admin API
    takes them (JSON values, loaded and defaulted by its schema); open from 5 minutes ago for
    an hour unless they say otherwise."""
    now = utcnow()
    body = {
        "season_id": f"s-{uuid.uuid4().hex[:12]}",
        "name": "Season",
        "type": "global",
        "start_date": (now - timedelta(minutes=5)).isoformat(),
        "end_date": (now + timedelta(hours=1)).isoformat(),
        **fields,
    }
    actor = authenticate(session, platform.tokens.verify(admin.access_token, now=now), now=now)
    return leaderboards.create_season(
        session,
        platform.leaderboards,
        actor=actor,
        values=SeasonCreateSchema().load(body),
        origin=TEST_ORIGIN,
        now=now,
    )
