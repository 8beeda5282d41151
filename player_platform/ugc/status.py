"""The status machine of a UGC item: the only code that changes ``ugc.status``.

Named actions, each allowed from some statuses to one status (visibility is separate):

    action           from                                    to
    upload           draft                                   uploaded        owner: complete
    scan             uploaded                                scanning        owner: complete
    publish          scanning                                published       scanner: clean and
                                                                             the type auto-publishes
    hold             scanning                                pending_review  scanner: clean (or not
                                                                             virus-scanned)
    refuse           draft, uploaded, scanning               removed         scanner / blocklist
    approve          pending_review, flagged                 published       moderator
    reject           pending_review                          removed         moderator
    flag             published                               flagged         reports, moderator
    remove           pending_review, published, flagged      removed         moderator
    restore          removed (file kept: not infected or     published       moderator, appeal
                     refused)

Nothing reaches ``published`` without passing ``scanning`` first: the only ways in are
``publish`` (from scanning) and moderator actions on items that were scanned.

Each transition is ONE conditional UPDATE::

    UPDATE ugc SET status = :to, previous_status = status, ...
    WHERE id = :id AND status IN (:allowed_from) [AND guard] RETURNING previous_status

so two moderators deciding one item at once cannot both win: the loser's UPDATE matches no row
and gets 409 ``invalid_transition``. The same unit of work records the change in
``ugc_history`` and the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.errors import InvalidState, NotFound
from player_platform.ugc.models import UgcItem, UgcTransition


@dataclass(frozen=True)
class Rule:
    allowed_from: frozenset[str]
    to: str
    # An extra condition on the row, checked in the same UPDATE.
    guard: ColumnElement[bool] | None = None


# An item whose file was deleted as infected or refused has nothing to restore.
_FILE_KEPT = UgcItem.virus_status.not_in(("infected", "refused"))

TRANSITIONS: dict[str, Rule] = {
    "upload": Rule(frozenset({"draft"}), "uploaded"),
    "scan": Rule(frozenset({"uploaded"}), "scanning"),
    "publish": Rule(frozenset({"scanning"}), "published"),
    "hold": Rule(frozenset({"scanning"}), "pending_review"),
    "refuse": Rule(frozenset({"draft", "uploaded", "scanning"}), "removed"),
    "approve": Rule(frozenset({"pending_review", "flagged"}), "published"),
    "reject": Rule(frozenset({"pending_review"}), "removed"),
    "flag": Rule(frozenset({"published"}), "flagged"),
    "remove": Rule(frozenset({"pending_review", "published", "flagged"}), "removed"),
    "restore": Rule(frozenset({"removed"}), "published", guard=_FILE_KEPT),
}


def transition(
    session: Session,
    *,
    ugc_id: uuid.UUID,
    action: str,
    actor_id: uuid.UUID | None,
    origin: Origin,
    now: datetime,
    reason: str | None = None,
    notes: str | None = None,
    values: dict[str, Any] | None = None,
) -> UgcItem:
    """Apply ``action`` to the item, setting ``values`` (other columns) in the same UPDATE.

    Raises NotFound when there is no such item and 409 ``invalid_transition`` when its status
    (or the rule's guard) does not allow the action. Returns the item as it now is.
    """
    rule = TRANSITIONS[action]
    changes = {
        "status": rule.to,
        "previous_status": UgcItem.status,  # SET reads the row as it was before the UPDATE
        "status_reason": reason,
        "updated_at": now,
        **(values or {}),
    }
    if rule.to == "published":
        changes.setdefault("published_at", now)
    statement = (
        update(UgcItem)
        .where(UgcItem.id == ugc_id, UgcItem.status.in_(rule.allowed_from))
        .values(changes)
        .returning(UgcItem.previous_status)
        .execution_options(synchronize_session=False)
    )
    if rule.guard is not None:
        statement = statement.where(rule.guard)
    from_status = session.execute(statement).scalar_one_or_none()
    if from_status is None:
        _refuse(session, ugc_id=ugc_id, action=action)
    session.add(
        UgcTransition(
            ugc_id=ugc_id,
            action=action,
            from_status=from_status,
            to_status=rule.to,
            actor_id=actor_id,
            reason=reason,
            notes=notes,
            created_at=now,
        )
    )
    record(
        session,
        actor_id=actor_id,
        action=f"ugc.{action}",
        resource_type="ugc",
        resource_id=ugc_id,
        origin=origin,
        old={"status": from_status},
        new={"status": rule.to, "reason": reason, "notes": notes},
    )
    return session.get_one(UgcItem, ugc_id, populate_existing=True)


def _refuse(session: Session, *, ugc_id: uuid.UUID, action: str) -> None:
    status = session.scalar(select(UgcItem.status).where(UgcItem.id == ugc_id))
    if status is None:
        raise NotFound("no such item", code="ugc_not_found")
    raise InvalidState(
        f"cannot {action} an item that is {status}",
        code="invalid_transition",
        item_status=status,
        action=action,
    )
