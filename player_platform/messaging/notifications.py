"""Notices to one player about something that happened to their things (a refund, a moderation
decision): one job, one function that delivers them.

``notify`` registers the job after the caller's commit, with a key drawn now, so a retried or
duplicated job delivers the notice once (the message's ``source_key``). ``deliver_notification``
is the one place a notice is delivered: an inbox message, and an email copy to a verified address.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from player_platform.identity.models import User
from player_platform.jobs import Jobs
from player_platform.mail import service as mail
from player_platform.messaging import service as inbox
from player_platform.security.vault import Vault

NOTIFY_JOB = "workers.messaging.deliver_notification"

# kind -> (subject, body); bodies are formatted with the notice's data.
TEMPLATES: dict[str, tuple[str, str]] = {
    "order.refunded": ("Your order was refunded", "Order {order_id} was refunded."),
    "order.partially_refunded": (
        "Part of your order was refunded",
        "Part of order {order_id} was refunded.",
    ),
    "order.charged_back": (
        "A payment was charged back",
        "The payment of order {order_id} was charged back; what it bought was taken back.",
    ),
    "order.backordered": (
        "Your key is on its way",
        "Order {order_id} is paid, but its game key is out of stock right now: it will be "
        "delivered as soon as one is available, or you can ask for a refund.",
    ),
    "keys.delivered": (
        "Your game key is ready",
        "Your key for {sku_id} is in your library: reveal it under My keys.",
    ),
    "keys.low_stock": (
        "Game keys running low",
        "The {platform} pool of {sku_id} has {available} keys left (threshold {threshold}).",
    ),
    "refund.denied": (
        "Your refund request was declined",
        "The refund request for order {order_id} was declined.",
    ),
    "wishlist.back_in_stock": (
        "Back in stock on your wishlist",
        "{name}, on your wishlist, is back in stock.",
    ),
    "wishlist.price_drop": (
        "A price dropped on your wishlist",
        "{name}, on your wishlist, now costs {price} (was {was}).",
    ),
    "ugc.approved": ("Your item was approved", "“{name}” is published."),
    "ugc.rejected": ("Your item was not approved", "“{name}” was not approved: {reason}"),
    "ugc.removed": ("Your item was removed", "“{name}” was removed: {reason}"),
    "ugc.restored": ("Your item was restored", "“{name}” is back."),
    "ugc.flagged": ("Your item is under review", "“{name}” is hidden pending review: {reason}"),
    "ugc.appeal_upheld": (
        "Your appeal was not granted",
        "The removal of “{name}” stands: {reason}",
    ),
}


def notify(
    session: Session, jobs: Jobs, *, user_id: uuid.UUID, kind: str, data: dict[str, str]
) -> None:
    """Tell the player, once this unit of work commits (a ``notification_send`` job)."""
    if kind not in TEMPLATES:
        raise ValueError(f"no template for notice {kind!r}")
    key = uuid.uuid4().hex
    jobs.enqueue_after_commit(
        session,
        "notification_send",
        NOTIFY_JOB,
        str(user_id),
        kind,
        data,
        key,
        job_id=f"notify-{key}",
    )


def deliver_notification(
    session: Session,
    *,
    jobs: Jobs,
    vault: Vault,
    user_id: uuid.UUID,
    kind: str,
    data: dict[str, Any],
    key: str,
    now: datetime,
) -> uuid.UUID | None:
    """Deliver one notice, once per ``key``: an inbox message to the player and, when they
    proved an email address, a mail. Returns the message id, None when it was delivered
    before or the player is gone."""
    if session.scalar(select(User.id).where(User.id == user_id)) is None:
        return None
    subject, template = TEMPLATES[kind]
    body = template.format_map({"name": "", "reason": "", "order_id": "", "sku_id": "", **data})
    message_id = inbox.create_message(
        session,
        kind=kind,
        subject=subject,
        body=body,
        data=data,
        recipient_ids=[user_id],
        source_key=f"notice:{key}",
        now=now,
    )
    if message_id is not None:
        inbox.deliver(session, message_id=message_id, now=now)
        mail.send_notification(
            session, jobs=jobs, vault=vault, user_id=user_id, title=subject, body=body, now=now
        )
    return message_id
