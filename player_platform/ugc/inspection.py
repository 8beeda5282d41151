"""Content checks that need no virus scanner: are the bytes what the item says they are?

- magic bytes against the declared type (a ``.png`` that is an ELF is refused);
- images decoded with Pillow under a pixel limit (decompression bombs);
- zip archives (maps, mods, bundles): member count, total uncompressed size, compression
  ratio, absolute or ``..`` member paths, links, encryption; every member's bytes checked like
  a file of its own (executables refused, an image member must be an image under the pixel
  limit) and nested zips inspected in turn, to a bounded depth.

Each problem is a Finding; any finding refuses the file.
"""

from __future__ import annotations

import io
import stat
import warnings
import zipfile
from dataclasses import asdict, dataclass
from typing import IO, Any

from PIL import Image

from player_platform.ugc.policy import ARCHIVE_MAX_DEPTH, ARCHIVE_TYPES, UgcPolicy

SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),  # RIFF....WEBP
    (b"ftyp", 4, "video/mp4"),
    (b"\x1a\x45\xdf\xa3", 0, "video/webm"),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"PK\x05\x06", 0, "application/zip"),  # an empty archive
    (b"\x7fELF", 0, "application/x-executable"),
    (b"MZ", 0, "application/x-executable"),  # PE (Windows)
    (b"\xcf\xfa\xed\xfe", 0, "application/x-executable"),  # Mach-O 64
    (b"\xce\xfa\xed\xfe", 0, "application/x-executable"),  # Mach-O 32
    (b"\xca\xfe\xba\xbe", 0, "application/x-executable"),  # Mach-O universal / Java class
    (b"#!", 0, "application/x-executable"),  # a script with an interpreter line
    (b"Rar!\x1a\x07", 0, "application/x-archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "application/x-archive"),
    (b"\x1f\x8b", 0, "application/x-archive"),  # gzip (and .tar.gz)
)
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "application/json"})
IMAGE_EXTENSIONS = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
RATIO_FLOOR_BYTES = 1024 * 1024  # small members compress oddly; judge the ratio above this
HEAD_BYTES = 16


@dataclass(frozen=True)
class Finding:
    scanner: str  # "clamav", "sha256", "blocklist", "type", "image", "archive"
    code: str
    detail: str
    member: str | None = None  # the path inside an archive ("a.zip/b/c.png")

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def sniff(head: bytes) -> str | None:
    for magic, offset, kind in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None


def inspect(
    file: IO[bytes], *, item_type: str, content_type: str, policy: UgcPolicy
) -> list[Finding]:
    """Every reason to refuse this file as an item of ``item_type`` declared ``content_type``."""
    file.seek(0)
    kind = sniff(file.read(HEAD_BYTES))
    file.seek(0)
    if content_type in TEXT_TYPES:
        return _inspect_text(file, kind)
    if kind != content_type:
        return [
            Finding(
                "type",
                "type_mismatch",
                f"declared {content_type}, the bytes are {kind or 'unknown'}",
            )
        ]
    if kind.startswith("image/"):
        return _inspect_image(file, policy=policy, member=None)
    if item_type in ARCHIVE_TYPES:
        return _inspect_archive(file, policy=policy, path="", depth=1)
    return []


def _inspect_text(file: IO[bytes], kind: str | None) -> list[Finding]:
    if kind is not None:
        return [Finding("type", "type_mismatch", f"declared text, the bytes are {kind}")]
    data = file.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [Finding("type", "not_text", "text must be UTF-8")]
    if "\x00" in text:
        return [Finding("type", "not_text", "text may not contain NUL characters")]
    return []


def _inspect_image(file: IO[bytes], *, policy: UgcPolicy, member: str | None) -> list[Finding]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                width, height = image.size
                if width * height > policy.max_pixels:
                    return [
                        Finding(
                            "image",
                            "too_many_pixels",
                            f"{width}x{height} is over the {policy.max_pixels}-pixel limit",
                            member,
                        )
                    ]
                image.load()  # decode it all: a truncated or malformed image fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        return [Finding("image", "too_many_pixels", str(error), member)]
    except Exception as error:  # Pillow raises many kinds for bad input
        return [Finding("image", "undecodable_image", f"{type(error).__name__}: {error}", member)]
    return []


def _inspect_archive(file: IO[bytes], *, policy: UgcPolicy, path: str, depth: int) -> list[Finding]:
    where = path or None
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, ValueError) as error:
        return [Finding("archive", "bad_archive", str(error), where)]
    with archive:
        members = archive.infolist()
        findings = _check_listing(members, policy=policy, path=path)
        if findings:
            return findings  # do not decompress an archive that already looks hostile
        for info in members:
            if not info.is_dir():
                findings += _inspect_member(archive, info, policy=policy, path=path, depth=depth)
    return findings


def _check_listing(
    members: list[zipfile.ZipInfo], *, policy: UgcPolicy, path: str
) -> list[Finding]:
    where = path or None
    if len(members) > policy.archive_max_members:
        return [
            Finding(
                "archive",
                "too_many_members",
                f"{len(members)} members, limit {policy.archive_max_members}",
                where,
            )
        ]
    total = sum(info.file_size for info in members)
    if total > policy.archive_max_bytes:
        return [
            Finding(
                "archive",
                "too_large_uncompressed",
                f"{total} bytes unpacked, limit {policy.archive_max_bytes}",
                where,
            )
        ]
    findings = []
    for info in members:
        name = path + info.filename
        findings += [
            Finding("archive", code, detail, name)
            for code, detail in _member_problems(info, policy)
        ]
    return findings


def _member_problems(info: zipfile.ZipInfo, policy: UgcPolicy) -> list[tuple[str, str]]:
    problems = []
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in name.split("/"):
        problems.append(("path_traversal", f"member path {info.filename!r} leaves the archive"))
    if stat.S_ISLNK(info.external_attr >> 16):
        problems.append(("link_member", "symbolic links are not allowed"))
    if info.flag_bits & 0x1:
        problems.append(("encrypted_member", "encrypted members cannot be scanned"))
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > policy.archive_max_ratio * max(
        info.compress_size, 1
    ):
        problems.append(
            (
                "compression_ratio",
                f"{info.file_size} bytes from {info.compress_size}: "
                f"over {policy.archive_max_ratio}:1",
            )
        )
    return problems


def _inspect_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, policy: UgcPolicy, path: str, depth: int
) -> list[Finding]:
    name = path + info.filename
    try:
        with archive.open(info) as source:
            head = source.read(HEAD_BYTES)
            kind = sniff(head)
            nested = kind is not None and (kind.startswith("image/") or kind == "application/zip")
            # Images and nested zips are read whole (sizes were checked); the rest is drained
            # so that a bad CRC or a lying header is noticed.
            data = head + source.read() if nested else _drain(source, head)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
        return [Finding("archive", "bad_member", str(error), name)]
    return _judge_member(data, kind, info=info, policy=policy, name=name, depth=depth)


def _drain(source: IO[bytes], head: bytes) -> bytes:
    while source.read(1024 * 1024):
        pass
    return head


def _judge_member(
    data: bytes,
    kind: str | None,
    *,
    info: zipfile.ZipInfo,
    policy: UgcPolicy,
    name: str,
    depth: int,
) -> list[Finding]:
    expected = IMAGE_EXTENSIONS.get("." + info.filename.rsplit(".", 1)[-1].lower())
    if kind == "application/x-executable":
        return [Finding("archive", "executable_member", "executables are not allowed", name)]
    if kind == "application/x-archive":
        return [
            Finding("archive", "uninspectable_archive", "only zip archives can be nested", name)
        ]
    if expected is not None and kind != expected:
        return [
            Finding(
                "type",
                "type_mismatch",
                f"named {expected}, the bytes are {kind or 'unknown'}",
                name,
            )
        ]
    if kind is not None and kind.startswith("image/"):
        return _inspect_image(io.BytesIO(data), policy=policy, member=name)
    if kind == "application/zip":
        if depth >= ARCHIVE_MAX_DEPTH:
            return [
                Finding(
                    "archive",
                    "nested_too_deep",
                    f"archives nested over {ARCHIVE_MAX_DEPTH} deep",
                    name,
                )
            ]
        return _inspect_archive(io.BytesIO(data), policy=policy, path=name + "/", depth=depth + 1)
    return []
