"""The mail outbox: queue a mail in the caller's unit of work, send it from the
``notification_send`` queue exactly once after a success.

A mail is a row (``mails``) holding the rendered mail sealed by the vault; the job takes its
id. Sending leases the row (so a duplicate job waits or does nothing), sends outside any
transaction, and marks it sent; a failure frees the lease and raises, so RQ retries with
backoff, and the periodic re-drive sends again whatever is still pending after that.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from player_platform.identity.models import Identity, User
from player_platform.jobs import Jobs
from player_platform.mail import templates
from player_platform.mail.models import Mail
from player_platform.mail.smtp import Envelope
from player_platform.security.vault import Vault

SEND_JOB = "workers.mail.send_mail"
LEASE = timedelta(minutes=2)  # longer than a send can take (connect + TLS + DATA, 20 s each)
MAX_ATTEMPTS = 12  # RQ's retries and then the re-drive's, before a mail is given up
REDRIVE_AFTER = timedelta(minutes=10)


def send_job_id(mail_id: uuid.UUID) -> str:
    return f"mail-{mail_id}"


def queue_mail(
    session: Session,
    *,
    jobs: Jobs,
    vault: Vault,
    user_id: uuid.UUID | None,
    to: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
) -> Mail:
    """Render ``template`` with ``context`` and send it to ``to`` once the caller commits."""
    rendered = templates.render(template, context)
    mail = Mail(id=uuid.uuid4(), user_id=user_id, template=template, created_at=now)
    mail.status, mail.attempts = "pending", 0
    sealed = json.dumps({"to": to, **asdict(rendered)})
    mail.envelope = vault.seal(sealed, context=_seal_context(mail.id))
    session.add(mail)
    session.flush()
    _enqueue(session, jobs, mail.id)
    return mail


def send_notification(
    session: Session,
    *,
    jobs: Jobs,
    vault: Vault,
    user_id: uuid.UUID,
    title: str,
    body: str,
    now: datetime,
    template: str = "notification",
    context: dict[str, Any] | None = None,
) -> Mail | None:
    """An email copy of a notification, for the inbox's delivery path: queued to the user's
    verified address (None, and nothing sent, without one: we mail notifications only to an
    address its owner proved). ``template`` gets ``display_name``, ``title``, ``body`` and
    ``context``; the default one shows the title and the body."""
    row = session.execute(
        select(Identity.provider_id, User.display_name)
        .join(User, User.id == Identity.user_id)
        .where(
            Identity.user_id == user_id,
            Identity.provider == "email",
            Identity.verified_at.is_not(None),
            User.status == "active",
        )
    ).first()
    if row is None:
        return None
    values = {**(context or {}), "display_name": row.display_name, "title": title, "body": body}
    return queue_mail(
        session, jobs=jobs, vault=vault, user_id=user_id, to=row.provider_id,
        template=template, context=values, now=now,
    )  # fmt: skip


def lease(session: Session, *, vault: Vault, mail_id: uuid.UUID, now: datetime) -> Envelope | None:
    """Take the mail for one send attempt; None when it was sent, given up, or another run
    holds it (its lease has not run out)."""
    leased = session.execute(
        update(Mail)
        .where(
            Mail.id == mail_id,
            Mail.status == "pending",
            (Mail.lease_until.is_(None)) | (Mail.lease_until < now),
        )
        .values(lease_until=now + LEASE, attempts=Mail.attempts + 1)
        .returning(Mail.envelope, Mail.template)
    ).first()
    if leased is None or leased.envelope is None:
        return None
    opened = json.loads(vault.open(leased.envelope, context=_seal_context(mail_id)))
    return Envelope(mail_id=str(mail_id), template=leased.template, **opened)


def mark_sent(session: Session, *, mail_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(Mail)
        .where(Mail.id == mail_id)
        .values(status="sent", sent_at=now, envelope=None, lease_until=None, last_error=None)
    )


def record_failure(
    session: Session, *, mail_id: uuid.UUID, error: str, permanent: bool, now: datetime
) -> str:
    """Free the lease for the next attempt, or give the mail up (a 5xx refusal, or too many
    attempts: then its content is dropped too). Returns the mail's status."""
    mail = session.get(Mail, mail_id, with_for_update=True)
    mail.last_error, mail.lease_until = error[:500], None
    if permanent or mail.attempts >= MAX_ATTEMPTS:
        mail.status, mail.envelope = "failed", None
    return mail.status


def redrive(session: Session, *, jobs: Jobs, now: datetime, limit: int = 1000) -> int:
    """Enqueue again the mails still pending a while after they were queued (Redis lost the
    job, a worker died, RQ's retries ran out while SMTP was down) and not queued now."""
    pending = session.scalars(
        select(Mail.id)
        .where(Mail.status == "pending", Mail.created_at < now - REDRIVE_AFTER)
        .where((Mail.lease_until.is_(None)) | (Mail.lease_until < now))
        .order_by(Mail.created_at)
        .limit(limit)
    ).all()
    waiting = [mail_id for mail_id in pending if not jobs.is_alive(send_job_id(mail_id), now=now)]
    for mail_id in waiting:
        _enqueue(session, jobs, mail_id)
    return len(waiting)


def _enqueue(session: Session, jobs: Jobs, mail_id: uuid.UUID) -> None:
    jobs.enqueue_after_commit(
        session, "notification_send", SEND_JOB, str(mail_id), job_id=send_job_id(mail_id)
    )


def _seal_context(mail_id: uuid.UUID) -> str:
    return f"mail:{mail_id}"
