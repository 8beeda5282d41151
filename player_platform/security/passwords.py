"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile).

The parameters are process-wide: ``configure`` is called once from the Platform with
``Settings.password_hash_cost``. ``cheapest`` exists for test suites, which hash hundreds of
passwords; production refuses it (``Settings.check``).
"""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

# By name; config.PASSWORD_COSTS lists the same names for Settings.check.
COSTS = {"standard": profiles.RFC_9106_LOW_MEMORY, "cheapest": profiles.CHEAPEST}
_DUMMY_PASSWORD = "player-platform-timing-equaliser"


class _Hashing:
    def __init__(self, cost: str) -> None:
        self.cost = cost
        self.hasher = PasswordHasher.from_parameters(COSTS[cost])
        # Verifying against this keeps the time of "no such account" equal to "wrong password".
        self.dummy_hash = self.hasher.hash(_DUMMY_PASSWORD)


_hashing = _Hashing("standard")


def configure(cost: str) -> None:
    """Use the argon2 parameters named ``cost`` (a key of ``COSTS``) from now on."""
    global _hashing
    if cost != _hashing.cost:
        _hashing = _Hashing(cost)


def hash_password(password: str) -> str:
    return _hashing.hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hashing = _hashing
    try:
        return (
            hashing.hasher.verify(password_hash or hashing.dummy_hash, password)
            and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hashing.hasher.check_needs_rehash(password_hash)
