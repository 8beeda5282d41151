"""Scanning an uploaded item (the ``scan_content`` queue), in three steps so that no outside
call runs inside a database transaction:

1. ``begin`` (a unit of work): the item must still be ``scanning``; a blocklisted SHA-256 is
   refused at once.
2. ``examine`` (no transaction): re-read the object into a temporary file while hashing it,
   compare with the declared SHA-256, run the content checks (inspection.py) and stream it to
   clamd; write each scanner's findings as JSON at ``scans/{ugc_id}/{scanner}/{time}.json``.
   clamd unreachable raises ClamavError: the job retries with backoff and the item stays
   ``scanning`` (nothing is published unscanned).
3. ``finish`` (a unit of work): clean -> ``published`` (types the studio auto-publishes, when
   ClamAV ran; the hot lists of its type are dropped after the commit) or ``pending_review``;
   infected or refused -> ``removed`` with the findings, the file's hash blocklisted, the
   object deleted (or moved under ``quarantine/``) after the commit, and the owner told why
   (a ``notification_send`` job).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from player_platform.audit.service import SYSTEM
from player_platform.db import after_commit, insert_for
from player_platform.errors import NotFound
from player_platform.jobs import Jobs
from player_platform.ugc.clamav import ClamavTooLarge, Clamd
from player_platform.ugc.inspection import Finding, inspect
from player_platform.ugc.listing import HotLists
from player_platform.ugc.models import BlockedHash, UgcItem
from player_platform.ugc.policy import UgcPolicy
from player_platform.ugc.reports import notify_owner
from player_platform.ugc.status import transition
from storage import Storage

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Ticket:
    """What the scan needs to know about the item, read in ``begin``."""

    ugc_id: uuid.UUID
    type: str
    content_type: str
    object_key: str
    sha256: str
    blocked: bool


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    virus_status: str = "clean"
    sha256: str | None = None  # of the bytes actually stored

    @property
    def refused(self) -> bool:
        return self.virus_status in {"infected", "refused"}


def begin(session: Session, *, ugc_id: uuid.UUID) -> Ticket | None:
    item = session.get(UgcItem, ugc_id)
    if item is None or item.status != "scanning":
        return None  # done already (a retry, a re-drive) or gone
    return Ticket(
        ugc_id=item.id,
        type=item.type,
        content_type=item.content_type,
        object_key=item.object_key,
        sha256=item.sha256,
        blocked=session.get(BlockedHash, item.sha256) is not None,
    )


def examine(
    ticket: Ticket, *, storage: Storage, clamd: Clamd | None, policy: UgcPolicy, now: datetime
) -> Report:
    if ticket.blocked:
        return _refusal(Finding("blocklist", "blocked_file", "this file was removed before"))
    with tempfile.TemporaryFile() as file:
        try:
            actual = _download(storage, ticket.object_key, file)
        except NotFound:
            return _refusal(Finding("sha256", "object_missing", "the uploaded object is gone"))
        if actual != ticket.sha256:
            report = _refusal(
                Finding("sha256", "checksum_mismatch", f"declared {ticket.sha256}, got {actual}")
            )
        else:
            report = _examine_content(file, ticket=ticket, clamd=clamd, policy=policy)
        report.sha256 = actual
    _store_findings(storage, ticket.ugc_id, report, clamd_ran=clamd is not None, now=now)
    return report


def _refusal(finding: Finding) -> Report:
    return Report(findings=[finding], virus_status="refused")


def _download(storage: Storage, key: str, file: IO[bytes]) -> str:
    digest = hashlib.sha256()

    class Hashing:
        def write(self, chunk: bytes) -> None:
            digest.update(chunk)
            file.write(chunk)

    storage.download(key, Hashing())  # type: ignore[arg-type]
    file.flush()
    return digest.hexdigest()


def _examine_content(
    file: IO[bytes], *, ticket: Ticket, clamd: Clamd | None, policy: UgcPolicy
) -> Report:
    findings = inspect(file, item_type=ticket.type, content_type=ticket.content_type, policy=policy)
    if clamd is None:
        return Report(findings, "refused" if findings else "not_scanned")
    try:
        verdict = clamd.scan(_chunks(file))
    except ClamavTooLarge:  # never scannable: a moderator decides, never auto-published
        return Report(findings, "refused" if findings else "not_scanned")
    if verdict.infected:
        infected = Finding("clamav", "infected", verdict.signature or "unknown signature")
        return Report([infected, *findings], "infected")
    return Report(findings, "refused" if findings else "clean")


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    file.seek(0)
    while chunk := file.read(READ_CHUNK):
        yield chunk


def _store_findings(
    storage: Storage, ugc_id: uuid.UUID, report: Report, *, clamd_ran: bool, now: datetime
) -> None:
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    by_scanner: dict[str, list[dict]] = {"content": []}
    if clamd_ran:
        by_scanner["clamav"] = []
    for finding in report.findings:
        scanner = "clamav" if finding.scanner == "clamav" else "content"
        by_scanner.setdefault(scanner, []).append(finding.as_dict())
    for scanner, findings in by_scanner.items():
        document = {
            "ugc_id": str(ugc_id),
            "scanner": scanner,
            "scanned_at": now.isoformat(),
            "sha256": report.sha256,
            "virus_status": report.virus_status,
            "findings": findings,
        }
        storage.put(
            f"scans/{ugc_id}/{scanner}/{stamp}.json",
            json.dumps(document).encode(),
            content_type="application/json",
        )


def finish(
    session: Session,
    *,
    ticket: Ticket,
    report: Report,
    storage: Storage,
    jobs: Jobs,
    hot: HotLists,
    policy: UgcPolicy,
    now: datetime,
) -> UgcItem | None:
    """Record the outcome; None when the item left ``scanning`` meanwhile (nothing to do)."""
    status = session.scalar(select(UgcItem.status).where(UgcItem.id == ticket.ugc_id))
    if status != "scanning":
        return None
    values = {
        "virus_status": report.virus_status,
        "findings": [f.as_dict() for f in report.findings],
        "scanned_at": now,
    }
    if report.refused:
        return _remove(session, ticket=ticket, report=report, storage=storage, jobs=jobs,
                       policy=policy, values=values, now=now)  # fmt: skip
    publish = report.virus_status == "clean" and ticket.type in policy.auto_publish
    reason = None if report.virus_status == "clean" else "not virus-scanned"
    if publish:
        after_commit(session, lambda: hot.invalidate(ticket.type))
    return transition(
        session, ugc_id=ticket.ugc_id, action="publish" if publish else "hold", actor_id=None,
        origin=SYSTEM, now=now, reason=reason, values=values,
    )  # fmt: skip


def _remove(
    session: Session,
    *,
    ticket: Ticket,
    report: Report,
    storage: Storage,
    jobs: Jobs,
    policy: UgcPolicy,
    values: dict,
    now: datetime,
) -> UgcItem:
    first = report.findings[0]
    reason = f"{first.scanner}: {first.code}: {first.detail}"[:500]
    item = transition(
        session, ugc_id=ticket.ugc_id, action="refuse", actor_id=None, origin=SYSTEM, now=now,
        reason=reason, values=values,
    )  # fmt: skip
    if report.sha256 and first.code != "checksum_mismatch":
        session.execute(
            insert_for(session, BlockedHash.__table__)
            .values(sha256=report.sha256, reason=reason, ugc_id=ticket.ugc_id, created_at=now)
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
    key = ticket.object_key
    if policy.quarantine:
        after_commit(session, lambda: _quarantine(storage, key, ticket.ugc_id))
    else:
        after_commit(session, lambda: storage.delete(key))
    notify_owner(session, jobs, item=item, event="removed", reason=reason)
    return item


def _quarantine(storage: Storage, key: str, ugc_id: uuid.UUID) -> None:
    """Keep the refused file out of reach of every download URL, for the studio to study."""
    try:
        storage.copy(key, f"quarantine/{ugc_id}/{key.rsplit('/', 1)[-1]}")
    except NotFound:
        return
    storage.delete(key)
