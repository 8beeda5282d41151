"""The mail outbox: retried while SMTP is down and never lost, sent once after a success,
STARTTLS and credentials as PP_SMTP_URL says, the embedded default logging without secrets,
and the email copy of a notification."""

from __future__ import annotations

import dataclasses
import logging
import uuid

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import select

from player_platform.app import create_app
from player_platform.config import ConfigError
from player_platform.db import utcnow
from player_platform.identity.models import Identity
from player_platform.mail import service
from player_platform.mail.models import Mail
from player_platform.mail.smtp import Envelope, MailError, SmtpMailer, SmtpTarget, open_mailer
from player_platform.platform import Platform, bind_current
from tests.mail.conftest import drain, only_link, parts
from tests.smtp import REFUSED_PREFIX, free_port
from tests.support import bearer, signed_up
from workers import mail as mail_jobs
from workers import messaging as messaging_jobs


def queued_verification(platform: Platform, client) -> tuple[dict, uuid.UUID]:
    player = signed_up(platform)
    asked = client.post("/v1/me/email/verify-request", headers=bearer(player["access_token"]))
    assert asked.status_code == 202
    with platform.db.unit_of_work() as session:
        return player, session.scalars(select(Mail.id)).one()


def test_with_smtp_down_the_job_raises_is_scheduled_again_and_the_mail_is_sent_later(
    mail_platform, mail_client, mailbox
):
    down = dataclasses.replace(
        mail_platform,
        mailer=open_mailer(f"smtp://127.0.0.1:{free_port()}", sender="pp@example.com"),
    )
    bind_current(down)
    player, mail_id = queued_verification(down, mail_client)
    drain(down)
    job = Job.fetch(service.send_job_id(mail_id), connection=down.jobs.redis)
    assert job.get_status() == JobStatus.SCHEDULED  # RQ retries it with backoff
    with down.db.unit_of_work() as session:
        mail = session.get(Mail, mail_id)
        assert (mail.status, mail.attempts, mail.lease_until) == ("pending", 1, None)
        assert "ConnectionRefusedError" in mail.last_error
        assert mail.envelope is not None  # kept until it is sent
    assert mailbox.to(player["email"]) == []

    bind_current(mail_platform)  # SMTP is back: the retry (here run at once) sends it
    assert mail_jobs.send_mail(str(mail_id)) == "sent"
    assert mail_jobs.send_mail(str(mail_id)) == "nothing to send"  # a late duplicate
    [message] = mailbox.to(player["email"])
    assert only_link(message)
    with mail_platform.db.unit_of_work() as session:
        assert session.get(Mail, mail_id).status == "sent"


def test_mail_left_pending_is_re_driven_once_its_job_is_gone(mail_platform, mail_client):
    _, mail_id = queued_verification(mail_platform, mail_client)
    mail_platform.jobs.redis.flushdb()  # Redis lost the queued job
    later = utcnow() + service.REDRIVE_AFTER * 2
    with mail_platform.db.unit_of_work() as session:
        assert service.redrive(session, jobs=mail_platform.jobs, now=later) == 1
    with mail_platform.db.unit_of_work() as session:  # now it waits in the queue again
        assert service.redrive(session, jobs=mail_platform.jobs, now=later) == 0
    drain(mail_platform)
    with mail_platform.db.unit_of_work() as session:
        assert session.get(Mail, mail_id).status == "sent"


def test_a_mail_refused_for_good_is_given_up_without_retry(mail_platform, mail_client):
    player = signed_up(mail_platform, email=f"{REFUSED_PREFIX}{uuid.uuid4().hex[:8]}@example.com")
    asked = mail_client.post("/v1/me/email/verify-request", headers=bearer(player["access_token"]))
    assert asked.status_code == 202
    drain(mail_platform)
    with mail_platform.db.unit_of_work() as session:
        mail = session.scalars(select(Mail)).one()
        assert (mail.status, mail.envelope) == ("failed", None)
        assert mail.last_error == "recipient refused ([550])"
    job = Job.fetch(service.send_job_id(mail.id), connection=mail_platform.jobs.redis)
    assert job.get_status() == JobStatus.FINISHED  # no retry of a permanent refusal


def test_starttls_required_but_not_offered_sends_nothing(smtp_server, mailbox):
    target = SmtpTarget.parse(smtp_server[0] + "?starttls=require")
    envelope = Envelope(str(uuid.uuid4()), "tls@example.com", "s", "text", "<p>html</p>", "t")
    with pytest.raises(MailError, match="STARTTLS"):
        SmtpMailer(target, sender="pp@example.com").send(envelope)
    assert mailbox.to("tls@example.com") == []
    SmtpMailer(SmtpTarget.parse(smtp_server[0]), sender="pp@example.com").send(envelope)
    assert len(mailbox.to("tls@example.com")) == 1  # opportunistic: plain when not offered


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com:587", ("mail.example.com", 587, False, "opportunistic", None)),
        (
            "smtp://u%40x:p%2Fw@mail.example.com:587",
            ("mail.example.com", 587, False, "require", "u@x"),
        ),
        ("smtps://mail.example.com", ("mail.example.com", 465, True, "opportunistic", None)),
        ("smtp://relay?starttls=never", ("relay", 25, False, "never", None)),
    ],
)
def test_the_smtp_url_says_where_how_and_as_whom(url, expected):
    target = SmtpTarget.parse(url)
    assert (target.host, target.port, target.implicit_tls, target.starttls, target.username) == (
        expected
    )


@pytest.mark.parametrize(
    "url",
    ["http://mail.example.com", "smtp://u:p@relay?starttls=never", "smtp://relay?starttls=maybe"],
)
def test_a_wrong_smtp_url_stops_the_start(url):
    with pytest.raises(ConfigError):
        SmtpTarget.parse(url)


def test_the_embedded_default_logs_who_and_which_template_never_the_link(settings, db, caplog):
    p = Platform.from_settings(dataclasses.replace(settings, jobs_inline=True), db=db)
    bind_current(p)
    client = create_app(platform=p).test_client()
    player = signed_up(p)
    with caplog.at_level(logging.DEBUG):
        asked = client.post("/v1/me/email/verify-request", headers=bearer(player["access_token"]))
    assert asked.status_code == 202
    [written] = [r for r in caplog.records if r.getMessage().startswith("mail written")]
    assert (written.to, written.template) == (player["email"], "verify_email")
    logged = " ".join(str(vars(record)) for record in caplog.records)
    assert "token=" not in logged and "/account/verify-email" not in logged
    with p.db.unit_of_work() as session:
        assert session.scalars(select(Mail.status)).one() == "sent"


def test_a_notification_is_mailed_to_a_verified_address_only(mail_platform, mailbox):
    player = signed_up(mail_platform)
    user_id = uuid.UUID(player["user"]["id"])
    note = {"title": "Your map <b>was</b> approved", "body": "Players can find it now & rate it."}
    with mail_platform.db.unit_of_work() as session:
        kwargs = {"jobs": mail_platform.jobs, "vault": mail_platform.vault, "now": utcnow()}
        assert service.send_notification(session, user_id=user_id, **note, **kwargs) is None
        session.scalars(
            select(Identity).where(Identity.user_id == user_id)
        ).one().verified_at = utcnow()
        assert service.send_notification(session, user_id=user_id, **note, **kwargs) is not None
    drain(mail_platform)
    [message] = mailbox.to(player["email"])
    assert message["Subject"] == note["title"]
    bodies = parts(message)
    assert "Your map &lt;b&gt;was&lt;/b&gt; approved" in bodies["text/html"]  # autoescaped
    assert "now &amp; rate it" in bodies["text/html"]
    assert "Players can find it now & rate it." in bodies["text/plain"]


def test_a_notice_reaches_the_inbox_and_a_verified_address_once(
    mail_platform, mail_client, mailbox
):
    player = signed_up(mail_platform)
    user_id = uuid.UUID(player["user"]["id"])
    with mail_platform.db.unit_of_work() as session:
        session.scalars(
            select(Identity).where(Identity.user_id == user_id)
        ).one().verified_at = utcnow()
    data = {"name": "Harbour <map>", "reason": "spam"}
    for _ in range(2):  # a duplicated job (same key) delivers nothing more
        messaging_jobs.deliver_notification(str(user_id), "ugc.removed", data, "key-1")
    drain(mail_platform)

    inbox = mail_client.get("/v1/me/inbox", headers=bearer(player["access_token"])).get_json()
    assert [m["subject"] for m in inbox["items"]] == ["Your item was removed"]
    [message] = mailbox.to(player["email"])
    assert message["Subject"] == "Your item was removed"
    assert "“Harbour <map>” was removed: spam" in parts(message)["text/plain"]
    assert "Harbour &lt;map&gt;" in parts(message)["text/html"]
