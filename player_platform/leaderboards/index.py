"""The Redis index of a season: one sorted set per board, rebuilt from PostgreSQL when missing.

Every member of a board's sorted set has score 0 and sorts by its bytes (memcmp), which are
the ranking itself: 8 bytes of score (big-endian, sign bit flipped, all bits inverted on
descending boards), 8 bytes of the microsecond the score was reached, 16 bytes of user id.
So ZRANK is the rank, ties go to whoever reached the score first (then to the lower user id,
exactly as PostgreSQL orders `score, reached_at, user_id`), and the whole signed 64-bit range
of scores is exact (a double score would be exact to 2**53 only, with no room for the time).

Beside each sorted set a hash maps user -> "version|member". Writes carry the entry's
version from PostgreSQL and are applied only when newer, so concurrent writes, a rebuild
racing live writes, or a removal all converge on what PostgreSQL holds. A ``ready`` marker says
the index is complete; without it reads are served from PostgreSQL while a job rebuilds.

A season's ``names`` hash caches what a read shows beside each rank: user -> JSON
``[display name, metadata]``. Submissions write it (with the same version rule, in the same
script), reads fill what is missing from one batched query, a display-name change deletes the
user's fields (names.py), and the hash expires a day after it was created, which bounds how long
a name read just before a rename can survive. So a warm read is one Redis call and no query.

Without Redis the index is skipped, never a reason to fail: reads (``top``, ``around``,
``members``) answer None as for a missing index and are served from PostgreSQL; a write that
could not reach it marks the season's index stale in PostgreSQL (lifecycle.mark_index_stale),
and once Redis answers again a periodic job drops that index so it is rebuilt (``drop``).

All keys of a season (``pp:{lb:<season uuid>}:...``) share one hash tag: a Redis Cluster keeps
one season on one shard, and every script and pipeline touches one slot.
"""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from redis import Redis, RedisError
from redis.exceptions import NoScriptError
from sqlalchemy.orm import Session

from player_platform.db import Database, after_commit
from player_platform.jobs import Jobs
from player_platform.leaderboards.seasons import SeasonCache
from player_platform.outage import degraded

SCORE_MIN = -(2**63)
SCORE_MAX = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
REBUILD_LOCK_SECONDS = 300
REBUILD_BATCH = 2000
NAMES_SECONDS = 86400  # the names hash of a season is rebuilt from PostgreSQL at least daily

# KEYS: hash, zset, ready, names. ARGV: user, version, member ("" removes), info ("" leaves the
# names hash alone), names ttl. -> rank (0-based) or false
APPLY = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local member = ARGV[3]
local stale = false
if cur then
  local sep = string.find(cur, '|', 1, true)
  local old = string.sub(cur, sep + 1)
  if tonumber(string.sub(cur, 1, sep - 1)) >= tonumber(ARGV[2]) then
    stale = true
    member = old
  elseif old ~= '' then
    redis.call('ZREM', KEYS[2], old)
  end
end
if not stale then
  if member ~= '' then redis.call('ZADD', KEYS[2], 0, member) end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. member)
  if member == '' then
    redis.call('HDEL', KEYS[4], ARGV[1])
  elseif ARGV[4] ~= '' then
    redis.call('HSET', KEYS[4], ARGV[1], ARGV[4])
    redis.call('EXPIRE', KEYS[4], ARGV[5], 'NX')
  end
end
if member == '' or redis.call('EXISTS', KEYS[3]) == 0 then return false end
return redis.call('ZRANK', KEYS[2], member)
"""

# KEYS: hash, zset, ready. ARGV: user, member. -> the 0-based rank ``member`` will have once
# applied (the user's present member not counted), false when the index is not ready
RANK_OF = """
if redis.call('EXISTS', KEYS[3]) == 0 then return false end
local rank = redis.call('ZLEXCOUNT', KEYS[2], '-', '(' .. ARGV[2])
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local old = string.sub(cur, string.find(cur, '|', 1, true) + 1)
  local old_rank = old ~= '' and redis.call('ZRANK', KEYS[2], old)
  if old_rank and old_rank < rank then rank = rank - 1 end
end
return rank
"""

# KEYS: hash, zset, ready. ARGV: user, the first 8 bytes (the score) of the member a submission
# would give. -> {member, 0-based rank} of the user's entry when that score would not be better
# (it sorts after or level with the entry's), false when it would or the index cannot tell
# (not ready, no entry, a removed entry). Bytes are compared one by one: Lua's string order
# follows the C locale's collation, not memcmp.
UNLESS_BETTER = """
if redis.call('EXISTS', KEYS[3]) == 0 then return false end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
local member = string.sub(cur, string.find(cur, '|', 1, true) + 1)
if member == '' then return false end
for i = 1, 8 do
  local new, old = string.byte(ARGV[2], i), string.byte(member, i)
  if new < old then return false end
  if new > old then break end
end
return {member, redis.call('ZRANK', KEYS[2], member)}
"""

# The names (info) of ranked members: their user id is the member's last 16 bytes.
NAMES_OF = """
local function names_of(key, members)
  if #members == 0 then return {} end
  local users = {}
  for i, m in ipairs(members) do users[i] = string.sub(m, 17, 32) end
  return redis.call('HMGET', key, unpack(users))
end
"""

# KEYS: zset, ready, names. ARGV: start, stop. -> {members, infos}, or false when the index is
# not ready
RANGE = (
    NAMES_OF
    + """
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local members = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2])
return {members, names_of(KEYS[3], members)}
"""
)

# KEYS: hash, zset, ready, names. ARGV: user, radius. -> {first rank, members, infos}, {-1} when
# unranked, false when the index is not ready
AROUND = (
    NAMES_OF
    + """
if redis.call('EXISTS', KEYS[3]) == 0 then return false end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {-1} end
local member = string.sub(cur, string.find(cur, '|', 1, true) + 1)
if member == '' then return {-1} end
local rank = redis.call('ZRANK', KEYS[2], member)
local first = math.max(0, rank - tonumber(ARGV[2]))
local members = redis.call('ZRANGE', KEYS[2], first, rank + tonumber(ARGV[2]))
return {first, members, names_of(KEYS[4], members)}
"""
)

# KEYS: hash, ready. ARGV: users. -> their members ("" or false when absent), or false
MEMBERS = """
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local values = redis.call('HMGET', KEYS[1], unpack(ARGV))
for i, value in ipairs(values) do
  if value then values[i] = string.sub(value, string.find(value, '|', 1, true) + 1) end
end
return values
"""


@dataclass(frozen=True)
class Placing:
    """One row of a board as the index holds it; ``rank`` is 1-based."""

    rank: int
    user_id: uuid.UUID
    score: int


def encode_info(display_name: str, metadata: dict[str, Any] | None) -> bytes:
    """What a read shows beside a rank, as the names hash holds it."""
    try:
        return orjson.dumps([display_name, metadata])
    except TypeError:  # an integer beyond 64 bits in metadata: orjson would read it as a float
        return b"J" + json.dumps([display_name, metadata]).encode()


def decode_info(info: bytes) -> tuple[str, dict[str, Any] | None]:
    name, metadata = json.loads(info[1:]) if info[:1] == b"J" else orjson.loads(info)
    return name, metadata


# A page of a board: its placings and, for each, the cached info (None when not cached).
Ranked = tuple[list[Placing], list[bytes | None]]


@dataclass(frozen=True)
class Board:
    """One sorted set: a season's only board, or one region of a regional season."""

    season: uuid.UUID
    region: str
    descending: bool

    @property
    def tag(self) -> str:
        return f"pp:{{lb:{self.season}}}"

    @property
    def zset(self) -> str:
        return f"{self.tag}:z:{self.region}"

    @property
    def hash(self) -> str:
        return f"{self.tag}:h:{self.region}"

    @property
    def ready(self) -> str:
        return f"{self.tag}:ready"

    @property
    def names(self) -> str:
        return f"{self.tag}:n"

    def member(self, *, user_id: uuid.UUID, score: int, reached_at: datetime) -> bytes:
        ordered = score - SCORE_MIN  # 0 .. 2**64 - 1, in score order
        if self.descending:
            ordered = 2**64 - 1 - ordered
        micros = (reached_at - EPOCH) // MICROSECOND
        return struct.pack(">QQ", ordered, micros) + user_id.bytes

    def placing(self, rank: int, member: bytes) -> Placing:
        ordered = struct.unpack(">Q", member[:8])[0]
        if self.descending:
            ordered = 2**64 - 1 - ordered
        return Placing(rank=rank, user_id=uuid.UUID(bytes=member[16:32]), score=ordered + SCORE_MIN)


@dataclass(frozen=True)
class Change:
    """What PostgreSQL now holds for one entry; ``score`` None means it is off the board."""

    user_id: uuid.UUID
    version: int
    score: int | None
    reached_at: datetime | None
    info: bytes | None = None  # encode_info(...) for the names hash, None leaves it as is


class LeaderboardIndex:
    def __init__(self, redis: Redis, jobs: Jobs, db: Database) -> None:
        self.redis = redis
        self.jobs = jobs
        self.db = db  # where a write the index missed is recorded (lifecycle.mark_index_stale)
        self.seasons = SeasonCache()  # per app, so tests (one app each) never share copies
        self._apply = redis.register_script(APPLY)
        self._range = redis.register_script(RANGE)
        self._around = redis.register_script(AROUND)
        self._members = redis.register_script(MEMBERS)
        self._rank_of = redis.register_script(RANK_OF)
        self._unless_better = redis.register_script(UNLESS_BETTER)

    def apply(self, board: Board, change: Change) -> int | None:
        """Record ``change`` unless a newer one is there; the entry's 1-based rank after it,
        None when the index is not ready (or the entry is off the board)."""
        rank = self._apply(keys=self._keys(board), args=self._args(board, change))
        return None if rank is None else rank + 1

    def rank_of(self, board: Board, change: Change) -> int | None:
        """The 1-based rank ``change`` will give once applied, without applying it (a write
        applied after its commit answers with this); None when the index is not ready or Redis
        is unreachable."""
        args = self._args(board, change)
        rank = self._read(self._rank_of, keys=self._keys(board)[:3], args=[args[0], args[2]])
        return None if rank is None else rank + 1

    def standing_unless_better(
        self, board: Board, user_id: uuid.UUID, score: int
    ) -> Placing | None:
        """The user's placing when ``score`` would not beat it (a ``best`` submission that
        changes nothing), in one round trip; None when it would, when the user has no entry,
        or when the index cannot tell (not ready, Redis unreachable): then write."""
        prefix = board.member(user_id=user_id, score=score, reached_at=EPOCH)[:8]
        found = self._read(
            self._unless_better, keys=self._keys(board)[:3], args=[user_id.bytes, prefix]
        )
        if found is None:
            return None
        member, rank = found
        return board.placing(rank + 1, member)

    def apply_all(self, changes: Sequence[tuple[Board, Change]]) -> list[int | None]:
        """``apply`` for many boards and entries in one round trip; their 1-based ranks."""
        if not changes:
            return []
        try:
            ranks = self._apply_all(changes)
        except NoScriptError:  # Redis restarted: load the script again, then once more
            self._apply.sha = self.redis.script_load(APPLY)
            ranks = self._apply_all(changes)
        return [None if rank is None else rank + 1 for rank in ranks]

    def _apply_all(self, changes: Sequence[tuple[Board, Change]]) -> list[int | None]:
        # EVALSHA itself: a pipeline given the Script object asks SCRIPT EXISTS first, which is
        # one more round trip per batch. Running a change twice is harmless (versions). Sent as
        # a raw command because a Redis Cluster pipeline refuses ``evalsha()`` but routes the
        # command by its keys (one board's keys share a slot).
        pipe = self.redis.pipeline(transaction=False)
        for board, change in changes:
            keys = self._keys(board)
            pipe.execute_command(
                "EVALSHA", self._apply.sha, len(keys), *keys, *self._args(board, change)
            )
        return pipe.execute()

    def apply_many(self, board: Board, changes: Iterable[Change]) -> None:
        self.apply_all([(board, change) for change in changes])

    def top(self, board: Board, *, offset: int, limit: int) -> Ranked | None:
        """A page of the board with the cached infos of its players (None where missing); None
        when the index is not ready or Redis is unreachable."""
        found = self._read(
            self._range,
            keys=[board.zset, board.ready, board.names],
            args=[offset, offset + limit - 1],
        )
        if found is None:
            return None
        members, infos = found
        return [board.placing(offset + i + 1, m) for i, m in enumerate(members)], infos

    def around(self, board: Board, user_id: uuid.UUID, *, radius: int) -> Ranked | None:
        """The entry and ``radius`` neighbours each side; ([], []) when it is not ranked."""
        found = self._read(self._around, keys=self._keys(board), args=[user_id.bytes, radius])
        if found is None:
            return None
        if found[0] == -1:
            return [], []
        first, members, infos = found
        return [board.placing(first + i + 1, m) for i, m in enumerate(members)], infos

    def remember_names(self, board: Board, infos: dict[uuid.UUID, bytes]) -> None:
        """Fill missing fields of the names hash (a concurrent submission's newer one wins)."""
        pipe = self.redis.pipeline(transaction=False)
        for user_id, info in infos.items():
            pipe.hsetnx(board.names, user_id.bytes, info)
        pipe.expire(board.names, NAMES_SECONDS, nx=True)
        try:
            pipe.execute()
        except RedisError as error:  # a cache: the next read loads them again
            degraded("leaderboard_index", error)

    def members(self, board: Board, user_ids: Sequence[uuid.UUID]) -> list[bytes] | None:
        """The current members of ``user_ids`` (absent ones left out), None when not ready."""
        found = self._read(
            self._members, keys=[board.hash, board.ready], args=[u.bytes for u in user_ids]
        )
        if found is None:
            return None
        return [m for m in found if m]

    @staticmethod
    def _read(script: Any, **call: Any) -> Any:
        """Run a read script; None (as for an index not ready) when Redis is unreachable."""
        try:
            return script(**call)
        except RedisError as error:
            degraded("leaderboard_index", error)
            return None

    # Rebuild -------------------------------------------------------------------------------

    def is_ready(self, season: uuid.UUID) -> bool:
        return bool(self.redis.exists(Board(season, "", True).ready))

    def schedule_rebuild(self, session: Session, season: uuid.UUID) -> None:
        """The index of ``season`` is missing: have one job rebuild it (once this unit of
        work commits), however many requests notice. Without Redis there is nothing to rebuild
        into yet: the first read after it returns schedules the job."""
        tag = Board(season, "", True).tag
        try:
            scheduled = self.redis.set(f"{tag}:rebuild", 1, nx=True, ex=REBUILD_LOCK_SECONDS)
        except RedisError as error:
            degraded("leaderboard_index", error)
            return
        if scheduled:
            self.jobs.enqueue_after_commit(
                session,
                "leaderboard_update",
                "workers.leaderboards.rebuild_index",
                str(season),
                job_id=f"lb-rebuild-{season}",
            )

    def lock_rebuild(self, season: uuid.UUID) -> bool:
        tag = Board(season, "", True).tag
        return bool(self.redis.set(f"{tag}:lock", 1, nx=True, ex=REBUILD_LOCK_SECONDS))

    def finish_rebuild(self, season: uuid.UUID) -> None:
        tag = Board(season, "", True).tag
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(f"{tag}:ready", 1)
        pipe.delete(f"{tag}:lock", f"{tag}:rebuild")
        pipe.execute()

    def clear(self, season: uuid.UUID, regions: Iterable[str]) -> None:
        """Empty a season's boards (its live board was reset); the empty index stays ready."""
        tag = Board(season, "", True).tag
        keys = [k for region in regions for k in (f"{tag}:z:{region}", f"{tag}:h:{region}")]
        keys.append(f"{tag}:n")
        pipe = self.redis.pipeline(transaction=True)
        if keys:
            pipe.delete(*keys)
        pipe.set(f"{tag}:ready", 1)
        pipe.execute()

    def mark_ready_after_commit(self, session: Session, season: uuid.UUID) -> None:
        """A new season's empty index is complete once the season exists."""
        after_commit(session, lambda: self._mark_ready(season))

    def _mark_ready(self, season: uuid.UUID) -> None:
        try:
            self.redis.set(Board(season, "", True).ready, 1)
        except RedisError as error:  # not ready: read from PostgreSQL, rebuilt (empty) later
            degraded("leaderboard_index", error)

    def drop(self, season: uuid.UUID) -> None:
        """Delete every key of a season's index (it missed writes): reads go to PostgreSQL
        until a rebuild has loaded it again."""
        keys = list(self.redis.scan_iter(match=f"{Board(season, '', True).tag}:*", count=1000))
        if keys:
            self.redis.delete(*keys)

    def release_rebuild(self, season: uuid.UUID) -> None:
        tag = Board(season, "", True).tag
        self.redis.delete(f"{tag}:lock", f"{tag}:rebuild")

    @staticmethod
    def _keys(board: Board) -> list[str]:
        return [board.hash, board.zset, board.ready, board.names]

    @staticmethod
    def _args(board: Board, change: Change) -> list[object]:
        member = (
            b""
            if change.score is None
            else board.member(
                user_id=change.user_id, score=change.score, reached_at=change.reached_at
            )
        )
        info = b"" if change.info is None else change.info
        return [change.user_id.bytes, change.version, member, info, NAMES_SECONDS]
