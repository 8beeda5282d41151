"""Bulk import: CSV or JSON lines of codes, streamed at any size into one pool.

Lines are read, checked, sealed and stored ``batch`` at a time, each batch in a short
transaction of its own, so memory stays flat and a million keys take seconds: on PostgreSQL
the batch is COPied into a temporary table and moved with one INSERT ... ON CONFLICT DO
NOTHING; on the embedded SQLite it is one batched INSERT ... ON CONFLICT DO NOTHING. The
UNIQUE keyed hash refuses a code already in the warehouse (sold or not) and the second copy
of a code within the file. A failure midway keeps the batches already committed.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.db import Database, insert_for
from player_platform.jobs import Jobs
from player_platform.keys import codes, inventory
from player_platform.keys.models import GameKey
from player_platform.security.vault import Vault

INVALID_LISTED = 1000  # the answer lists the first invalid lines; ``invalid_total`` counts all
FORMATS = ("csv", "jsonl")


@dataclass
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    invalid: list[dict[str, Any]] = field(default_factory=list)
    invalid_total: int = 0

    def refuse(self, line: int, reason: str) -> None:
        self.invalid_total += 1
        if len(self.invalid) < INVALID_LISTED:
            self.invalid.append({"line": line, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
            "invalid_total": self.invalid_total,
            "invalid_truncated": self.invalid_total > len(self.invalid),
        }


@dataclass(frozen=True)
class Target:
    """Where an import goes and who asked for it."""

    sku_id: str
    platform: str
    actor_id: uuid.UUID | None
    origin: Origin


def read_codes(lines: Iterable[bytes], *, kind: str) -> Iterator[tuple[int, str | None, str]]:
    """(line number, raw code or None, reason) for each non-blank line of a CSV (the code in
    the first column; a header row ``code`` is skipped) or JSON lines (``{"code": ...}``)."""
    for number, raw in enumerate(lines, start=1):
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            continue
        if kind == "jsonl":
            yield number, *_json_code(line)
            continue
        first = next(csv.reader(io.StringIO(line)), [""])[0].strip()
        if number == 1 and first.lower() == "code":
            continue
        yield number, first, ""


def _json_code(line: str) -> tuple[str | None, str]:
    try:
        value = json.loads(line)
    except ValueError:
        return None, "not JSON"
    if not isinstance(value, dict) or not isinstance(value.get("code"), str):
        return None, 'expected {"code": "..."}'
    return value["code"], ""


def import_codes(
    db: Database,
    *,
    vault: Vault,
    jobs: Jobs,
    formats: codes.Formats,
    target: Target,
    lines: Iterable[bytes],
    kind: str,
    batch: int,
    threshold: int,
    now: Callable[[], datetime],
    progress: Callable[[int], None] = lambda lines: None,
) -> ImportResult:
    """Import every valid code of ``lines`` into the target pool; audited once at the end
    (count, SKU, platform, actor: never a code)."""
    with db.unit_of_work() as session:
        pool = inventory.ensure_pool(
            session, sku_id=target.sku_id, platform=target.platform, threshold=threshold, now=now()
        )
        pool_id = pool.id
    result = ImportResult()
    rows = read_codes(lines, kind=kind)
    while chunk := list(itertools.islice(rows, batch)):
        sealed = _check_and_seal(chunk, vault, formats, target.platform, result)
        if sealed:
            with db.unit_of_work() as session:
                stored = _store(session, pool_id, target, sealed, now())
            result.imported += stored
            result.duplicates += len(sealed) - stored
        progress(len(chunk))

    def finish(session: Session) -> None:
        inventory.check_stock(session, pool_ids={pool_id}, jobs=jobs, now=now())
        record(
            session,
            actor_id=target.actor_id,
            action="keys.import",
            resource_type="key_pool",
            resource_id=pool_id,
            origin=target.origin,
            new={
                "sku_id": target.sku_id,
                "platform": target.platform,
                "imported": result.imported,
                "duplicates": result.duplicates,
                "invalid": result.invalid_total,
            },
        )

    db.transaction(finish)
    return result


def _check_and_seal(
    chunk: list[tuple[int, str | None, str]],
    vault: Vault,
    formats: codes.Formats,
    platform: str,
    result: ImportResult,
) -> list[tuple[int, codes.SealedCode]]:
    sealed = []
    for number, raw, reason in chunk:
        code = codes.normalise(platform, raw) if raw is not None else ""
        reason = reason or formats.check(platform, code)
        if reason:
            result.refuse(number, reason)
        else:
            sealed.append((number, codes.seal(vault, code)))
    return sealed


def _store(
    session: Session,
    pool_id: uuid.UUID,
    target: Target,
    sealed: list[tuple[int, codes.SealedCode]],
    now: datetime,
) -> int:
    """Insert one batch; how many rows were new (the rest were duplicates)."""
    if session.get_bind().dialect.name == "postgresql":
        return _copy_batch(session, pool_id, target, sealed, now)
    rows = [
        {
            "id": s.id,
            "pool_id": pool_id,
            "sku_id": target.sku_id,
            "platform": target.platform,
            "sealed_code": s.sealed_code,
            "vault_kid": s.vault_kid,
            "code_hash": s.code_hash,
            "hint": s.hint,
            "status": "available",
            "source": "pool",
            "created_at": now,
            "updated_at": now,
        }
        for _, s in sealed
    ]
    inserted = session.execute(
        insert_for(session, GameKey.__table__)
        .on_conflict_do_nothing(index_elements=["code_hash"])
        .returning(GameKey.__table__.c.id),
        rows,
    )
    return len(inserted.all())


STAGING = """CREATE TEMP TABLE IF NOT EXISTS key_import_staging (
    line integer, id uuid, code_hash text, sealed_code text, vault_kid text, hint text
) ON COMMIT DELETE ROWS"""
MOVE = """INSERT INTO game_keys (id, pool_id, sku_id, platform, sealed_code, vault_kid, code_hash,
    hint, status, source, created_at, updated_at)
SELECT DISTINCT ON (code_hash) id, :pool_id, :sku_id, :platform, sealed_code, vault_kid,
    code_hash, hint, 'available', 'pool', :now, :now
FROM key_import_staging ORDER BY code_hash, line
ON CONFLICT (code_hash) DO NOTHING"""


def _copy_batch(
    session: Session,
    pool_id: uuid.UUID,
    target: Target,
    sealed: list[tuple[int, codes.SealedCode]],
    now: datetime,
) -> int:
    session.execute(text(STAGING))
    cursor = session.connection().connection.dbapi_connection.cursor()
    columns = "line, id, code_hash, sealed_code, vault_kid, hint"
    with cursor.copy(f"COPY key_import_staging ({columns}) FROM STDIN") as copy:
        for number, s in sealed:
            copy.write_row((number, s.id, s.code_hash, s.sealed_code, s.vault_kid, s.hint))
    moved = session.execute(
        text(MOVE),
        {"pool_id": pool_id, "sku_id": target.sku_id, "platform": target.platform, "now": now},
    )
    return moved.rowcount
