"""Mail jobs on the notification_send queue: send one mail (exactly once after a success),
look up a password-reset request, re-drive mails left pending."""

from __future__ import annotations

import logging
import uuid

from player_platform import platform
from player_platform.db import utcnow
from player_platform.mail import accounts, service
from player_platform.mail.smtp import MailError

log = logging.getLogger(__name__)


def send_mail(mail_id: str) -> str:
    """Send one mail. SMTP unreachable (or a 4xx) raises after freeing the mail: RQ retries
    with backoff and the re-drive takes over after that. A 5xx refusal gives the mail up."""
    p, row_id = platform.current(), uuid.UUID(mail_id)
    with p.db.unit_of_work() as session:
        envelope = service.lease(session, vault=p.vault, mail_id=row_id, now=utcnow())
    if envelope is None:
        return "nothing to send"
    try:
        p.mailer.send(envelope)
    except MailError as error:
        with p.db.unit_of_work() as session:
            status = service.record_failure(
                session, mail_id=row_id, error=str(error), permanent=error.permanent, now=utcnow()
            )
        log.warning("mail not sent", extra={"mail": mail_id, "error": str(error), "status": status})
        if status == "failed":
            return "failed"
        raise
    with p.db.unit_of_work() as session:
        service.mark_sent(session, mail_id=row_id, now=utcnow())
    log.info("mail sent", extra={"mail": mail_id, "template": envelope.template})
    return "sent"


def request_password_reset(email: str) -> bool:
    p = platform.current()
    with p.db.unit_of_work() as session:
        return accounts.request_password_reset(
            session, outbox=p.mail_outbox, email=email, now=utcnow()
        )


def redrive_mail() -> int:
    p = platform.current()
    with p.db.unit_of_work() as session:
        count = service.redrive(session, jobs=p.jobs, now=utcnow())
    log.info("mail re-driven", extra={"count": count})
    return count
