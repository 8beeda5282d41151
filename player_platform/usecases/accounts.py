"""Account merge, GDPR export and erasure: the player's account as a whole, across domains.

Identity owns the account itself (player_platform/identity/merge.py and privacy.py: proofs,
identities, sessions, the audit record); what other domains hold for a player joins here, above
them all, so no domain imports another upwards. A domain adds what a merge moves to
``MERGE_STEPS``, its part of the export to ``EXPORT_SECTIONS`` and what erasure does to its data
to ``ERASE_STEPS``. Everything runs in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from player_platform.audit.service import Origin
from player_platform.drops import privacy as drops_privacy
from player_platform.drops import service as drops
from player_platform.feedback import privacy as feedback
from player_platform.identity import merge, privacy
from player_platform.identity.models import User
from player_platform.jobs import Jobs
from player_platform.keys import privacy as keys
from player_platform.mail import privacy as mail
from player_platform.messaging import privacy as inbox
from player_platform.ugc import privacy as ugc
from player_platform.wallet import service as wallet

# Each step moves one domain's holdings: step(session, source_id=..., target_id=..., jobs=...,
# now=...); jobs carry what must happen after the commit (a granted drop's report to Twitch).
MergeStep = Callable[..., Any]
MERGE_STEPS: tuple[MergeStep, ...] = (
    *(wallet.move_holdings, ugc.move_items, inbox.move_state, feedback.move_reports),
    mail.drop_tokens,
    drops.move_player,
    keys.move_keys,
)


# name -> section(session, user) returning JSON-ready data.
ExportSection = Callable[[Session, User], Any]
EXPORT_SECTIONS: dict[str, ExportSection] = {
    "ugc": ugc.export_section,
    "inbox": inbox.export_section,
    "mail": mail.export_section,
    "feedback": feedback.export_section,
    "drops": drops_privacy.export_section,
    "keys": keys.export_section,
}
# Each step erases one domain's data: step(session, jobs=..., user_id=..., now=...); jobs carry
# what must happen after the commit (deleting files from object storage). What accounting must
# keep (ledger, orders, entitlements, drops, game keys) has no step: the account is anonymised
# instead.
EraseStep = Callable[..., None]
ERASE_STEPS: tuple[EraseStep, ...] = (
    ugc.erase_content,
    inbox.erase_state,
    mail.erase_mail,
    feedback.erase_reports,
)


def merge_accounts(
    session: Session,
    *,
    jobs: Jobs,
    target: User,
    source_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> User:
    """Fold account ``source_id`` into ``target`` with everything it holds; returns ``target``."""
    merged = merge.merge_accounts(
        session, target=target, source_id=source_id, origin=origin, now=now
    )
    for step in MERGE_STEPS:
        step(session, source_id=source_id, target_id=target.id, jobs=jobs, now=now)
    return merged


def export(session: Session, *, user: User, now: datetime) -> dict[str, Any]:
    """Everything stored about ``user`` (GDPR access), secrets excluded."""
    data = privacy.export(session, user=user, now=now)
    for name, section in EXPORT_SECTIONS.items():
        data[name] = section(session, user)
    return data


def erase(session: Session, *, jobs: Jobs, user: User, origin: Origin, now: datetime) -> None:
    """Erase ``user``'s data in every domain, then anonymise the account."""
    for step in ERASE_STEPS:
        step(session, jobs=jobs, user_id=user.id, now=now)
    privacy.erase(session, user=user, origin=origin, now=now)
