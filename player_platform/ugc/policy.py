"""What the studio allows: sizes, quota, upload shape, auto-publishing and scan limits, read
once from Settings (PP_UGC_*)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from player_platform.config import ConfigError, Settings
from player_platform.ugc.models import TYPES

MiB = 1024**2
UNITS = {"": 1, "K": 1024, "M": MiB, "G": 1024**3}
# The content types each kind of item may declare (the scanner checks the bytes agree).
CONTENT_TYPES = {
    "image": ("image/png", "image/jpeg", "image/gif", "image/webp"),
    "video": ("video/mp4", "video/webm"),
    "text": ("text/plain", "text/markdown", "application/json"),
    "map": ("application/zip",),
    "mod": ("application/zip",),
    "bundle": ("application/zip",),
}
ARCHIVE_TYPES = frozenset({"map", "mod", "bundle"})
MIN_PART_BYTES = 16 * MiB  # S3 needs 5 MiB or more for every part but the last
MAX_PARTS = 10_000
ARCHIVE_MAX_DEPTH = 3  # a zip in a zip in a zip is inspected; one level more is refused


@dataclass(frozen=True)
class UgcPolicy:
    max_bytes: dict[str, int]
    quota_bytes: int
    multipart_threshold: int
    draft_ttl: timedelta
    auto_publish: frozenset[str]
    quarantine: bool
    max_pixels: int
    archive_max_members: int
    archive_max_bytes: int
    archive_max_ratio: int
    upload_url_seconds: int = 3600

    @classmethod
    def from_settings(cls, settings: Settings) -> UgcPolicy:
        auto = frozenset(t.strip() for t in settings.ugc_auto_publish.split(",") if t.strip())
        if unknown := auto - set(TYPES):
            raise ConfigError(f"PP_UGC_AUTO_PUBLISH names unknown types: {sorted(unknown)}")
        return cls(
            max_bytes=_parse_sizes(settings.ugc_max_bytes),
            quota_bytes=settings.ugc_quota_bytes,
            multipart_threshold=settings.ugc_multipart_threshold,
            draft_ttl=timedelta(hours=settings.ugc_draft_hours),
            auto_publish=auto,
            quarantine=settings.ugc_quarantine,
            max_pixels=settings.ugc_max_pixels,
            archive_max_members=settings.ugc_archive_max_members,
            archive_max_bytes=settings.ugc_archive_max_bytes,
            archive_max_ratio=settings.ugc_archive_max_ratio,
        )

    def part_sizes(self, size: int) -> list[int]:
        """The length of each part of a multipart upload of ``size`` bytes."""
        part = max(MIN_PART_BYTES, -(-size // MAX_PARTS))
        full, rest = divmod(size, part)
        return [part] * full + ([rest] if rest else [])


def _parse_sizes(raw: str) -> dict[str, int]:
    """``image=20M,video=2G,...`` -> bytes per type; every type must be given."""
    sizes = {}
    for entry in filter(None, (e.strip() for e in raw.split(","))):
        name, _, amount = entry.partition("=")
        amount = amount.strip().upper().removesuffix("B").removesuffix("I")
        unit = amount[-1] if amount and amount[-1] in UNITS else ""
        try:
            sizes[name.strip()] = int(amount.removesuffix(unit)) * UNITS[unit]
        except ValueError:
            raise ConfigError(f"PP_UGC_MAX_BYTES: {entry!r} is not type=size") from None
    if missing := set(TYPES) - set(sizes):
        raise ConfigError(f"PP_UGC_MAX_BYTES must give a size for {sorted(missing)}")
    return sizes
