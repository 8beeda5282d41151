"""The console in real Chromium: sign-in with TOTP, CSRF, claims between two moderators,
decisions from buttons and keys, the two-person rule, bans that end API access at once, the
audit log, and hostile text shown as text."""

from __future__ import annotations

import dataclasses
import re

import pytest
import requests
from sqlalchemy import select

from player_platform.audit.models import AuditLog
from player_platform.platform import Platform, bind_current
from player_platform.ugc.models import UgcItem
from tests.conftest import serving
from tests.console.conftest import sign_in, staff_member
from tests.support import bearer, signed_up
from tests.ugc.factories import make_item, make_user

HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>"\'&'


def waiting_item(platform: Platform, **fields) -> str:
    with platform.db.unit_of_work() as session:
        owner = make_user(session)
        return str(make_item(session, owner_id=owner, status="pending_review", **fields))


def status_of(platform: Platform, item_id: str) -> str:
    with platform.db.unit_of_work() as session:
        return session.get(UgcItem, item_id).status


def audit_actions(platform: Platform, resource_id: str) -> list[str]:
    with platform.db.unit_of_work() as session:
        rows = session.scalars(
            select(AuditLog.action).where(AuditLog.resource_id == resource_id)
        ).all()
    return list(rows)


def test_sign_in_needs_a_valid_totp_code_and_sign_out_ends_the_session(
    live_server, live_platform, pages
):
    staff = staff_member(live_platform, name="Moderator Mia")
    page = pages()
    sign_in(page, live_server, staff, otp="000000")
    assert page.url.endswith("/moderation/sign-in") or "/sign-in" in page.url
    assert "TOTP code is wrong" in page.inner_text("main")
    sign_in(page, live_server, staff)
    assert page.url.endswith("/moderation/dashboard")
    assert "Moderator Mia" in page.inner_text("header")
    cookies = page.context.cookies()
    cookie = next(c for c in cookies if c["name"] == "pp_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.click("header button[type=submit]")  # sign out
    assert "/moderation/sign-in" in page.url
    replayed = pages()
    replayed.context.add_cookies(cookies)  # the old cookie, kept by someone
    replayed.goto(f"{live_server}/moderation/queue")
    assert "/moderation/sign-in" in replayed.url


def test_players_are_refused_and_staff_without_totp_are_offered_enrolment(
    live_server, live_platform, pages
):
    player = signed_up(live_platform)
    page = pages()
    page.goto(f"{live_server}/moderation/sign-in")
    page.fill("input[name=email]", player["email"])
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    assert "for moderators and admins" in page.inner_text("main")

    with live_platform.db.unit_of_work() as session:
        from player_platform.identity.models import User

        session.get(User, player["user"]["id"]).roles = ["player", "moderator"]
    page.goto(f"{live_server}/moderation/sign-in")
    page.fill("input[name=email]", player["email"])
    page.fill("input[name=password]", "correct horse battery staple")
    page.click("button[type=submit]")
    assert "has none enrolled" in page.inner_text("main")
    page.click("button:has-text('Enrol an authenticator')")
    secret = page.inner_text("#totp-secret")
    import pyotp

    page.fill("input[name=otp]", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    assert "TOTP is on" in page.inner_text("main")
    page.fill("input[name=email]", player["email"])
    page.fill("input[name=password]", "correct horse battery staple")
    from tests.support import code_at

    page.fill("input[name=otp]", code_at(secret, 1))
    page.click("button[type=submit]")
    assert page.url.endswith("/moderation/dashboard")


def test_a_form_posted_without_its_csrf_token_is_refused(live_server, live_platform, pages):
    item = waiting_item(live_platform)
    page = pages()
    sign_in(page, live_server, staff_member(live_platform))
    refused = page.request.post(f"{live_server}/moderation/ugc/{item}/claim", form={})
    forged = page.request.post(
        f"{live_server}/moderation/ugc/{item}/claim", form={"csrf_token": "forged"}
    )
    assert refused.status == 400 and forged.status == 400
    assert "did not come from the console" in refused.text()
    with live_platform.db.unit_of_work() as session:
        assert session.get(UgcItem, item).claimed_by is None


def test_two_moderators_in_two_browsers_claim_one_item(live_server, live_platform, pages):
    item = waiting_item(live_platform, name="Contested map")
    alice, bob = pages(), pages()
    sign_in(alice, live_server, staff_member(live_platform, name="Alice"))
    sign_in(bob, live_server, staff_member(live_platform, name="Bob"))
    alice.goto(f"{live_server}/moderation/ugc/{item}")
    bob.goto(f"{live_server}/moderation/ugc/{item}")
    alice.click("text=Claim (c)")
    assert "You hold this item." in alice.inner_text("main")
    bob.click("text=Claim (c)")
    assert "Another moderator holds this item" in bob.inner_text("main")
    assert "Held by Alice" in bob.inner_text("#claim-holder")
    bob.click("text=Approve (a)")
    assert "claimed_by_other" in bob.inner_text("main")
    assert status_of(live_platform, item) == "pending_review"


def test_approve_reject_and_remove_from_the_queue_by_button_and_key(
    live_server, live_platform, pages
):
    items = {
        a: waiting_item(live_platform, name=f"to {a}") for a in ("approve", "reject", "remove")
    }
    page = pages()
    admin = staff_member(live_platform, role="admin", name="Ada")
    sign_in(page, live_server, admin)
    page.goto(f"{live_server}/moderation/queue")
    for name in ("to approve", "to reject", "to remove"):
        assert name in page.inner_text("table")

    page.click("text=to approve")
    page.fill("textarea[name=notes]", "fine")
    page.locator("body").click()
    page.keyboard.press("a")  # the shortcut, no mouse
    page.wait_for_url(re.compile(r"/moderation/queue"))
    page.click("text=to reject")
    page.fill("input[name=reason]", "not a map")
    page.click("text=Reject (r)")
    page.click("text=to remove")
    page.click("text=Remove (x)")
    assert status_of(live_platform, items["approve"]) == "published"
    assert status_of(live_platform, items["reject"]) == "removed"
    assert status_of(live_platform, items["remove"]) == "removed"

    page.goto(f"{live_server}/moderation/audit")
    log = page.inner_text("table")
    for action in ("ugc.approve", "ugc.reject", "ugc.remove"):
        assert action in log
    assert "Ada" in log and "127.0.0.1" in log
    for action, item in items.items():
        assert f"ugc.{action}" in audit_actions(live_platform, item)


@pytest.fixture
def two_person_server(settings, committing_db):
    platform = Platform.from_settings(
        dataclasses.replace(settings, ugc_two_person_removal=True), db=committing_db
    )
    bind_current(platform)
    with serving(platform) as url:
        yield url, platform


def test_the_two_person_rule_needs_a_second_moderator(two_person_server, pages):
    url, platform = two_person_server
    item = waiting_item(platform, name="Borderline")
    first, second = pages(), pages()
    sign_in(first, url, staff_member(platform, name="First"))
    sign_in(second, url, staff_member(platform, name="Second"))
    first.goto(f"{url}/moderation/ugc/{item}")
    first.click("text=Remove (x)")
    assert "a second moderator must confirm" in first.inner_text("main").lower()
    first.click("text=Remove (x)")
    assert "second_moderator_required" in first.inner_text("main")
    assert status_of(platform, item) != "removed"
    second.goto(f"{url}/moderation/ugc/{item}")
    assert "Removal proposed by First" in second.inner_text("#removal-proposal")
    second.click("text=Remove (x)")
    assert status_of(platform, item) == "removed"
    assert {"ugc.propose_removal", "ugc.remove"} <= set(audit_actions(platform, item))


def test_a_ban_from_the_console_ends_the_players_api_access_at_once(
    live_server, live_platform, pages
):
    player = signed_up(live_platform, display_name="Griefer")
    me = f"{live_server}/v1/me"
    assert requests.get(me, headers=bearer(player["access_token"]), timeout=10).status_code == 200
    page = pages()
    sign_in(page, live_server, staff_member(live_platform, name="Mod"))
    page.goto(f"{live_server}/moderation/players?q=Griefer")
    page.click("text=Griefer")
    page.fill("#ban-form input[name=reason]", "cheating")
    page.click("#ban-form button")
    assert "banned" in page.inner_text("#player-status")
    answer = requests.get(me, headers=bearer(player["access_token"]), timeout=10)
    assert answer.status_code == 403 and answer.json()["code"] == "account_banned"
    assert "user.ban" in audit_actions(live_platform, player["user"]["id"])


def test_hostile_html_from_players_is_shown_as_text_and_runs_no_script(
    live_server, live_platform, pages
):
    with live_platform.db.unit_of_work() as session:
        owner = make_user(session, name=HOSTILE[:64])
        item = str(
            make_item(
                session, owner_id=owner, status="pending_review", name=HOSTILE,
                description=HOSTILE,
            )
        )  # fmt: skip
    page = pages()
    sign_in(page, live_server, staff_member(live_platform))
    for path in ("/moderation/queue", f"/moderation/ugc/{item}", f"/moderation/players/{owner}"):
        page.goto(live_server + path)
        assert page.evaluate("window.__pwned") is None
        assert page.locator("main script").count() == 0
        assert page.locator("main img[src=x]").count() == 0
    assert "<script>window.__pwned" in page.inner_text("main")
    page.goto(f"{live_server}/moderation/ugc/{item}")
    assert HOSTILE in page.inner_text("h1")
    csp = page.request.get(f"{live_server}/moderation/queue").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
