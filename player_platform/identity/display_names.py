"""Display names, shown to everyone on public boards: what one may hold.

NFKC-normalised (fullwidth and ligature look-alikes fold to their plain letters) and trimmed;
no character that is invisible or reorders text, so no name can pass for another's: control
(Cc), format (Cf: bidirectional overrides and isolates, zero-width spaces and joiners, the BOM),
private-use (Co), surrogate (Cs) and unassigned (Cn) characters, and line/paragraph separators
(Zl, Zp). Names a player sends are refused with the reason; names a provider sends (a Steam
persona name) are cleaned, since the player cannot fix them here."""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 64
FALLBACK = "Player"
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def normalise(name: str) -> str:
    """``name`` as it is kept; ValueError (its message for the player) when it cannot be."""
    kept = unicodedata.normalize("NFKC", name).strip()
    for character in kept:
        if unicodedata.category(character) in REFUSED_CATEGORIES:
            raise ValueError(
                f"A display name may not hold control or invisible characters "
                f"(U+{ord(character):04X} {unicodedata.name(character, 'unnamed')})."
            )
    if not kept:
        raise ValueError("A display name needs at least one visible character.")
    if len(kept) > MAX_LENGTH:
        raise ValueError(f"A display name is at most {MAX_LENGTH} characters.")
    return kept


def clean(name: str | None) -> str:
    """A provider's name made fit to keep: refused characters dropped, cut to length."""
    text = unicodedata.normalize("NFKC", name or "")
    visible = "".join(c for c in text if unicodedata.category(c) not in REFUSED_CATEGORIES)
    return visible.strip()[:MAX_LENGTH].strip() or FALLBACK
