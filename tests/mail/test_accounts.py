"""Address verification and password reset, end to end through the real SMTP server."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from player_platform.db import utcnow
from player_platform.mail import accounts
from player_platform.mail.models import Mail
from tests.mail.conftest import drain, only_link, parts, token_of
from tests.support import bearer, login, signed_up

NEW_PASSWORD = "a brand new passphrase"


def test_the_verification_mail_arrives_with_its_link_in_text_and_html_and_works_once(
    mail_platform, mail_client, mailbox
):
    player = signed_up(mail_platform)
    headers = bearer(player["access_token"])
    assert mail_client.get("/v1/me", headers=headers).get_json()["email_verified"] is False
    asked = mail_client.post("/v1/me/email/verify-request", headers=headers)
    assert asked.status_code == 202, asked.get_json()
    drain(mail_platform)
    [message] = mailbox.to(player["email"])
    assert message["Subject"] == "Confirm your email address"
    link = only_link(message)
    assert link.startswith(f"{mail_platform.settings.public_url}{accounts.VERIFY_PATH}?token=")
    token = token_of(link)
    first = mail_client.post("/v1/auth/email/verify", json={"token": token})
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"email": player["email"], "email_verified": True}
    assert mail_client.get("/v1/me", headers=headers).get_json()["email_verified"] is True
    again = mail_client.post("/v1/auth/email/verify", json={"token": token})
    assert (again.status_code, again.get_json()["code"]) == (409, "token_used")
    with mail_platform.db.unit_of_work() as session:
        mail = session.scalars(select(Mail)).one()
        assert (mail.status, mail.envelope, mail.attempts) == ("sent", None, 1)


def test_a_second_verification_mail_within_a_minute_is_refused(mail_platform, mail_client):
    headers = bearer(signed_up(mail_platform)["access_token"])
    assert mail_client.post("/v1/me/email/verify-request", headers=headers).status_code == 202
    again = mail_client.post("/v1/me/email/verify-request", headers=headers)
    assert (again.status_code, again.get_json()["code"]) == (429, "mail_recently_sent")
    assert int(again.headers["Retry-After"]) >= 1


def test_an_expired_verification_link_is_gone_and_an_unknown_one_invalid(
    mail_platform, mail_client, mailbox
):
    player = signed_up(mail_platform)
    long_ago = utcnow() - timedelta(hours=25)
    with mail_platform.db.unit_of_work() as session:
        accounts.request_verification(
            session,
            outbox=mail_platform.mail_outbox,
            user_id=uuid.UUID(player["user"]["id"]),
            now=long_ago,
        )
    drain(mail_platform)
    token = token_of(only_link(mailbox.to(player["email"])[0]))
    expired = mail_client.post("/v1/auth/email/verify", json={"token": token})
    assert (expired.status_code, expired.get_json()["code"]) == (410, "token_expired")
    forged = mail_client.post("/v1/auth/email/verify", json={"token": "x" * 43})
    assert (forged.status_code, forged.get_json()["code"]) == (404, "token_invalid")
    # a reset token is no verification token, and the other way round
    as_reset = mail_client.post(
        "/v1/auth/password/reset", json={"token": token, "password": "x" * 9}
    )
    assert as_reset.get_json()["code"] == "token_invalid"


def test_a_password_reset_sets_the_password_signs_out_every_session_and_works_once(
    mail_platform, mail_client, mailbox
):
    player = signed_up(mail_platform)
    second = login(mail_client, player["email"]).get_json()
    asked = mail_client.post("/v1/auth/password/reset-request", json={"email": player["email"]})
    assert asked.status_code == 202 and asked.get_json() == {"status": "accepted"}
    drain(mail_platform)
    [message] = mailbox.to(player["email"])
    assert message["Subject"] == "Reset your password"
    assert "30 minutes" in parts(message)["text/plain"]
    token = token_of(only_link(message))
    reset = mail_client.post(
        "/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 200, reset.get_json()
    assert reset.get_json() == {"sessions_revoked": 2}
    for old in (player["refresh_token"], second["refresh_token"]):
        refused = mail_client.post("/v1/auth/refresh", json={"refresh_token": old})
        assert refused.status_code == 401
    me = mail_client.get("/v1/me", headers=bearer(player["access_token"]))
    assert (me.status_code, me.get_json()["code"]) == (401, "session_revoked")
    assert login(mail_client, player["email"]).status_code == 401
    fresh = login(mail_client, player["email"], NEW_PASSWORD)
    assert fresh.status_code == 200
    assert fresh.get_json()["user"]["id"] == player["user"]["id"]
    again = mail_client.post(
        "/v1/auth/password/reset", json={"token": token, "password": "yet another one!"}
    )
    assert (again.status_code, again.get_json()["code"]) == (409, "token_used")
    assert login(mail_client, player["email"], NEW_PASSWORD).status_code == 200


def test_a_reset_request_for_an_unknown_address_answers_the_same_and_sends_nothing(
    mail_platform, mail_client, mailbox
):
    unknown = "nobody-here@example.com"
    answer = mail_client.post("/v1/auth/password/reset-request", json={"email": unknown})
    assert (answer.status_code, answer.get_json()) == (202, {"status": "accepted"})
    drain(mail_platform)
    assert mailbox.to(unknown) == []
    with mail_platform.db.unit_of_work() as session:
        assert session.scalars(select(Mail)).all() == []


def test_reset_requests_mail_an_account_at_most_once_a_minute(mail_platform, mail_client, mailbox):
    player = signed_up(mail_platform)
    for _ in range(3):
        answer = mail_client.post(
            "/v1/auth/password/reset-request", json={"email": player["email"].upper()}
        )
        assert answer.status_code == 202
    drain(mail_platform)
    assert len(mailbox.to(player["email"])) == 1
