"""Request fields more than one schema takes, so each rule has one home."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from player_platform.identity import display_names


class DisplayName(fields.String):
    """A player's public name, normalised (NFKC, trimmed) or refused with the reason."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            return display_names.normalise(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as error:
            raise ValidationError(str(error)) from None
