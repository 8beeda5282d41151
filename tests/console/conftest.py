"""The review console in a real browser: PyPI playwright driving Debian's chromium (installed
by scripts/test-services.sh; never `playwright install`). One browser per test worker; each
test gets fresh contexts (separate cookie jars) and leaves a screenshot of every page it opened
in var/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from player_platform.platform import Platform
from tests import factories
from tests.conftest import IN_CI
from tests.factories import PASSWORD
from tests.support import code_at

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path("var/screenshots")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = "Debian's chromium is missing: run scripts/test-services.sh"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def pages(browser, request) -> Iterator[Callable[[], object]]:
    """New pages, each in a context of its own; screenshots of all of them at the end."""
    opened = []

    def open_page():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.dismiss())
        opened.append(page)
        return page

    yield open_page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    for number, page in enumerate(opened):
        if not page.is_closed():
            page.screenshot(path=SCREENSHOTS / f"{name}-{number}.png", full_page=True)
        page.context.close()


def staff_member(platform: Platform, role: str = "moderator", name: str | None = None):
    """A staff member with TOTP (committed); their display name set when given."""
    with platform.db.unit_of_work() as session:
        made = factories.staff(session, platform, role=role)
        if name:
            from player_platform.identity.models import User

            session.get(User, made.user_id).display_name = name
    return made


def sign_in(page, url: str, staff, *, otp: str | None = None) -> None:
    """Through the real form; the factory spent this step's code, so the next step's is fresh."""
    page.goto(f"{url}/moderation/sign-in")
    page.fill("input[name=email]", staff.email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=otp]", otp if otp is not None else code_at(staff.totp_secret, 1))
    page.click("button[type=submit]")
