"""Object storage behind one small interface: S3 (boto3) or a directory on local disk.

Keys are relative paths such as ``ugc/map/{ugc_id}/{filename}``. Clients upload and download
through presigned URLs, so file bytes never pass through an API worker.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol
from urllib.parse import quote

from player_platform.errors import Invalid

MAX_KEY_BYTES = 1024
MAX_EXPIRES_IN = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    etag: str


@dataclass(frozen=True)
class PresignedRequest:
    url: str
    method: str
    headers: dict[str, str]  # the client must send exactly these
    expires_at: datetime  # UTC


class Storage(Protocol):
    # S3 takes large files in parts (one presigned URL per part); local disk takes one PUT.
    supports_multipart: bool

    def put(self, key: str, data: bytes, *, content_type: str) -> None: ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises NotFound when there is none."""
        ...

    def download(self, key: str, into: BinaryIO) -> None:
        """Write the object's bytes into ``into`` without holding them all in memory; raises
        NotFound when there is none."""
        ...

    def read_range(self, key: str, *, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from offset ``start`` (fewer at the end of the object);
        raises NotFound when there is none."""
        ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def copy(self, source: str, target: str) -> None:
        """Copy an object to another key (quarantine)."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing one is not an error."""
        ...

    def presigned_put(
        self,
        key: str,
        *,
        content_type: str,
        expires_in: int,
        content_length: int | None = None,
        sha256: str | None = None,
    ) -> PresignedRequest:
        """A URL that accepts one upload of ``content_type`` (signed) until it expires; with
        ``content_length`` and ``sha256`` (hex) only a body of that length and digest."""
        ...

    def start_multipart(self, key: str, *, content_type: str) -> str:
        """Begin a multipart upload; returns its upload id (S3 only)."""
        ...

    def presigned_part(
        self, key: str, *, upload_id: str, part_number: int, content_length: int, expires_in: int
    ) -> PresignedRequest:
        """A URL for one part of a multipart upload, bound to its length (S3 only)."""
        ...

    def finish_multipart(self, key: str, *, upload_id: str, part_sizes: list[int]) -> None:
        """Join the uploaded parts (``part_sizes``: the expected length of each, in order) into
        the object. InvalidState ``upload_missing`` when the upload is unknown or has no part,
        ``upload_incomplete`` when a part is missing or of another length (the upload stays
        open: the client sends the part again and completes again)."""
        ...

    def abort_multipart(self, key: str, *, upload_id: str) -> None: ...

    def presigned_get(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        """A download URL; with ``filename`` the download is an attachment of that name."""
        ...

    def check(self) -> None:
        """Raise when the store cannot be reached (readiness probe)."""
        ...


def validate_key(key: str) -> str:
    if not key or len(key.encode()) > MAX_KEY_BYTES:
        raise Invalid(f"An object key has 1 to {MAX_KEY_BYTES} bytes.", code="invalid_key")
    if key.startswith("/") or any(part in ("", ".", "..") for part in key.split("/")):
        raise Invalid(
            "An object key is a relative path without empty, '.' or '..' segments.",
            code="invalid_key",
        )
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        raise Invalid("An object key has no control characters.", code="invalid_key")
    return key


def safe_filename(filename: str) -> str:
    """A file name fit for the last segment of a key: the last path segment of ``filename``,
    NFC, with anything but letters, digits, '.', '_', '-' as '_' (at most 100 characters)."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).lstrip(".")[-100:].strip("_")
    return name or "file"


def validate_expires_in(expires_in: int) -> int:
    if not 1 <= expires_in <= MAX_EXPIRES_IN:
        raise ValueError(f"expires_in must be 1..{MAX_EXPIRES_IN} seconds, not {expires_in}")
    return expires_in


def sha256_base64(hex_digest: str) -> str:
    """The ``x-amz-checksum-sha256`` form (base64 of the digest) of a hex SHA-256."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def attachment_disposition(filename: str) -> str:
    """Content-Disposition for a download: an ASCII fallback name plus the exact UTF-8 one."""
    fallback = "".join(
        char if char.isascii() and char.isprintable() and char not in '"\\' else "_"
        for char in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def open_storage(
    url: str,
    *,
    secret: str,
    public_base_url: str,
    s3_endpoint_url: str | None,
    s3_region: str,
) -> Storage:
    """``s3://bucket[/prefix]`` or ``file://path`` (absolute, or relative to the working dir)."""
    scheme, sep, rest = url.partition("://")
    # Backends import lazily: they import this module, and local disk needs no boto3.
    if scheme == "s3" and sep and rest:
        from storage.s3 import S3Storage

        bucket, _, prefix = rest.partition("/")
        return S3Storage.connect(
            bucket, prefix=prefix, endpoint_url=s3_endpoint_url, region=s3_region
        )
    if scheme == "file" and sep and rest:
        from storage.local import LocalStorage

        return LocalStorage(rest, secret=secret, public_base_url=public_base_url)
    raise ValueError(f"storage URL must be s3://bucket[/prefix] or file://path, not {url!r}")
