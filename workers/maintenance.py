"""Periodic housekeeping on the ``maintenance`` queue."""

from __future__ import annotations

import logging

from player_platform import platform
from player_platform.db import utcnow
from player_platform.idempotency import service as idempotency
from player_platform.identity import sessions, steam_openid

log = logging.getLogger(__name__)


def purge_expired() -> dict[str, int]:
    """Delete expired refresh tokens, idempotency records and OpenID nonces. Safe to repeat."""
    p = platform.current()
    now = utcnow()
    with p.db.unit_of_work() as session:
        purged = {
            "refresh_tokens": sessions.purge_expired(session, now=now),
            "idempotency_records": idempotency.purge_expired(session, now=now),
            "used_nonces": steam_openid.purge_spent_nonces(session, now=now),
        }
    log.info("purged expired rows", extra=purged)
    return purged


def delete_objects(keys: list[str]) -> int:
    """Delete files whose rows are gone (player_platform.jobs.DELETE_OBJECTS_JOB): deleted UGC
    items, erased players' items and feedback attachments. A missing object is not an error, so
    a repeated run is harmless."""
    storage = platform.current().storage
    for key in keys:
        storage.delete(key)
    log.info("objects deleted", extra={"count": len(keys)})
    return len(keys)
