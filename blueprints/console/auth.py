"""Staff sign-in to the console: email, password and a TOTP code (identity.service.login, the
API's own sign-in, with its lockout and one-use codes).

A console session is a refresh-token family of the staff member (PostgreSQL): signing out
revokes it, so an old cookie opens nothing, and "sign out everywhere" ends it too. The cookie
(Flask's signed session) holds only the family id, the user id and a fingerprint of what the
session was granted on (password hash, roles, standing, TOTP): every request re-reads the user,
and a ban, a new password or other roles sign the session out. An idle timer in Redis
(PP_CONSOLE_IDLE_SECONDS) ends sessions nobody uses.
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy.orm import Session

from blueprints.console import bp
from blueprints.console.web import action
from blueprints.http import origin, platform
from player_platform.audit.service import record
from player_platform.db import utcnow
from player_platform.errors import DomainError
from player_platform.identity import mfa
from player_platform.identity import service as accounts
from player_platform.identity.models import User
from player_platform.identity.sessions import Actor, authenticate, revoke_family
from player_platform.security.tokens import AccessClaims

ENROL_SECONDS = 600  # how long a proven password allows TOTP enrolment


@dataclass(frozen=True)
class StaffMember(UserMixin):
    """The signed-in staff member as the pages need it (no ORM object outlives a request)."""

    id: uuid.UUID
    family_id: uuid.UUID
    display_name: str
    roles: tuple[str, ...]

    def get_id(self) -> str:
        return str(self.family_id)

    def has_role(self, role: str) -> bool:
        return role in self.roles or "admin" in self.roles


def install(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "console.sign_in"
    manager.login_message = "Sign in to use the console."
    manager.user_loader(load_staff)


def idle_key(family_id: str) -> str:
    return f"pp:console-idle:{family_id}"


def fingerprint(user: User) -> str:
    """What the session was granted on: it changes with the password, roles or standing."""
    secret = next((i.secret_hash or "" for i in user.identities if i.provider == "email"), "")
    parts = [secret, ",".join(sorted(user.roles)), user.status, str(user.totp_enabled_at)]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def claims(user_id: uuid.UUID, family_id: uuid.UUID, roles: tuple[str, ...] = ()) -> AccessClaims:
    # A console session exists only after a sign-in with a TOTP code (sign_in below).
    return AccessClaims(user_id, family_id, roles, mfa=True, token_id="console")


def load_staff(family_id: str) -> StaffMember | None:
    p, user_id = platform(), session.get("console_user")
    if not user_id:
        return None
    family, now = uuid.UUID(family_id), utcnow()
    alive = p.redis.set(idle_key(family_id), 1, xx=True, ex=p.settings.console_idle_seconds)
    with p.db.unit_of_work() as db:
        try:
            actor = authenticate(db, claims(uuid.UUID(user_id), family), now=now)
        except DomainError:  # banned, closed, or signed out elsewhere
            actor = None
        user = actor.user if actor else None
        if not alive or user is None or not user.is_staff or fingerprint(user) != session.get("fp"):
            revoke_family(db, family_id=family, now=now)
            session.clear()
            return None
        return StaffMember(user.id, family, user.display_name, tuple(user.roles))


def staff_actor(db: Session) -> Actor:
    """The signed-in staff member as the services' ``actor`` (re-read in this unit of work)."""
    return authenticate(db, claims(current_user.id, current_user.family_id), now=utcnow())


def staff_only(role: str = "moderator") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("console.sign_in", next=request.full_path))
            if not current_user.has_role(role):
                abort(403, f"This page needs the {role} role.")
            return view(*args, **kwargs)

        return wrapper

    return decorate


@bp.get("/sign-in")
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("console.dashboard"))
    return render_template("console/sign_in.html")


@bp.post("/sign-in")
def sign_in_post():
    p, now = platform(), utcnow()
    form = request.form
    credentials = accounts.Credentials(
        email=form.get("email", ""), password=form.get("password", ""), otp=form.get("otp") or None
    )
    try:
        with p.db.unit_of_work() as db:
            pair = accounts.login(
                db, p.tokens, p.vault, credentials=credentials, origin=origin(), now=now
            )
            family = p.tokens.verify(pair.access_token, now=now).session_id
            refused = _refusal(pair.user, mfa=pair.user.totp_enabled_at is not None)
            if refused:
                revoke_family(db, family_id=family, now=now)
            else:
                _audit(db, pair.user.id, "console.sign_in", family)
                staff = StaffMember(
                    pair.user.id, family, pair.user.display_name, tuple(pair.user.roles)
                )
                granted = fingerprint(pair.user)
    except DomainError as error:
        return render_template("console/sign_in.html", error=error.detail), error.status
    if refused:
        if refused == "enrol":
            session["enrol"] = {"user": str(pair.user.id), "until": time.time() + ENROL_SECONDS}
        return render_template("console/refused.html", why=refused), 403
    session.clear()  # a new session (and CSRF token) at sign-in: nothing carries over
    session["console_user"], session["fp"] = str(staff.id), granted
    p.redis.set(idle_key(str(family)), 1, ex=p.settings.console_idle_seconds)
    login_user(staff)
    return redirect(_next_page())


def _refusal(user: User, *, mfa: bool) -> str | None:
    if not user.is_staff:
        return "player"
    return None if mfa else "enrol"


def _next_page() -> str:
    target = request.args.get("next") or ""
    return target if target.startswith("/moderation/") else url_for("console.dashboard")


def _audit(db: Session, user_id: uuid.UUID, what: str, family: uuid.UUID) -> None:
    record(
        db,
        actor_id=user_id,
        action=what,
        resource_type="console_session",
        resource_id=family,
        origin=origin(),
    )


@bp.post("/sign-out")
@action
def sign_out():
    if current_user.is_authenticated:
        p, family = platform(), current_user.family_id
        with p.db.unit_of_work() as db:
            revoke_family(db, family_id=family, now=utcnow())
            _audit(db, current_user.id, "console.sign_out", family)
        p.redis.delete(idle_key(str(family)))
    logout_user()
    session.clear()
    return "Signed out.", url_for("console.sign_in")


def _enrolling() -> uuid.UUID:
    pending = session.get("enrol") or {}
    if not pending or pending["until"] < time.time():
        abort(403, "Sign in with your password first; enrolment is offered for ten minutes.")
    return uuid.UUID(pending["user"])


@bp.post("/enrol")
def enrol():
    """A staff member who proved their password and has no TOTP: a new secret, shown once
    (on this answer, never stored in the cookie)."""
    p, user_id = platform(), _enrolling()
    with p.db.unit_of_work() as db:
        user = db.get(User, user_id)
        enrolment = mfa.enrol(
            db, p.vault, user=user, account=accounts.account_name(user), origin=origin(),
            now=utcnow(),
        )  # fmt: skip
    return render_template("console/enrol.html", enrolment=enrolment)


@bp.post("/enrol/confirm")
@action
def enrol_confirm():
    p, user_id = platform(), _enrolling()
    with p.db.unit_of_work() as db:
        user = db.get(User, user_id)
        mfa.confirm(
            db, p.vault, user=user, otp=request.form.get("otp", ""), origin=origin(), now=utcnow()
        )
    session.pop("enrol", None)
    flash("TOTP is on. Sign in with your next code.", "ok")
    return None, url_for("console.sign_in")
