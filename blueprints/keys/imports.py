"""One import glue for both doors: the streamed API route and the console's upload form."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from blueprints.http import origin, platform
from player_platform.commerce import catalog
from player_platform.db import utcnow
from player_platform.keys import importer, inventory


def import_lines(
    lines: Iterable[bytes],
    *,
    kind: str,
    sku_id: str,
    key_platform: str | None,
    actor_id: uuid.UUID,
) -> importer.ImportResult:
    """Import ``lines`` (CSV or JSON lines) into the SKU's pool of ``key_platform`` (the SKU's
    first key platform when None), with this app's vault, formats and settings; audited."""
    p = platform()
    with p.db.unit_of_work() as session:
        sku = catalog.get_sku(session, sku_id)
        target = importer.Target(
            sku_id=sku.sku_id,
            platform=key_platform or inventory.default_platform(sku.platforms),
            actor_id=actor_id,
            origin=origin(),
        )
    return importer.import_codes(
        p.db,
        vault=p.vault,
        jobs=p.jobs,
        formats=p.key_formats,
        target=target,
        lines=lines,
        kind=kind,
        batch=p.settings.keys_import_batch,
        threshold=p.settings.keys_low_stock_threshold,
        now=utcnow,
    )
