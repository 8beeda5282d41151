"""Feedback triage in the console: filters, status, assignee and notes through the feedback
service (audited), the list as CSV, and a hostile message shown as text."""

from __future__ import annotations

import requests

from tests.console.conftest import sign_in, staff_member
from tests.console.test_console import HOSTILE, audit_actions
from tests.support import bearer, signed_up


def report(url: str, player: dict, *, category: str, message: str) -> str:
    answer = requests.post(
        f"{url}/v1/feedback",
        json={"category": category, "message": message, "context": {"build": "1.2.3"}},
        headers=bearer(player["access_token"]),
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["feedback"]["id"]


def test_a_moderator_triages_feedback_with_filters_assignee_notes_and_csv(
    live_server, live_platform, pages
):
    player = signed_up(live_platform, display_name="Reporter")
    crash = report(live_server, player, category="bug", message="Crash when opening the map")
    idea = report(live_server, player, category="suggestion", message='=HYPERLINK("x") please')
    colleague = staff_member(live_platform, name="Colleague Cleo")
    page = pages()
    sign_in(page, live_server, staff_member(live_platform, name="Triager Tom"))
    page.click("nav >> text=Feedback")
    listed = page.inner_text("table")
    assert "Crash when opening the map" in listed and "HYPERLINK" in listed

    page.select_option("select[name=category]", "bug")
    page.click("text=Filter")
    assert "Crash when opening" in page.inner_text("table")
    assert "HYPERLINK" not in page.inner_text("table")
    page.click(f"a[href$='/feedback/{crash}']")
    assert "Crash when opening the map" in page.inner_text("#feedback-message")
    page.select_option("#triage-form select[name=status]", "triaged")
    page.select_option("#triage-form select[name=assignee_id]", label="Colleague Cleo")
    page.fill("#triage-form textarea[name=notes]", "reproduced on 1.2.3")
    page.click("#triage-form button")
    assert "Report saved (triaged)" in page.inner_text(".flash")
    assert page.inner_text("#feedback-status") == "triaged"
    assert page.inner_text("#feedback-assignee") == "Colleague Cleo"

    page.goto(f"{live_server}/moderation/feedback?status=triaged&assignee_id={colleague.user_id}")
    assert "Crash when opening" in page.inner_text("table")
    assert "Colleague Cleo" in page.inner_text("table")
    page.goto(f"{live_server}/moderation/feedback?status=new")
    assert "Crash when opening" not in page.inner_text("table")
    exported = page.request.get(f"{live_server}/moderation/feedback?format=csv").text()
    assert "reproduced on 1.2.3" in exported and "'=HYPERLINK" in exported  # no formula runs

    page.goto(f"{live_server}/moderation/feedback/{crash}")
    page.select_option("#triage-form select[name=status]", "closed")
    page.select_option("#triage-form select[name=assignee_id]", label="nobody")
    page.click("#triage-form button")
    assert page.inner_text("#feedback-status") == "closed"
    assert page.inner_text("#feedback-assignee") == "nobody"
    assert audit_actions(live_platform, crash) == ["feedback.triage", "feedback.triage"]
    assert audit_actions(live_platform, idea) == []


def test_a_feedback_message_full_of_html_and_script_is_shown_as_text(
    live_server, live_platform, pages
):
    player = signed_up(live_platform)
    hostile = report(live_server, player, category="abuse", message=HOSTILE * 3)
    page = pages()
    sign_in(page, live_server, staff_member(live_platform))
    for path in ("/moderation/feedback", f"/moderation/feedback/{hostile}"):
        page.goto(live_server + path)
        assert page.evaluate("window.__pwned") is None
        assert page.locator("main script").count() == 0
        assert page.locator("main img[src=x]").count() == 0
    assert HOSTILE * 3 in page.inner_text("#feedback-message")
