"""Re-seal every key under the vault's current key, while the service runs.

Keys are walked in id order, ``batch`` at a time, each batch in a short transaction that locks
only its own rows (a claim running meanwhile waits milliseconds, or is waited for). A key
sealed under an old key id is opened and sealed again under the current one; the old vault
key can leave PP_KEY_VAULT_KEYS once this finished with nothing left."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from player_platform.db import Database
from player_platform.keys import codes
from player_platform.keys.models import GameKey
from player_platform.security.vault import Vault

RESEAL = (
    update(GameKey.__table__)
    .where(GameKey.__table__.c.id == bindparam("key_id"))
    .values(sealed_code=bindparam("sealed"), vault_kid=bindparam("kid"))
)


def remaining(db: Database, vault: Vault) -> int:
    """Keys still sealed under another key than the current one."""
    with db.unit_of_work() as session:
        return session.scalar(
            select(func.count()).select_from(GameKey).where(GameKey.vault_kid != vault.current_kid)
        )


def rotate(
    db: Database,
    vault: Vault,
    *,
    batch: int = 1000,
    progress: Callable[[int], None] = lambda keys: None,
) -> int:
    """Re-seal every key not sealed under the current vault key; how many were re-sealed."""
    after = uuid.UUID(int=0)
    total = 0
    while True:
        done, last = db.transaction(
            lambda session, a=after: _reseal_batch(session, vault, a, batch)
        )
        if last is None:
            return total
        total, after = total + done, last
        progress(done)


def _reseal_batch(
    session: Session, vault: Vault, after: uuid.UUID, batch: int
) -> tuple[int, uuid.UUID | None]:
    rows = session.execute(
        select(GameKey.id, GameKey.sealed_code)
        .where(GameKey.id > after, GameKey.vault_kid != vault.current_kid)
        .order_by(GameKey.id)
        .limit(batch)
        .with_for_update()
    ).all()
    if not rows:
        return 0, None
    params = [
        {
            "key_id": key_id,
            "sealed": vault.seal(
                vault.open(sealed, context=codes.context(key_id)), context=codes.context(key_id)
            ),
            "kid": vault.current_kid,
        }
        for key_id, sealed in rows
    ]
    session.execute(RESEAL, params)
    return len(rows), rows[-1][0]
