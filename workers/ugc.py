"""UGC jobs: scanning an upload, expiring drafts, re-driving stuck scans.
Each re-checks state, so a duplicate run (a retry, a re-drive) changes nothing."""

from __future__ import annotations

import logging
import uuid

from player_platform import platform
from player_platform.db import utcnow
from player_platform.ugc import scanning, uploads
from player_platform.ugc.listing import HotLists

log = logging.getLogger(__name__)


def scan_content(ugc_id: str) -> str:
    """Scan one item. clamd unreachable raises: RQ retries with backoff, the item stays
    ``scanning`` and the periodic re-drive picks it up after the retries."""
    p = platform.current()
    with p.db.unit_of_work() as session:
        ticket = scanning.begin(session, ugc_id=uuid.UUID(ugc_id))
    if ticket is None:
        return "nothing to scan"
    report = scanning.examine(
        ticket, storage=p.storage, clamd=p.clamd, policy=p.ugc_policy, now=utcnow()
    )
    with p.db.unit_of_work() as session:
        item = scanning.finish(
            session, ticket=ticket, report=report, storage=p.storage, jobs=p.jobs,
            hot=HotLists(p.redis), policy=p.ugc_policy, now=utcnow(),
        )  # fmt: skip
    outcome = item.status if item is not None else "decided meanwhile"
    log.info("ugc scanned", extra={"ugc": ugc_id, "outcome": outcome, "virus": report.virus_status})
    return outcome


def expire_drafts() -> int:
    p = platform.current()
    with p.db.unit_of_work() as session:
        count = uploads.expire_drafts(session, storage=p.storage, now=utcnow())
    log.info("ugc drafts expired", extra={"count": count})
    return count


def redrive_scans() -> int:
    p = platform.current()
    with p.db.unit_of_work() as session:
        count = uploads.redrive_scans(session, jobs=p.jobs, now=utcnow())
    log.info("ugc scans re-driven", extra={"count": count})
    return count
