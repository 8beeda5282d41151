"""Ranged reads on both backends, and archive listings that read only the zip's end within a
byte budget (player_platform.ugc.previews)."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from player_platform.errors import NotFound
from player_platform.ugc.previews import RangedObject, archive_listing


def zip_of(members: dict[str, bytes], *, stored: bool = False) -> bytes:
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_read_range_returns_the_bytes_asked_for_and_fewer_at_the_end(backend):
    backend.storage.put("r/data.bin", bytes(range(256)) * 4, content_type="application/zip")
    assert backend.storage.read_range("r/data.bin", start=10, length=5) == bytes(range(10, 15))
    assert backend.storage.read_range("r/data.bin", start=1020, length=100) == bytes(
        range(252, 256)
    )
    assert backend.storage.read_range("r/data.bin", start=2000, length=10) == b""
    with pytest.raises(NotFound):
        backend.storage.read_range("r/missing.bin", start=0, length=10)


def test_a_large_archive_is_listed_from_its_end_only(backend):
    data = zip_of({"maps/big.bin": os.urandom(3 * 1024 * 1024), "readme.txt": b"hi"}, stored=True)
    backend.storage.put("r/big.zip", data, content_type="application/zip")
    source = RangedObject(backend.storage, "r/big.zip", size=len(data), budget=256 * 1024)
    with zipfile.ZipFile(io.BufferedReader(source, buffer_size=64 * 1024)) as archive:
        assert archive.namelist() == ["maps/big.bin", "readme.txt"]
    assert source.fetched <= 256 * 1024 < len(data)

    listing = archive_listing(backend.storage, key="r/big.zip", max_bytes=256 * 1024)
    assert listing.problem is None and listing.total == 2
    assert [(m.name, m.size) for m in listing.members] == [
        ("maps/big.bin", 3 * 1024 * 1024),
        ("readme.txt", 2),
    ]


def test_listings_are_cut_to_the_first_members_and_refused_beyond_the_budget(backend):
    many = zip_of({f"assets/{n:05d}-{'x' * 80}.txt": b"" for n in range(3000)})
    backend.storage.put("r/many.zip", many, content_type="application/zip")
    first = archive_listing(backend.storage, key="r/many.zip", max_members=25)
    assert first.total == 3000 and len(first.members) == 25
    assert first.members[0].name.startswith("assets/00000-")
    refused = archive_listing(backend.storage, key="r/many.zip", max_bytes=64 * 1024)
    assert refused.members == [] and "larger than 65536 bytes" in (refused.problem or "")


def test_what_is_not_a_zip_or_not_stored_has_a_problem_not_an_error(backend):
    backend.storage.put("r/not.zip", b"PK\x03\x04 but nothing else", content_type="application/zip")
    assert "Not a readable zip" in (archive_listing(backend.storage, key="r/not.zip").problem or "")
    missing = archive_listing(backend.storage, key="r/none.zip")
    assert missing.problem == "The file is not in storage."
