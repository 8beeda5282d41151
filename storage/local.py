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
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from player_platform.errors import NotFound
from storage import ObjectInfo, PresignedRequest, validate_expires_in, validate_key

DEFAULT_CONTENT_TYPE = "application/octet-stream"
# A key "a" when "a/b" exists (or the reverse) shows up as one of these.
MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


class LocalStorage:
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

    def presigned_put(self, key: str, *, content_type: str, expires_in: int) -> PresignedRequest:
        expires = _expires(expires_in)
        return PresignedRequest(
            url=self._url(key, "PUT", expires, content_type=content_type),
            method="PUT",
            headers={"Content-Type": content_type},
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    def presigned_get(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        return self._url(key, "GET", _expires(expires_in), filename=filename or "")

    def _url(
        self, key: str, method: str, expires: int, *, content_type: str = "", filename: str = ""
    ) -> str:
        params: dict[str, str | int] = {"expires": expires, "method": method}
        if filename:
            params["filename"] = filename
        params["sig"] = self._sign(key, method, expires, content_type, filename)
        return f"{self.public_base_url}/files/{quote(validate_key(key))}?{urlencode(params)}"

    def _sign(self, key: str, method: str, expires: int, content_type: str, filename: str) -> str:
        message = "\n".join((method, key, str(expires), content_type, filename))
        return hmac.new(self._signing_key, message.encode(), "sha256").hexdigest()

    def verify_signature(
        self,
        key: str,
        method: str,
        expires: int,
        content_type: str,
        sig: str,
        now: datetime,
        *,
        filename: str = "",
    ) -> bool:
        if expires < now.timestamp():
            return False
        expected = self._sign(key, method, expires, content_type, filename)
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
