"""Opaque keyset cursors: lists are ordered by (created_at, id) and resume after a position."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from player_platform.errors import Invalid


@dataclass(frozen=True)
class Position:
    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Position:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            created_at, id_ = json.loads(raw)
            position = cls(datetime.fromisoformat(created_at), uuid.UUID(id_))
        except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
            raise Invalid(
                "The cursor is not one this API gave out.",
                code="invalid_cursor",
                errors={"cursor": ["invalid"]},
            ) from None
        if position.created_at.tzinfo is None:
            raise Invalid(
                "The cursor is not one this API gave out.",
                code="invalid_cursor",
                errors={"cursor": ["invalid"]},
            )
        return position


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
