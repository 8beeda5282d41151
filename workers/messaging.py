"""Inbox jobs: deliver an admin's message, deliver a notice to one player, re-drive deliveries
whose job was lost. Each is idempotent: a delivered message is not delivered again, a notice is
keyed on the key drawn when it was asked for."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from player_platform import platform
from player_platform.db import utcnow
from player_platform.messaging import notifications
from player_platform.messaging import service as inbox

log = logging.getLogger(__name__)


def deliver_message(message_id: str) -> bool:
    p = platform.current()
    with p.db.unit_of_work() as session:
        delivered = inbox.deliver(session, message_id=uuid.UUID(message_id), now=utcnow())
    log.info("message delivered", extra={"message": message_id, "delivered": delivered})
    return delivered


def deliver_notification(user_id: str, kind: str, data: dict[str, Any], key: str) -> str | None:
    p = platform.current()
    with p.db.unit_of_work() as session:
        message_id = notifications.deliver_notification(
            session,
            jobs=p.jobs,
            vault=p.vault,
            user_id=uuid.UUID(user_id),
            kind=kind,
            data=data,
            key=key,
            now=utcnow(),
        )
    log.info("player notified", extra={"user": user_id, "kind": kind, "key": key})
    return str(message_id) if message_id else None


def redeliver_messages() -> int:
    """Deliver messages whose delivery job never ran (Redis lost it, a worker died)."""
    p = platform.current()
    with p.db.unit_of_work() as session:
        pending = inbox.undelivered(session, now=utcnow())
    for message_id in pending:
        deliver_message(str(message_id))
    return len(pending)
