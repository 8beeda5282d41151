"""UGC jobs of players' and moderators' actions: delete files of deleted items, tell owners.
Both are idempotent: deleting a missing object is not an error, a repeated notice is harmless."""

from __future__ import annotations

import logging

from player_platform import platform

log = logging.getLogger(__name__)


def delete_objects(keys: list[str]) -> int:
    """Delete the objects of items deleted by their owner or by an erasure (after commit)."""
    storage = platform.current().storage
    for key in keys:
        storage.delete(key)
    log.info("ugc objects deleted", extra={"count": len(keys)})
    return len(keys)
