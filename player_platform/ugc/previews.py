"""What a moderator sees of an archive (map, mod, bundle) without downloading it: the first
members of its zip listing, read from object storage by ranged reads.

A zip's listing (the central directory) sits at its end: zipfile seeks there through a
read-only file over ``Storage.read_range``. Every byte fetched counts against a budget; an
archive whose listing needs more than the budget is "too large to list", never read whole.
Nothing is decompressed. Names are returned as they are; the template escapes them.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from player_platform.errors import NotFound
from storage import Storage

LISTING_MAX_BYTES = 1024 * 1024  # fetched per preview, at most
LISTING_MAX_MEMBERS = 100  # shown per preview


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    compressed_size: int
    is_dir: bool


@dataclass(frozen=True)
class ArchiveListing:
    members: list[Member]  # the first ``LISTING_MAX_MEMBERS``
    total: int  # members in the archive
    problem: str | None = None  # why there is no listing


class BudgetExceeded(Exception):
    """The listing needs more bytes than a preview may fetch."""


class RangedObject(io.RawIOBase):
    """A seekable, read-only view of a stored object, fetched by ranges within a budget."""

    def __init__(self, storage: Storage, key: str, *, size: int, budget: int) -> None:
        self.storage, self.key, self.size, self.budget = storage, key, size, budget
        self.position = 0
        self.fetched = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]  # io's signature
        length = min(len(buffer), max(0, self.size - self.position))
        if length == 0:
            return 0
        if self.fetched + length > self.budget:
            raise BudgetExceeded
        data = self.storage.read_range(self.key, start=self.position, length=length)
        self.fetched += len(data)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def archive_listing(
    storage: Storage,
    *,
    key: str,
    max_bytes: int = LISTING_MAX_BYTES,
    max_members: int = LISTING_MAX_MEMBERS,
) -> ArchiveListing:
    """The first ``max_members`` members of the zip at ``key``, fetching at most
    ``max_bytes`` of it; a problem (missing, not a zip, listing too large) instead."""
    stored = storage.head(key)
    if stored is None:
        return ArchiveListing([], 0, "The file is not in storage.")
    source = RangedObject(storage, key, size=stored.size, budget=max_bytes)
    try:
        with zipfile.ZipFile(io.BufferedReader(source, buffer_size=64 * 1024)) as archive:
            infos = archive.infolist()
    except BudgetExceeded:
        return ArchiveListing([], 0, f"The listing is larger than {max_bytes} bytes.")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, NotFound) as error:
        return ArchiveListing([], 0, f"Not a readable zip archive: {error}")
    members = [
        Member(i.filename, i.file_size, i.compress_size, i.is_dir()) for i in infos[:max_members]
    ]
    return ArchiveListing(members, len(infos))
