"""Pools and their stock: one pool per SKU and platform, and the low-stock alert that fires once
each time a pool's available stock falls to its threshold (re-armed when it rises above)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from player_platform.commerce import catalog, wishlists
from player_platform.db import insert_for
from player_platform.errors import Invalid
from player_platform.identity.models import User
from player_platform.jobs import Jobs
from player_platform.keys.models import KEY_PLATFORMS, GameKey, KeyPool
from player_platform.messaging import notifications
from player_platform.studiohooks import service as studiohooks

log = logging.getLogger(__name__)


class AlertCounter:
    """Low-stock crossings seen by this process, per SKU and platform (``/metrics``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, str]] = Counter()

    def note(self, sku_id: str, platform: str) -> None:
        with self._lock:
            self.counts[(sku_id, platform)] += 1


LOW_STOCK_ALERTS = AlertCounter()


def default_platform(platforms: list[str]) -> str:
    """The key platform of a SKU sold without a platform choice: its first key platform."""
    return next((p for p in platforms if p in KEY_PLATFORMS), "other")


def ensure_pool(
    session: Session, *, sku_id: str, platform: str, threshold: int, now: datetime
) -> KeyPool:
    """The pool of (sku, platform), created on first use; the SKU must be a game_key SKU."""
    sku = catalog.get_sku(session, sku_id)
    if sku.type != "game_key":
        raise Invalid(f"{sku_id} is not a game_key SKU.", code="not_a_game_key")
    if platform not in KEY_PLATFORMS:
        raise Invalid(f"Unknown platform {platform!r}.", code="unknown_platform")
    session.execute(
        insert_for(session, KeyPool.__table__)
        .values(
            id=uuid.uuid4(),
            sku_id=sku_id,
            platform=platform,
            low_stock_threshold=threshold,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["sku_id", "platform"])
    )
    return session.scalars(
        select(KeyPool).where(KeyPool.sku_id == sku_id, KeyPool.platform == platform)
    ).one()


def available(session: Session, pool_id: uuid.UUID, *, up_to: int) -> int:
    """Available keys of the pool, counted up to ``up_to`` (a sale must not count a million)."""
    some = (
        select(GameKey.id)
        .where(GameKey.pool_id == pool_id, GameKey.status == "available")
        .limit(up_to)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(some))


SHOWN_UP_TO = 1000  # the catalog counts a SKU's keys this far: "1000" reads "1000 or more"


def available_by_sku(session: Session, sku_id: str) -> int:
    """A game-key SKU's available keys in all its pools, counted up to ``SHOWN_UP_TO``."""
    some = (
        select(GameKey.id)
        .where(GameKey.sku_id == sku_id, GameKey.status == "available")
        .limit(SHOWN_UP_TO)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(some))


def check_stock(session: Session, *, pool_ids: set[uuid.UUID], jobs: Jobs, now: datetime) -> None:
    """After keys left or entered these pools: alert on a pool that fell to its threshold,
    re-arm one that rose above it. The pool row is locked, so concurrent sales alert once."""
    for pool_id in sorted(pool_ids):
        pool = session.scalars(
            select(KeyPool)
            .where(KeyPool.id == pool_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        stock = available(session, pool_id, up_to=pool.low_stock_threshold + 1)
        if stock <= pool.low_stock_threshold and pool.low_stock_since is None:
            pool.low_stock_since = now
            stock_crossed_low(session, pool=pool, available=stock, jobs=jobs, now=now)
        elif stock > pool.low_stock_threshold and pool.low_stock_since is not None:
            pool.low_stock_since = None
            # Restocked after running low: wishlisters hear it's back (once per crossing).
            wishlists.back_in_stock(session, jobs=jobs, sku=catalog.get_sku(session, pool.sku_id))


def stock_crossed_low(
    session: Session, *, pool: KeyPool, available: int, jobs: Jobs, now: datetime
) -> None:
    """THE low-stock hook: runs once per crossing, in the transaction that crossed it. It logs,
    counts for ``/metrics`` (pp_key_low_stock_alerts_total) and tells every admin in the inbox;
    whatever else should react (a studio webhook) is one more call here."""
    log.warning(
        "key pool low on stock",
        extra={
            "sku": pool.sku_id,
            "platform": pool.platform,
            "available": available,
            "threshold": pool.low_stock_threshold,
        },
    )
    LOW_STOCK_ALERTS.note(pool.sku_id, pool.platform)
    data = {
        "sku_id": pool.sku_id,
        "platform": pool.platform,
        "available": str(available),
        "threshold": str(pool.low_stock_threshold),
    }
    for admin_id in admin_ids(session):
        notifications.notify(session, jobs, user_id=admin_id, kind="keys.low_stock", data=data)
    studiohooks.emit(session, "stock.low", {**data, "available": available,
                     "threshold": pool.low_stock_threshold}, jobs=jobs)  # fmt: skip


def admin_ids(session: Session) -> list[uuid.UUID]:
    """Active admins (roles is a JSON list: filtered here, there are a handful)."""
    users = session.execute(select(User.id, User.roles).where(User.status == "active")).all()
    return sorted(user_id for user_id, roles in users if "admin" in (roles or []))


def inventory(session: Session) -> list[dict[str, Any]]:
    """Per pool: stock by status, threshold and alert state (admin inventory)."""
    counts: dict[tuple[uuid.UUID, str], int] = {
        (pool_id, status): n
        for pool_id, status, n in session.execute(
            select(GameKey.pool_id, GameKey.status, func.count()).group_by(
                GameKey.pool_id, GameKey.status
            )
        )
    }
    pools = session.scalars(select(KeyPool).order_by(KeyPool.sku_id, KeyPool.platform))
    return [
        {
            "pool_id": pool.id,
            "sku_id": pool.sku_id,
            "platform": pool.platform,
            "available": counts.get((pool.id, "available"), 0),
            "assigned": counts.get((pool.id, "assigned"), 0)
            + counts.get((pool.id, "delivered"), 0),
            "revoked": counts.get((pool.id, "revoked"), 0),
            "low_stock_threshold": pool.low_stock_threshold,
            "low_stock": pool.low_stock_since is not None,
            "low_stock_since": pool.low_stock_since,
        }
        for pool in pools
    ]


def count_low(session: Session) -> int:
    """Pools in alert now (``/metrics`` gauge pp_key_pools_low_stock)."""
    return session.scalar(
        select(func.count()).select_from(KeyPool).where(KeyPool.low_stock_since.is_not(None))
    )
