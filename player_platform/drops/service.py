"""Drops granted from Twitch entitlements: once per entitlement id, within each campaign's
per-player limit and total cap, to the player who linked that Twitch account (or later, when
they link it).

Every writer of a campaign's drops first locks the campaign rows it touches, in id order
(``SELECT ... FOR UPDATE``): the check for already-known entitlement ids, the counts and the
cap are then read and moved by one transaction at a time per campaign, whatever the number of
workers and duplicate deliveries. The check constraint on ``granted_count`` backs the cap.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session

from player_platform.commerce import catalog, grants
from player_platform.db import insert_for
from player_platform.drops.models import Drop, DropCampaign, DropPlayerCount
from player_platform.identity.models import Identity
from player_platform.jobs import Jobs
from player_platform.keys import store as key_store
from player_platform.pagination import Page, Position
from player_platform.webhooks.signatures import parse_rfc3339

log = logging.getLogger(__name__)
FULFIL_JOB = "workers.drops.fulfil_drops"


@dataclass(frozen=True)
class TwitchEntitlement:
    entitlement_id: str
    benefit_id: str
    twitch_user_id: str
    earned_at: datetime


def from_notification(payload: dict[str, Any], *, now: datetime) -> list[TwitchEntitlement]:
    """The entitlements of a ``drop.entitlement.grant`` body (``events[].data``)."""
    found = []
    for event in payload.get("events") or []:
        data = event.get("data") if isinstance(event, dict) else None
        if isinstance(data, dict):
            found.append(_entitlement(data, "entitlement_id", "created_at", now=now))
    return [e for e in found if e is not None]


def from_helix(rows: Iterable[dict[str, Any]], *, now: datetime) -> list[TwitchEntitlement]:
    """The entitlements of a Get Drops Entitlements page."""
    found = [_entitlement(row, "id", "timestamp", now=now) for row in rows]
    return [e for e in found if e is not None]


def _entitlement(data: dict, id_key: str, time_key: str, *, now: datetime):
    ids = [str(data.get(k) or "")[:64] for k in (id_key, "benefit_id", "user_id")]
    if not all(ids):
        log.warning("twitch entitlement without ids skipped", extra={"keys": sorted(data)})
        return None
    try:
        earned_at = parse_rfc3339(str(data.get(time_key)))
    except ValueError:
        earned_at = now
    return TwitchEntitlement(*ids, earned_at=earned_at)


def receive(
    session: Session, *, entitlements: list[TwitchEntitlement], jobs: Jobs, now: datetime
) -> dict[str, int]:
    """Record the entitlements not seen before and grant those whose player is known, in the
    order Twitch listed them; the outcome counted by status (``known`` for ids seen before)."""
    unique = list({e.entitlement_id: e for e in entitlements}.values())
    campaigns = _campaigns_for({e.benefit_id for e in unique}, session)
    _lock(session, [c.id for cs in campaigns.values() for c in cs])
    owners = _owners(session, {e.twitch_user_id for e in unique})
    rows = [
        _row(e, _pick(campaigns.get(e.benefit_id, []), e.earned_at), owners, now) for e in unique
    ]
    table = Drop.__table__
    inserted = set(
        session.scalars(
            insert_for(session, table)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["entitlement_id"])
            .returning(table.c.entitlement_id)
        )
        if rows
        else ()
    )
    fresh = [row for row in rows if row["entitlement_id"] in inserted]
    grantable = [
        _Waiting(r["id"], r["campaign_id"], r["user_id"], r["entitlement_id"])
        for r in fresh
        if r["status"] == "waiting" and r["user_id"]
    ]
    refused = _allocate(session, grantable, jobs, now)
    outcome = {"known": len(entitlements) - len(fresh)}
    for row in fresh:
        status = row["status"]
        if status == "waiting" and row["user_id"]:
            status = "refused" if row["id"] in refused else "granted"
        outcome[status] = outcome.get(status, 0) + 1
    return outcome


def _row(e: TwitchEntitlement, campaign, owners: dict, now: datetime) -> dict[str, Any]:
    """The drop row of a new entitlement: waiting (granted next, if its player is known), or
    refused outright."""
    refusal = None
    if campaign is None:
        refusal = "no_campaign"
    elif not campaign.starts_at <= e.earned_at < campaign.ends_at:
        refusal = "outside_window"
    return {
        "id": uuid.uuid4(),
        "entitlement_id": e.entitlement_id,
        "benefit_id": e.benefit_id,
        "twitch_user_id": e.twitch_user_id,
        "campaign_id": campaign.id if campaign else None,
        "user_id": owners.get(e.twitch_user_id),
        "status": "refused" if refusal else "waiting",
        "refusal": refusal,
        "earned_at": e.earned_at,
        "received_at": now,
        "fulfil_attempts": 0,
    }


def grant_waiting(
    session: Session, *, user_id: uuid.UUID, twitch_user_id: str, jobs: Jobs, now: datetime
) -> int:
    """Grant the drops that waited for ``twitch_user_id`` to be linked (now, to ``user_id``),
    in the order they were earned."""
    campaign_ids = session.scalars(
        select(Drop.campaign_id)
        .where(Drop.twitch_user_id == twitch_user_id, Drop.status == "waiting")
        .distinct()
    ).all()
    _lock(session, [c for c in campaign_ids if c is not None])
    waiting = [
        _Waiting(drop_id, campaign_id, user_id, entitlement_id)
        for drop_id, campaign_id, entitlement_id in session.execute(
            select(Drop.id, Drop.campaign_id, Drop.entitlement_id)
            .where(Drop.twitch_user_id == twitch_user_id, Drop.status == "waiting")
            .order_by(Drop.earned_at, Drop.entitlement_id)
            .with_for_update()
        )
    ]
    if waiting:
        session.execute(
            update(Drop).where(Drop.id.in_([w.id for w in waiting])).values(user_id=user_id)
        )
    return len(waiting) - len(_allocate(session, waiting, jobs, now))


def move_player(
    session: Session, *, source_id: uuid.UUID, target_id: uuid.UUID, jobs: Jobs, now: datetime
) -> int:
    """Account merge: the source's drops and per-campaign counts become the target's (so a
    limit still counts both), then the drops waiting for the target's Twitch accounts (one
    may have just moved here) are granted to it. Returns how many were granted."""
    counted = session.scalars(
        select(DropPlayerCount.campaign_id).where(DropPlayerCount.user_id == source_id)
    ).all()
    _lock(session, counted)
    counts = _counts(session, {(c, u) for c in counted for u in (source_id, target_id)})
    moved = {c: counts.get((c, target_id), 0) + counts[c, source_id] for c in counted}
    _store_counts(session, {(c, target_id): n for c, n in moved.items()})
    session.execute(delete(DropPlayerCount).where(DropPlayerCount.user_id == source_id))
    session.execute(update(Drop).where(Drop.user_id == source_id).values(user_id=target_id))
    twitch_ids = session.scalars(
        select(Identity.provider_id)
        .where(Identity.user_id == target_id, Identity.provider == "twitch")
        .order_by(Identity.provider_id)
    ).all()
    return sum(
        grant_waiting(session, user_id=target_id, twitch_user_id=t, jobs=jobs, now=now)
        for t in twitch_ids
    )


def grant_linked(session: Session, *, jobs: Jobs, now: datetime) -> int:
    """Grant the waiting drops whose Twitch user is linked now: a link that committed while a
    notification for that user was being recorded found nothing to grant, and the drop, which
    had found no owner, was left waiting (the periodic reconciliation sweeps them)."""
    linked = session.execute(
        select(Identity.user_id, Identity.provider_id)
        .where(
            Identity.provider == "twitch",
            Identity.provider_id.in_(
                select(Drop.twitch_user_id).where(Drop.status == "waiting").distinct()
            ),
        )
        .order_by(Identity.provider_id)
    ).all()
    return sum(
        grant_waiting(session, user_id=u, twitch_user_id=t, jobs=jobs, now=now) for u, t in linked
    )


@dataclass(frozen=True)
class _Waiting:
    """A drop to grant: its campaign is locked and its player known."""

    id: uuid.UUID
    campaign_id: uuid.UUID
    user_id: uuid.UUID
    entitlement_id: str


def _allocate(session: Session, drops: list[_Waiting], jobs: Jobs, now: datetime) -> set:
    """Grant ``drops`` in the order given until a player's limit or the campaign's cap, in a
    few statements per batch; returns the ids of those refused."""
    if not drops:
        return set()
    counts = _counts(session, {(d.campaign_id, d.user_id) for d in drops})
    campaigns = {d.campaign_id: session.get(DropCampaign, d.campaign_id) for d in drops}
    granted: dict[uuid.UUID, list[_Waiting]] = {c: [] for c in campaigns}
    refusals: dict[str, list[uuid.UUID]] = {
        "cap_reached": [],
        "limit_reached": [],
        "out_of_stock": [],
    }
    for drop in drops:
        campaign, key = campaigns[drop.campaign_id], (drop.campaign_id, drop.user_id)
        if campaign.total_cap is not None and campaign.granted_count >= campaign.total_cap:
            refusals["cap_reached"].append(drop.id)
        elif counts.get(key, 0) >= campaign.per_player_limit:
            refusals["limit_reached"].append(drop.id)
        elif not _claim_keys(session, campaign, drop, jobs, now):
            refusals["out_of_stock"].append(drop.id)
        else:
            counts[key] = counts.get(key, 0) + 1
            campaign.granted_count += 1
            granted[campaign.id].append(drop)
    for campaign_id, batch in granted.items():
        _grant(session, campaigns[campaign_id], batch, now=now)
    for refusal, ids in refusals.items():
        if ids:
            session.execute(
                update(Drop).where(Drop.id.in_(ids)).values(status="refused", refusal=refusal)
            )
    _store_counts(session, counts)
    jobs.enqueue_after_commit(session, "fulfilment", FULFIL_JOB)
    return {i for ids in refusals.values() for i in ids}


def _claim_keys(
    session: Session, campaign: DropCampaign, drop: _Waiting, jobs: Jobs, now: datetime
) -> bool:
    """A game-key reward: claim its keys from the pool for the player, delivered at once and
    announced. False (nothing kept) when the pool has too few: the drop is refused
    ``out_of_stock``. Other rewards: True, granted by ``_grant``. Once per drop: each key is
    keyed on ``drop:<entitlement id>:<n>`` (UNIQUE), and a drop is allocated once."""
    sku = catalog.get_sku(session, campaign.reward_sku_id)
    if sku.type != "game_key":
        return True
    claimed = []
    for n in range(campaign.reward_quantity):
        claimed += key_store.claim(
            session, sku_id=sku.sku_id, quantity=1, owner_id=drop.user_id, now=now,
            grant_key=f"drop:{drop.entitlement_id}:{n}",
        )  # fmt: skip
    if len(claimed) < campaign.reward_quantity:
        for key in claimed:
            key_store.release(key, now=now)
        return False
    key_store.deliver(session, claimed, jobs=jobs, now=now)
    return True


def _grant(session: Session, campaign: DropCampaign, drops: list[_Waiting], *, now) -> None:
    """Reward each drop once (keyed on ``drop:<entitlement id>``) and mark it granted (game
    keys were claimed by ``_claim_keys``)."""
    if not drops:
        return
    if catalog.get_sku(session, campaign.reward_sku_id).type != "game_key":
        _grant_sku(session, campaign, drops, now=now)
    session.execute(
        update(Drop)
        .where(Drop.id.in_([d.id for d in drops]))
        .values(status="granted", granted_at=now, fulfilment="pending", fulfil_after=now)
    )


def _grant_sku(session: Session, campaign: DropCampaign, drops: list[_Waiting], *, now) -> None:
    grants.grant_sku_each(
        session,
        sku=catalog.get_sku(session, campaign.reward_sku_id),
        quantity=campaign.reward_quantity,
        grants=[(d.user_id, f"drop:{d.entitlement_id}") for d in drops],
        reason=f"drop:{campaign.name}"[:255],
        now=now,
    )


def _counts(session: Session, keys: set[tuple]) -> dict[tuple, int]:
    rows = session.execute(
        select(DropPlayerCount.campaign_id, DropPlayerCount.user_id, DropPlayerCount.granted).where(
            tuple_(DropPlayerCount.campaign_id, DropPlayerCount.user_id).in_(list(keys))
        )
    )
    return {(campaign_id, user_id): granted for campaign_id, user_id, granted in rows}


def _store_counts(session: Session, counts: dict[tuple, int]) -> None:
    if not counts:
        return
    table = DropPlayerCount.__table__
    insert = insert_for(session, table).values(
        [{"campaign_id": c, "user_id": u, "granted": n} for (c, u), n in counts.items()]
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["campaign_id", "user_id"], set_={"granted": insert.excluded.granted}
        )
    )


def _lock(session: Session, campaign_ids: Iterable[uuid.UUID]) -> None:
    """Lock the campaigns in id order (no deadlock between two batches) and refresh them."""
    ids = sorted(set(campaign_ids))
    if ids:
        session.scalars(
            select(DropCampaign)
            .where(DropCampaign.id.in_(ids))
            .order_by(DropCampaign.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()


def _campaigns_for(benefit_ids: set[str], session: Session) -> dict[str, list[DropCampaign]]:
    by_benefit: dict[str, list[DropCampaign]] = {}
    for campaign in session.scalars(select(DropCampaign).order_by(DropCampaign.starts_at)):
        for benefit_id in set(campaign.benefit_ids) & benefit_ids:
            by_benefit.setdefault(benefit_id, []).append(campaign)
    return by_benefit


def _pick(campaigns: list[DropCampaign], earned_at: datetime) -> DropCampaign | None:
    """The campaign running when the drop was earned, else the latest one (refused later)."""
    running = [c for c in campaigns if c.starts_at <= earned_at < c.ends_at]
    return (running or campaigns or [None])[-1]


def _owners(session: Session, twitch_user_ids: set[str]) -> dict[str, uuid.UUID]:
    if not twitch_user_ids:
        return {}
    rows = session.execute(
        select(Identity.provider_id, Identity.user_id).where(
            Identity.provider == "twitch", Identity.provider_id.in_(twitch_user_ids)
        )
    )
    return dict(rows.all())


def list_drops(
    session: Session, *, user_id: uuid.UUID, limit: int, cursor: str | None = None
) -> Page[Drop]:
    """A player's granted drops, newest first."""
    query = (
        select(Drop)
        .where(Drop.user_id == user_id, Drop.status == "granted")
        .order_by(Drop.received_at.desc(), Drop.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        after = Position.decode(cursor)
        query = query.where(tuple_(Drop.received_at, Drop.id) < (after.created_at, after.id))
    drops = list(session.scalars(query))
    more, drops = len(drops) > limit, drops[:limit]
    last = drops[-1] if drops else None
    return Page(drops, Position(last.received_at, last.id).encode() if more else None)
