"""A small clamd client: INSTREAM over TCP (``tcp://host:port``) or a unix socket
(``unix:///path``), as clamd's own protocol document describes. The PyPI ``clamd`` package is
unmaintained since 2014; the protocol is a few lines.

    zINSTREAM\\0  then chunks <uint32 big-endian length><bytes>, ended by a zero length
    reply: "stream: OK\\0" | "stream: <Signature> FOUND\\0" | "<message> ERROR\\0"
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

CHUNK_BYTES = 64 * 1024


class ClamavError(Exception):
    """clamd could not be reached or could not scan: try again later."""


class ClamavTooLarge(ClamavError):
    """The stream is longer than clamd's StreamMaxLength: it will never scan this file."""


@dataclass(frozen=True)
class Verdict:
    infected: bool
    signature: str | None = None


class Clamd:
    def __init__(self, url: str, *, timeout: float = 120.0) -> None:
        parts = urlsplit(url)
        if parts.scheme == "tcp" and parts.hostname and parts.port:
            self.address: tuple[str, int] | str = (parts.hostname, parts.port)
            self.family = socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET
        elif parts.scheme == "unix" and parts.path:
            self.address, self.family = parts.path, socket.AF_UNIX
        else:
            raise ValueError(f"ClamAV URL must be tcp://host:port or unix:///path, not {url!r}")
        self.timeout = timeout

    def ping(self) -> bool:
        return self._command(b"zPING\0", ()) == "PONG"

    def scan(self, chunks: Iterable[bytes]) -> Verdict:
        reply = self._command(b"zINSTREAM\0", chunks)
        if reply.endswith("ERROR"):
            if "size limit exceeded" in reply:
                raise ClamavTooLarge(reply)
            raise ClamavError(reply)
        if reply.endswith(" FOUND"):
            signature = reply.removeprefix("stream: ").removesuffix(" FOUND")
            return Verdict(infected=True, signature=signature)
        if reply.endswith(" OK"):
            return Verdict(infected=False)
        raise ClamavError(f"unexpected clamd reply {reply!r}")

    def _command(self, command: bytes, chunks: Iterable[bytes]) -> str:
        try:
            with socket.socket(self.family, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.address)
                sock.sendall(command)
                if command == b"zINSTREAM\0":
                    self._stream(sock, chunks)
                return _read_reply(sock)
        except OSError as error:
            raise ClamavError(f"clamd unreachable: {error}") from error

    @staticmethod
    def _stream(sock: socket.socket, chunks: Iterable[bytes]) -> None:
        try:
            for chunk in chunks:
                for start in range(0, len(chunk), CHUNK_BYTES):
                    piece = chunk[start : start + CHUNK_BYTES]
                    sock.sendall(struct.pack(">I", len(piece)) + piece)
            sock.sendall(struct.pack(">I", 0))
        except (BrokenPipeError, ConnectionResetError):
            pass  # clamd closes early after "size limit exceeded": its reply says so


def _read_reply(sock: socket.socket) -> str:
    reply = bytearray()
    while not reply.endswith(b"\0"):
        data = sock.recv(4096)
        if not data:
            break
        reply += data
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()
