"""Group commit of concurrent score submissions.

A submission is acknowledged only once its row is committed in PostgreSQL (invariant 6), so each
one used to pay a commit, and a commit waits for the WAL to reach the disk. Here the request
thread checks everything it can alone (season, caller, window, bounds) and hands the write to
the process's committer thread, which takes every submission waiting at that moment, writes
them with one multi-row ``INSERT ... ON CONFLICT DO UPDATE`` per season (the same statement and
operator rules as a single submission, upsert.py), commits once, then updates
the Redis index for all of them in one pipeline and wakes each waiting request with its row and
rank. While one batch commits the next one gathers, so nothing waits on a timer: under light
load a batch is one submission.

- A statement may touch a row once, so a player who appears twice in one batch goes into a
  second round (a second statement in the same transaction), in arrival order: the operator
  applies to each submission in turn, exactly as one at a time.
- Rows go in (season, user) order, so two processes' batches lock rows in the same order.
- A submission the WHERE of the upsert refused (removed entry, a step above max_increase, an
  increment leaving 64 bits) gets its own error; the others in the batch are unaffected.
- When the batch transaction fails as a whole (a deadlock, a player deleted meanwhile, ...),
  each submission is retried alone in its own transaction, so one bad write fails only itself.
- Requests with an Idempotency-Key do not come here: their write must commit in the same
  transaction as the key's record (service.submit_score writes them directly).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from redis import RedisError
from sqlalchemy.orm import Session

from player_platform.db import Database, database_unreachable
from player_platform.errors import DomainError, Forbidden, Invalid, Unavailable
from player_platform.leaderboards import lifecycle
from player_platform.leaderboards.index import Change, LeaderboardIndex, encode_info
from player_platform.leaderboards.reads import board_of
from player_platform.leaderboards.seasons import SeasonRules
from player_platform.leaderboards.upsert import batch_upsert_statement, refuse
from player_platform.outage import degraded

log = logging.getLogger(__name__)
MAX_BATCH = 256  # submissions per transaction
WAIT_SECONDS = 30.0  # a request gives up (503) when its batch has not committed by then


@dataclass(eq=False)
class Pending:
    """One submission on its way to PostgreSQL, and what the committer answers."""

    season: SeasonRules
    user_id: uuid.UUID
    region: str
    score: int
    metadata: dict[str, Any] | None
    display_name: str
    now: datetime
    done: threading.Event = field(default_factory=threading.Event)
    row: Any = None
    rank: int | None = None  # None: the index is not ready, the caller ranks in PostgreSQL
    error: BaseException | None = None

    def values(self) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "season_id": self.season.id,
            "user_id": self.user_id,
            "region": self.region,
            "score": self.score,
            "reached_at": self.now,
            "submissions": 1,
            "version": 1,
            "metadata": self.metadata,
            "created_at": self.now,
            "updated_at": self.now,
        }


class GroupCommit:
    """The process's committer thread (started on first use, again after a fork)."""

    def __init__(self, db: Database, index: LeaderboardIndex) -> None:
        self.db = db
        self.index = index
        self._queue: list[Pending] = []
        self._ready = threading.Condition()
        self._pid: int | None = None
        self._unsure: set[uuid.UUID] = set()  # seasons of writes whose commit went unanswered

    def submit(self, pending: Pending) -> Pending:
        """Queue ``pending`` and wait until it is committed (or refused); raises its error."""
        with self._ready:
            if self._pid != os.getpid():
                self._start()
            self._queue.append(pending)
            self._ready.notify()
        if not pending.done.wait(WAIT_SECONDS):
            raise Unavailable("The score could not be stored in time; retry.", code="timeout")
        if pending.error is not None:
            raise pending.error
        return pending

    def _start(self) -> None:
        self._pid = os.getpid()
        self._queue = []
        threading.Thread(target=self._run, name="leaderboard-group-commit", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                self._commit(batch)
            except Exception as error:  # never let the thread die; answer everyone
                log.exception("group commit failed")
                for pending in batch:
                    if not pending.done.is_set():
                        pending.error = error
                        pending.done.set()

    def _commit(self, batch: list[Pending]) -> None:
        unsure, self._unsure = self._unsure, set()
        try:
            with self.db.unit_of_work() as session:
                for round_ in _rounds(batch):
                    self._write(session, round_)
                lifecycle.mark_index_stale(session, season_ids=unsure, now=batch[0].now)
        except Exception as error:
            self._unsure |= unsure
            self._note_unsure(batch, error)
            if len(batch) == 1:
                raise
            log.warning("group commit of %d failed; writing them one by one", len(batch))
            for pending in batch:
                pending.row, pending.error = None, None
                self._commit_alone(pending)
        self._index(batch)

    def _commit_alone(self, pending: Pending) -> None:
        try:
            with self.db.unit_of_work() as session:
                self._write(session, [pending])
        except Exception as error:
            self._note_unsure([pending], error)
            pending.error = error if isinstance(error, DomainError) else _failed(error)

    def _note_unsure(self, batch: list[Pending], error: Exception) -> None:
        """The database went away mid-write: the commit may have happened unanswered, and then
        the index misses it. The next batch that commits marks these seasons' indexes stale
        (a process that dies first leaves them behind until each player's next write)."""
        if database_unreachable(error):
            self._unsure.update(p.season.id for p in batch)

    def _write(self, session: Session, round_: list[Pending]) -> None:
        """One statement per season for submissions of distinct players."""
        round_ = sorted(round_, key=lambda p: (str(p.season.id), p.user_id))
        for _, group in groupby(round_, key=lambda p: p.season.id):
            group = list(group)
            season = group[0].season
            statement = batch_upsert_statement(season.sort, season.operator, season.max_increase)
            rows = session.execute(statement, _columns(season, group)).all()
            by_user = {r.user_id: r for r in rows}
            for pending in group:
                pending.row = by_user.get(pending.user_id)
                if pending.row is None:
                    try:
                        refuse(session, season, pending.user_id)
                    except (Forbidden, Invalid) as error:
                        pending.error = error

    def _index(self, batch: list[Pending]) -> None:
        """Update the index for every committed submission (one pipeline), then answer all."""
        written = [p for p in batch if p.error is None and p.row is not None]
        try:
            ranks = self.index.apply_all(
                [
                    (
                        board_of(p.season, p.row.region),
                        Change(
                            p.user_id,
                            p.row.version,
                            p.row.score,
                            p.row.reached_at,
                            encode_info(p.display_name, p.row.details),
                        ),
                    )
                    for p in written
                ]
            )
        except RedisError as error:  # committed all the same: rank from PostgreSQL
            degraded("leaderboard_index", error)
            lifecycle.mark_index_stale_apart(
                self.db, season_ids={p.season.id for p in written}, now=batch[0].now
            )
            ranks = [None] * len(written)
        except Exception:  # committed all the same: rank from PostgreSQL, rebuild the index
            log.exception("leaderboard index update failed after commit")
            ranks = [None] * len(written)
        for pending, rank in zip(written, ranks, strict=True):
            pending.rank = rank
        for pending in batch:
            pending.done.set()


def _rounds(batch: list[Pending]) -> list[list[Pending]]:
    """Split ``batch`` so no (season, player) appears twice in a round, in arrival order."""
    rounds: list[list[Pending]] = []
    seen: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for pending in batch:
        key = (pending.season.id, pending.user_id)
        n = seen.get(key, -1) + 1
        seen[key] = n
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(pending)
    return rounds


def _columns(season: SeasonRules, group: list[Pending]) -> dict[str, Any]:
    """The parameters of upsert.batch_upsert_statement: one array per column."""
    return {
        "season": season.id,
        "ids": [uuid.uuid4() for _ in group],
        "users": [p.user_id for p in group],
        "regions": [p.region for p in group],
        "scores": [p.score for p in group],
        "nows": [p.now for p in group],
        "metadata": [None if p.metadata is None else json.dumps(p.metadata) for p in group],
    }


def _failed(error: Exception) -> Exception:
    log.error("a score submission failed: %s", error.__class__.__name__)
    return error
