"""How a console session ends besides signing out: idle for PP_CONSOLE_IDLE_SECONDS, or the
staff member's password or roles changed (through identity.service) while signed in."""

from __future__ import annotations

import dataclasses
import time

import pytest
from sqlalchemy import select

from player_platform.db import utcnow
from player_platform.identity import service as accounts
from player_platform.identity.models import RefreshToken
from player_platform.platform import Platform, bind_current
from tests.conftest import serving
from tests.console.conftest import sign_in, staff_member
from tests.factories import PASSWORD

IDLE_SECONDS = 2


@pytest.fixture
def idle_server(settings, committing_db):
    platform = Platform.from_settings(
        dataclasses.replace(settings, console_idle_seconds=IDLE_SECONDS), db=committing_db
    )
    bind_current(platform)
    with serving(platform) as url:
        yield url, platform


def console_families(platform: Platform, user_id) -> list[tuple[str, bool]]:
    """(family id, revoked) of the user's sessions, API and console alike."""
    with platform.db.unit_of_work() as session:
        rows = session.execute(
            select(RefreshToken.family_id, RefreshToken.revoked_at).where(
                RefreshToken.user_id == user_id
            )
        ).all()
    return [(str(family), revoked is not None) for family, revoked in rows]


def test_an_idle_console_session_is_signed_out(idle_server, pages):
    url, platform = idle_server
    staff = staff_member(platform, name="Idle Ida")
    before = {f for f, _ in console_families(platform, staff.user_id)}
    page = pages()
    sign_in(page, url, staff)
    page.goto(f"{url}/moderation/queue")
    assert page.url.endswith("/moderation/queue")  # in use: the idle timer starts again
    (family,) = {f for f, _ in console_families(platform, staff.user_id)} - before
    key = f"pp:console-idle:{family}"
    assert 0 < platform.redis.ttl(key) <= IDLE_SECONDS
    deadline = time.monotonic() + 10 * IDLE_SECONDS
    while platform.redis.exists(key) and time.monotonic() < deadline:
        time.sleep(0.2)  # wait for Redis to expire the timer (no clock is asserted)
    assert not platform.redis.exists(key)

    page.goto(f"{url}/moderation/queue")
    assert "/moderation/sign-in" in page.url
    assert (family, True) in console_families(platform, staff.user_id)  # revoked, not just idle


def test_a_password_change_signs_the_console_out(live_server, live_platform, pages):
    admin = staff_member(live_platform, role="admin", name="Admin Al")
    page = pages()
    sign_in(page, live_server, admin)
    page.goto(f"{live_server}/moderation/audit")
    assert page.url.endswith("/moderation/audit")
    with live_platform.db.unit_of_work() as session:
        accounts.ensure_admin(
            session, email=admin.email, password="a whole new passphrase", now=utcnow()
        )
    page.goto(f"{live_server}/moderation/audit")
    assert "/moderation/sign-in" in page.url


def test_a_role_change_signs_the_console_out(live_server, live_platform, pages):
    moderator = staff_member(live_platform, name="Mod Mo")
    page = pages()
    sign_in(page, live_server, moderator)
    page.goto(f"{live_server}/moderation/queue")
    assert page.url.endswith("/moderation/queue")
    with live_platform.db.unit_of_work() as session:
        # the same password: only the roles change (moderator -> moderator and admin)
        accounts.ensure_admin(session, email=moderator.email, password=PASSWORD, now=utcnow())
    page.goto(f"{live_server}/moderation/queue")
    assert "/moderation/sign-in" in page.url
