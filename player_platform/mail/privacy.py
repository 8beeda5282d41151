"""A player's mail under GDPR and account merge.

The export lists the mails sent to the player (template, status, when), never their contents:
a mailed link is a credential. Erasure deletes the player's mails (a pending one holds their
sealed address) and their link tokens (which hold the address). A merge drops the retired
account's tokens: a link mailed to it must not act on the survivor.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from player_platform.db import iso_or_none
from player_platform.jobs import Jobs
from player_platform.mail.models import EmailToken, Mail


def export_section(session: Session, user: Any) -> list[dict[str, Any]]:
    mails = session.scalars(select(Mail).where(Mail.user_id == user.id).order_by(Mail.created_at))
    return [
        {
            "template": m.template,
            "status": m.status,
            "created_at": m.created_at.isoformat(),
            "sent_at": iso_or_none(m.sent_at),
        }
        for m in mails
    ]


def erase_mail(session: Session, *, jobs: Jobs, user_id: uuid.UUID, now: datetime) -> None:
    session.execute(delete(EmailToken).where(EmailToken.user_id == user_id))
    session.execute(delete(Mail).where(Mail.user_id == user_id))


def drop_tokens(
    session: Session,
    *,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    jobs: Jobs,  # a merge step's argument: nothing here waits for the commit
    now: datetime,
) -> dict[str, int]:
    dropped = session.execute(delete(EmailToken).where(EmailToken.user_id == source_id)).rowcount
    return {"email_tokens_dropped": dropped or 0}
