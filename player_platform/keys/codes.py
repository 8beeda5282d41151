"""Key codes: the format each platform accepts, and the one way a code is sealed for storage.

A code is normalised (trimmed; Steam's upper-cased) before anything else, so the keyed hash
that de-duplicates the warehouse sees one spelling of it. The plaintext leaves this module
only sealed; ``mask`` is what lists, logs and exports show.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from player_platform.config import ConfigError
from player_platform.keys.models import KEY_PLATFORMS
from player_platform.security.vault import Vault

# Steam: three or five groups of five letters and digits.
STEAM_FORMAT = r"^[A-Z0-9]{5}(-[A-Z0-9]{5}){2}$|^[A-Z0-9]{5}(-[A-Z0-9]{5}){4}$"
# Other platforms, until PP_KEYS_FORMATS says better: letters, digits and dashes.
DEFAULT_FORMAT = r"^[A-Za-z0-9][A-Za-z0-9-]{3,127}$"
HINT_LENGTH = 5


@dataclass(frozen=True)
class Formats:
    """The pattern a code of each platform must match (PP_KEYS_FORMATS overrides them)."""

    patterns: dict[str, re.Pattern[str]]

    @classmethod
    def from_setting(cls, spec: str) -> Formats:
        patterns = {name: re.compile(DEFAULT_FORMAT) for name in KEY_PLATFORMS}
        patterns["steam"] = re.compile(STEAM_FORMAT)
        for item in filter(None, (part.strip() for part in spec.split(";"))):
            platform, _, pattern = item.partition("=")
            if platform.strip() not in KEY_PLATFORMS:
                raise ConfigError(f"PP_KEYS_FORMATS names an unknown platform {platform!r}")
            try:
                patterns[platform.strip()] = re.compile(pattern.strip())
            except re.error as error:
                raise ConfigError(f"PP_KEYS_FORMATS: bad pattern for {platform}: {error}") from None
        return cls(patterns)

    def check(self, platform: str, code: str) -> str | None:
        """Why ``code`` (normalised) is not a ``platform`` key, or None when it is one."""
        if not code:
            return "empty"
        if not self.patterns[platform].match(code):
            return f"not a {platform} key format"
        return None


def normalise(platform: str, raw: str) -> str:
    code = raw.strip()
    return code.upper() if platform == "steam" else code


def mask(hint: str) -> str:
    """What a list shows of a key: its last characters only."""
    return f"*****-{hint}"


@dataclass(frozen=True)
class SealedCode:
    id: uuid.UUID
    code_hash: str
    sealed_code: str
    vault_kid: str
    hint: str


def seal(vault: Vault, code: str, *, key_id: uuid.UUID | None = None) -> SealedCode:
    """A normalised code ready to store: sealed under the current vault key, bound to its row
    id (the AES-GCM associated data), hashed for de-duplication."""
    key_id = key_id or uuid.uuid4()
    return SealedCode(
        id=key_id,
        code_hash=vault.keyed_hash(f"game-key:{code}"),
        sealed_code=vault.seal(code, context=context(key_id)),
        vault_kid=vault.current_kid,
        hint=code[-HINT_LENGTH:],
    )


def context(key_id: uuid.UUID) -> str:
    """The associated data a key's code is sealed with: a sealed code copied onto another row
    does not open."""
    return f"game-key:{key_id}"
