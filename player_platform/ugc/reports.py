"""Players report items and appeal removals.

One open report per reporter and item (a partial unique index: INSERT ... ON CONFLICT DO
NOTHING, else 409 already_reported). The report and the item's open-report counter move in one
unit of work, the counter by an UPDATE that holds the item's row lock until commit, so
concurrent reporters are counted one after another and exactly one of them sees the count reach
the threshold while the item is still published: that one flags it (hidden, waiting for review).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin
from player_platform.db import after_commit, insert_for
from player_platform.errors import Conflict, InvalidState, NotFound
from player_platform.jobs import Jobs
from player_platform.messaging import notifications
from player_platform.ugc.items import listed_for_other
from player_platform.ugc.listing import HotLists
from player_platform.ugc.models import UgcAppeal, UgcItem, UgcReport
from player_platform.ugc.status import transition

REASONS = ("spam", "offensive", "illegal", "copyright", "malware", "cheating", "other")


def notify_owner(session: Session, jobs: Jobs, *, item: UgcItem, event: str, reason: str) -> None:
    """Tell the item's creator what happened to it (an inbox notice after the commit)."""
    if item.creator_id is not None:
        data = {"ugc_id": str(item.id), "name": item.name, "reason": reason}
        notifications.notify(session, jobs, user_id=item.creator_id, kind=f"ugc.{event}", data=data)


def report(
    session: Session,
    *,
    jobs: Jobs,
    hot: HotLists,
    ugc_id: uuid.UUID,
    reporter_id: uuid.UUID,
    reason: str,
    description: str,
    threshold: int,
    origin: Origin,
    now: datetime,
) -> UgcReport:
    """File a report; the ``threshold``-th open report flags a published item."""
    item = listed_for_other(session, ugc_id=ugc_id, user_id=reporter_id)
    report_id = session.execute(
        insert_for(session, UgcReport)
        .values(id=uuid.uuid4(), ugc_id=item.id, reporter_id=reporter_id, reason=reason,
                description=description, status="open", created_at=now)
        .on_conflict_do_nothing(
            index_elements=["ugc_id", "reporter_id"], index_where=UgcReport.status == "open"
        )
        .returning(UgcReport.id)
    ).scalar_one_or_none()  # fmt: skip
    if report_id is None:
        raise Conflict("You already reported this item.", code="already_reported")
    counted = session.execute(
        update(UgcItem)
        .where(UgcItem.id == item.id)
        .values(report_count=UgcItem.report_count + 1, updated_at=UgcItem.updated_at)
        .returning(UgcItem.report_count, UgcItem.status)
        .execution_options(synchronize_session=False)
    ).one()
    if counted.report_count >= threshold and counted.status == "published":
        flagged = transition(
            session, ugc_id=item.id, action="flag", actor_id=None, origin=origin, now=now,
            reason=f"reported by {counted.report_count} players",
        )  # fmt: skip
        notify_owner(session, jobs, item=flagged, event="flagged", reason="reported by players")
        after_commit(session, lambda: hot.invalidate(flagged.type))
    return session.get_one(UgcReport, report_id)


def appeal(
    session: Session, *, ugc_id: uuid.UUID, owner_id: uuid.UUID, message: str, now: datetime
) -> UgcAppeal:
    """The owner's one appeal against a moderator's removal of their item."""
    item = session.get(UgcItem, ugc_id)
    if item is None or item.creator_id != owner_id:
        raise NotFound("No such item.", code="ugc_not_found")
    if item.status != "removed":
        raise InvalidState("Only a removed item can be appealed.", code="not_removed")
    if item.virus_status in ("infected", "refused"):
        raise InvalidState(
            "A file the scanner refused cannot be restored; upload a clean one.",
            code="not_appealable",
        )
    appeal_id = session.execute(
        insert_for(session, UgcAppeal)
        .values(id=uuid.uuid4(), ugc_id=item.id, user_id=owner_id, message=message,
                status="open", created_at=now)
        .on_conflict_do_nothing(index_elements=["ugc_id"])
        .returning(UgcAppeal.id)
    ).scalar_one_or_none()  # fmt: skip
    if appeal_id is None:
        raise Conflict("This item was already appealed.", code="already_appealed")
    return session.get_one(UgcAppeal, appeal_id)
