"""Moderators' side of UGC: claim an item, decide it, resolve reports and appeals.

Every decision locks the item row, checks the claim, then moves the status through
``status.transition`` (one conditional UPDATE): two moderators deciding one item at once are
applied in turn and the second gets 409 (``claimed_by_other`` when the first holds a claim,
``invalid_transition`` when the first already moved it). A decision resolves the item's open
reports (a removal upholds them, an approval dismisses them), tells the owner (a
``notification_send`` job after commit) and drops the hot lists of the item's type.

Two-person rule (PP_UGC_TWO_PERSON_REMOVAL): a ``remove`` by one moderator only proposes the
removal (a published item is flagged meanwhile, so it is hidden at once); a ``remove`` by a
different moderator confirms it; the proposer repeating it gets 409
``second_moderator_required``. Any other decision withdraws the proposal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.db import after_commit, insert_for, iso_or_none
from player_platform.errors import Conflict, InvalidState, NotFound
from player_platform.jobs import Jobs
from player_platform.ugc.listing import HotLists
from player_platform.ugc.models import BlockedHash, UgcAppeal, UgcItem, UgcReport
from player_platform.ugc.reports import notify_owner
from player_platform.ugc.status import TRANSITIONS, transition

ACTIONS = ("approve", "reject", "remove", "restore")
EVENTS = {"approve": "approved", "reject": "rejected", "remove": "removed", "restore": "restored"}
REMOVALS = frozenset({"reject", "remove"})
NO_PROPOSAL = {"removal_proposed_by": None, "removal_proposed_at": None,
               "removal_proposal_notes": None}  # fmt: skip


@dataclass(frozen=True)
class Desk:
    """What moderation works with: the job queue, the hot lists, and the studio's rules."""

    jobs: Jobs
    hot: HotLists
    two_person_removal: bool
    claim_seconds: int


@dataclass(frozen=True)
class Moderator:
    id: uuid.UUID
    origin: Origin
    now: datetime


def claim(session: Session, desk: Desk, *, ugc_id: uuid.UUID, moderator: Moderator) -> UgcItem:
    """Hold the item for ``desk.claim_seconds`` (renewed by its holder); 409 claimed_by_other
    while another moderator's claim runs."""
    until = moderator.now + timedelta(seconds=desk.claim_seconds)
    return _set_claim(session, ugc_id, moderator, claimed_by=moderator.id, claimed_until=until)


def release(session: Session, *, ugc_id: uuid.UUID, moderator: Moderator) -> UgcItem:
    """Give the claim up (nothing to do when nobody holds it)."""
    return _set_claim(session, ugc_id, moderator, claimed_by=None, claimed_until=None)


def _set_claim(
    session: Session, ugc_id: uuid.UUID, moderator: Moderator, **claim: object
) -> UgcItem:
    """One conditional UPDATE of the claim columns; 409 while another moderator holds it.
    Taking or giving up a claim is audited; the holder renewing it is not a new fact."""
    held_by = session.scalar(
        select(UgcItem.claimed_by).where(
            UgcItem.id == ugc_id, UgcItem.claimed_until > moderator.now
        )
    )
    changed = session.execute(
        update(UgcItem)
        .where(UgcItem.id == ugc_id, _claimable(moderator))
        .values(**claim, updated_at=UgcItem.updated_at)
        .returning(UgcItem.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    item = _item(session, ugc_id)
    if changed is None:
        _refuse_claimed(item)
    if held_by != claim["claimed_by"]:
        record(session, actor_id=moderator.id,
               action="ugc.claim" if claim["claimed_by"] else "ugc.release",
               resource_type="ugc", resource_id=ugc_id, origin=moderator.origin,
               old={"claimed_by": held_by and str(held_by)},
               new={"claimed_by": item.claimed_by and str(item.claimed_by),
                    "claimed_until": iso_or_none(item.claimed_until)})  # fmt: skip
    return item


def _claimable(moderator: Moderator):
    return or_(
        UgcItem.claimed_by.is_(None),
        UgcItem.claimed_until <= moderator.now,
        UgcItem.claimed_by == moderator.id,
    )


def _item(session: Session, ugc_id: uuid.UUID, *, lock: bool = False) -> UgcItem:
    query = select(UgcItem).where(UgcItem.id == ugc_id)
    if lock:
        query = query.with_for_update()
    item = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if item is None:
        raise NotFound("No such item.", code="ugc_not_found")
    return item


def _refuse_claimed(item: UgcItem) -> None:
    raise Conflict(
        "Another moderator holds this item.",
        code="claimed_by_other",
        claimed_by=str(item.claimed_by),
        claimed_until=item.claimed_until.isoformat() if item.claimed_until else None,
    )


def decide(
    session: Session,
    desk: Desk,
    *,
    ugc_id: uuid.UUID,
    action: str,
    moderator: Moderator,
    reason: str | None = None,
    notes: str | None = None,
) -> UgcItem:
    """approve, reject, remove or restore the item (see the module's docstring)."""
    item = _item(session, ugc_id, lock=True)
    if item.claimed_by not in (None, moderator.id) and item.claimed_until > moderator.now:
        _refuse_claimed(item)
    if action == "remove" and desk.two_person_removal:
        if item.removal_proposed_by == moderator.id:
            raise Conflict(
                "You proposed this removal: another moderator must confirm it.",
                code="second_moderator_required",
            )
        if item.removal_proposed_by is None:
            return _propose_removal(session, desk, item=item, moderator=moderator, notes=notes)
    type_ = item.type
    item = transition(
        session, ugc_id=item.id, action=action, actor_id=moderator.id, origin=moderator.origin,
        now=moderator.now, reason=reason, notes=notes,
        values={"claimed_by": None, "claimed_until": None, **NO_PROPOSAL},
    )  # fmt: skip
    _resolve_open_reports(session, item=item, action=action, moderator=moderator)
    _update_blocklist(session, item=item, action=action, moderator=moderator)
    if action == "restore":
        _close_appeal(session, item=item, status="restored", moderator=moderator, notes=notes)
    notify_owner(session, desk.jobs, item=item, event=EVENTS[action], reason=reason or "")
    after_commit(session, lambda: desk.hot.invalidate(type_))
    return item


def _propose_removal(
    session: Session, desk: Desk, *, item: UgcItem, moderator: Moderator, notes: str | None
) -> UgcItem:
    if item.status not in TRANSITIONS["remove"].allowed_from:
        raise InvalidState(
            f"cannot remove an item that is {item.status}",
            code="invalid_transition",
            item_status=item.status,
            action="remove",
        )
    if item.status == "published":  # hidden while the second moderator looks at it
        transition(
            session, ugc_id=item.id, action="flag", actor_id=moderator.id,
            origin=moderator.origin, now=moderator.now, reason="removal proposed", notes=notes,
        )  # fmt: skip
        after_commit(session, lambda: desk.hot.invalidate(item.type))
    session.execute(
        update(UgcItem)
        .where(UgcItem.id == item.id)
        .values(removal_proposed_by=moderator.id, removal_proposed_at=moderator.now,
                removal_proposal_notes=notes, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    record(
        session, actor_id=moderator.id, action="ugc.propose_removal", resource_type="ugc",
        resource_id=item.id, origin=moderator.origin, new={"notes": notes},
    )  # fmt: skip
    return _item(session, item.id)


def _resolve_open_reports(
    session: Session, *, item: UgcItem, action: str, moderator: Moderator
) -> None:
    outcome = "upheld" if action in REMOVALS else "dismissed"
    session.execute(
        update(UgcReport)
        .where(UgcReport.ugc_id == item.id, UgcReport.status == "open")
        .values(status=outcome, moderator_id=moderator.id, resolved_at=moderator.now,
                moderator_notes=f"item {EVENTS[action]}")
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    session.execute(
        update(UgcItem)
        .where(UgcItem.id == item.id)
        .values(report_count=0)
        .execution_options(synchronize_session=False)
    )


def _update_blocklist(session: Session, *, item: UgcItem, action: str, moderator: Moderator):
    """A removal blocks the file's SHA-256 (a re-upload is refused); a restore lifts it."""
    if action == "remove":
        session.execute(
            insert_for(session, BlockedHash)
            .values(sha256=item.sha256, reason="removed by a moderator", ugc_id=item.id,
                    added_by=moderator.id, created_at=moderator.now)
            .on_conflict_do_nothing(index_elements=["sha256"])
        )  # fmt: skip
    elif action == "restore":
        session.execute(delete(BlockedHash).where(BlockedHash.ugc_id == item.id))


def _close_appeal(
    session: Session, *, item: UgcItem, status: str, moderator: Moderator, notes: str | None
) -> bool:
    closed = session.execute(
        update(UgcAppeal)
        .where(UgcAppeal.ugc_id == item.id, UgcAppeal.status == "open")
        .values(status=status, moderator_id=moderator.id, moderator_notes=notes,
                resolved_at=moderator.now)
        .returning(UgcAppeal.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()  # fmt: skip
    return closed is not None


def resolve_report(
    session: Session,
    desk: Desk,
    *,
    report_id: uuid.UUID,
    outcome: str,
    moderator: Moderator,
    notes: str | None = None,
) -> UgcReport:
    """Dismiss a report, or uphold it: the item is removed (proposed, under two-person)."""
    ugc_id = session.execute(
        update(UgcReport)
        .where(UgcReport.id == report_id, UgcReport.status == "open")
        .values(status=outcome, moderator_id=moderator.id, moderator_notes=notes,
                resolved_at=moderator.now)
        .returning(UgcReport.ugc_id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()  # fmt: skip
    if ugc_id is None:
        _refuse_resolved(session.get(UgcReport, report_id), what="report")
    session.execute(
        update(UgcItem)
        .where(UgcItem.id == ugc_id, UgcItem.report_count > 0)
        .values(report_count=UgcItem.report_count - 1)
        .execution_options(synchronize_session=False)
    )
    _audit_resolution(session, "report", report_id, outcome=outcome, moderator=moderator,
                      notes=notes)  # fmt: skip
    if outcome == "upheld" and _item(session, ugc_id).status != "removed":
        decide(session, desk, ugc_id=ugc_id, action="remove", moderator=moderator,
               reason="report upheld", notes=notes)  # fmt: skip
    return session.get_one(UgcReport, report_id, populate_existing=True)


def resolve_appeal(
    session: Session,
    desk: Desk,
    *,
    appeal_id: uuid.UUID,
    outcome: str,
    moderator: Moderator,
    notes: str | None = None,
) -> UgcAppeal:
    """Uphold the removal, or restore the item (published again, its file unblocked)."""
    appeal = session.get(UgcAppeal, appeal_id)
    if appeal is None:
        _refuse_resolved(appeal, what="appeal")
    item = _item(session, appeal.ugc_id, lock=True)
    if not _close_appeal(session, item=item, status=outcome, moderator=moderator, notes=notes):
        _refuse_resolved(appeal, what="appeal")
    _audit_resolution(session, "appeal", appeal_id, outcome=outcome, moderator=moderator,
                      notes=notes)  # fmt: skip
    if outcome == "restored":
        decide(session, desk, ugc_id=item.id, action="restore", moderator=moderator,
               reason="appeal granted", notes=notes)  # fmt: skip
    else:
        notify_owner(session, desk.jobs, item=item, event="appeal_upheld", reason=notes or "")
    return session.get_one(UgcAppeal, appeal_id, populate_existing=True)


def _audit_resolution(
    session: Session,
    what: str,
    row_id: uuid.UUID,
    *,
    outcome: str,
    moderator: Moderator,
    notes: str | None,
) -> None:
    """Who resolved a report or an appeal, how and why (an upheld report or a restoring appeal
    also records the item's own transition)."""
    record(session, actor_id=moderator.id, action=f"ugc_{what}.resolve",
           resource_type=f"ugc_{what}", resource_id=row_id, origin=moderator.origin,
           old={"status": "open"}, new={"status": outcome, "notes": notes})  # fmt: skip


def _refuse_resolved(row: UgcReport | UgcAppeal | None, *, what: str) -> None:
    if row is None:
        raise NotFound(f"No such {what}.", code=f"{what}_not_found")
    raise InvalidState(f"This {what} was already resolved.", code=f"{what}_resolved")
