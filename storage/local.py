"""Objects as files under one directory, for a laptop or a single host.

``objects/<key>`` holds the bytes and ``meta/<key>`` a small JSON document (content type, etag),
so no key can collide with another's metadata. Presigned URLs point at blueprints/files.py and
carry an HMAC of what they allow.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import shutil
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

from player_platform.errors import NotFound
from storage import ObjectInfo, PresignedRequest, validate_expires_in, validate_key

DEFAULT_CONTENT_TYPE = "application/octet-stream"
# A key "a" when "a/b" exists (or the reverse) shows up as one of these.
MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


class LocalStorage:
    supports_multipart = False  # one signed PUT per file, however large

    def __init__(self, root: str | os.PathLike[str], *, secret: str, public_base_url: str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.public_base_url = public_base_url.rstrip("/")
        # A key of its own, so these signatures mean nothing anywhere else the secret is used.
        self._signing_key = hmac.digest(secret.encode(), b"player-platform/storage-url", "sha256")

    def path(self, key: str) -> Path:
        return self.root / "objects" / validate_key(key)

    def _meta_path(self, key: str) -> Path:
        return self.root / "meta" / validate_key(key)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        meta = {"content_type": content_type, "etag": etag}
        _write_atomically(self._meta_path(key), json.dumps(meta).encode())
        _write_atomically(self.path(key), data)

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except MISSING:
            raise NotFound(f"No object {key!r}.", code="object_not_found") from None

    def read_range(self, key: str, *, start: int, length: int) -> bytes:
        try:
            with self.path(key).open("rb") as source:
                source.seek(start)
                return source.read(max(0, length))
        except MISSING:
            raise NotFound(f"No object {key!r}.", code="object_not_found") from None

    def download(self, key: str, into: BinaryIO) -> None:
        try:
            with self.path(key).open("rb") as source:
                shutil.copyfileobj(source, into, 1024 * 1024)
        except MISSING:
            raise NotFound(f"No object {key!r}.", code="object_not_found") from None

    def copy(self, source: str, target: str) -> None:
        info = self.head(source)
        if info is None:
            raise NotFound(f"No object {source!r}.", code="object_not_found")
        self.put(target, self.get(source), content_type=info.content_type)

    def head(self, key: str) -> ObjectInfo | None:
        try:
            status = self.path(key).stat()
        except MISSING:
            return None
        if not stat.S_ISREG(status.st_mode):
            return None
        meta = self._read_meta(key)
        return ObjectInfo(
            key=key,
            size=status.st_size,
            content_type=meta.get("content_type", DEFAULT_CONTENT_TYPE),
            etag=meta.get("etag", ""),
        )

    def _read_meta(self, key: str) -> dict[str, str]:
        try:
            return json.loads(self._meta_path(key).read_bytes())
        except MISSING:  # only while a put or delete of the key is half done
            return {}

    def delete(self, key: str) -> None:
        for path in (self.path(key), self._meta_path(key)):
            with contextlib.suppress(*MISSING):
                path.unlink()

    def presigned_put(
        self,
        key: str,
        *,
        content_type: str,
        expires_in: int,
        content_length: int | None = None,
        sha256: str | None = None,
    ) -> PresignedRequest:
        expires = _expires(expires_in)
        headers = {"Content-Type": content_type}
        bound = {"length": "" if content_length is None else str(content_length)}
        bound["sha256"] = sha256 or ""
        if content_length is not None:
            headers["Content-Length"] = str(content_length)
        return PresignedRequest(
            url=self._url(key, "PUT", expires, content_type=content_type, bound=bound),
            method="PUT",
            headers=headers,
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    def presigned_get(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        bound = {"filename": filename or ""}
        return self._url(key, "GET", _expires(expires_in), bound=bound)

    def _url(
        self, key: str, method: str, expires: int, *, bound: dict[str, str], content_type: str = ""
    ) -> str:
        """``bound``: what the URL binds besides key, method and type (download filename,
        upload length and SHA-256); empty values are neither signed nor in the URL."""
        params: dict[str, str | int] = {"expires": expires, "method": method}
        params.update({name: value for name, value in bound.items() if value})
        params["sig"] = self._sign(key, method, expires, content_type, bound)
        return f"{self.public_base_url}/files/{quote(validate_key(key))}?{urlencode(params)}"

    def _sign(
        self, key: str, method: str, expires: int, content_type: str, bound: dict[str, str]
    ) -> str:
        fields = [method, key, str(expires), content_type]
        fields += [f"{name}={value}" for name, value in sorted(bound.items()) if value]
        return hmac.new(self._signing_key, "\n".join(fields).encode(), "sha256").hexdigest()

    def verify_signature(
        self,
        key: str,
        method: str,
        expires: int,
        content_type: str,
        sig: str,
        now: datetime,
        *,
        bound: dict[str, str] | None = None,
    ) -> bool:
        if expires < now.timestamp():
            return False
        expected = self._sign(key, method, expires, content_type, bound or {})
        # Bytes: compare_digest refuses str with non-ASCII characters, and `sig` is user input.
        return hmac.compare_digest(expected.encode(), sig.encode())

    def check(self) -> None:
        if not (self.root.is_dir() and os.access(self.root, os.W_OK)):
            raise PermissionError(f"storage directory {self.root} is missing or not writable")


def _expires(expires_in: int) -> int:
    return int(datetime.now(UTC).timestamp()) + validate_expires_in(expires_in)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
