"""AES-256-GCM sealing of secrets at rest (game-key codes, TOTP seeds), with key ids for rotation.

A sealed value reads ``kid:base64(nonce || ciphertext)``; the first configured key seals, every
configured key opens, so keys rotate by prepending a new one.

``keyed_hash`` uses a key of its own (``hash_secret``: PP_KEY_HASH_SECRET, else PP_SECRET_KEY),
not a vault key: de-duplication compares hashes stored years apart, so the hash must not change
when the sealing keys rotate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from player_platform.config import ConfigError


class Vault:
    def __init__(self, spec: str, *, hash_secret: str) -> None:
        self._hash_key = hashlib.sha256(b"vault-hash:" + hash_secret.encode()).digest()
        self._keys: dict[str, AESGCM] = {}
        self._current = ""
        for item in filter(None, (part.strip() for part in spec.split(","))):
            kid, _, encoded = item.partition(":")
            key = base64.b64decode(encoded)
            if not kid or len(key) != 32:
                raise ConfigError("PP_KEY_VAULT_KEYS entries must be kid:base64 of 32 bytes")
            self._keys[kid] = AESGCM(key)
            if not self._current:
                self._current = kid
        if not self._keys:
            raise ConfigError("PP_KEY_VAULT_KEYS holds no key")

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self._current].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self._current}:{base64.b64encode(nonce + sealed).decode()}"

    @property
    def current_kid(self) -> str:
        """The id of the key that seals now (rotation re-seals whatever another key sealed)."""
        return self._current

    def open(self, sealed: str, *, context: str) -> str:
        kid, _, encoded = sealed.partition(":")
        raw = base64.b64decode(encoded)
        return self._keys[kid].decrypt(raw[:12], raw[12:], context.encode()).decode()

    def keyed_hash(self, value: str) -> str:
        """A stable keyed hash for de-duplicating secrets without storing them."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()
