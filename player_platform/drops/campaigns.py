"""Drops campaigns: window, Twitch benefit ids, reward, limits; and their EventSub
subscription, created through Helix outside any transaction (record intent, commit, call,
record the outcome) and marked revoked when Twitch revokes it."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from player_platform.audit.service import Origin, record
from player_platform.commerce import catalog
from player_platform.db import Database
from player_platform.drops.helix import Helix
from player_platform.drops.models import DropCampaign
from player_platform.errors import DomainError, Invalid, NotFound

log = logging.getLogger(__name__)
# A game key is claimed from its pool for the player (drops/service.py _claim_keys).
REWARD_TYPES = ("consumable", "durable", "bundle", "game_key")
AUDITED = (
    "name",
    "starts_at",
    "ends_at",
    "benefit_ids",
    "reward_sku_id",
    "reward_quantity",
    "per_player_limit",
    "total_cap",
)
# A subscription in these states is there or on its way: asking again would make a second one.
LIVE_SUBSCRIPTION = ("requested", "webhook_callback_verification_pending", "enabled")


def active(session: Session, *, now: datetime) -> list[DropCampaign]:
    return list(
        session.scalars(
            select(DropCampaign)
            .where(DropCampaign.starts_at <= now, DropCampaign.ends_at > now)
            .order_by(DropCampaign.ends_at, DropCampaign.id)
        )
    )


def get(session: Session, campaign_id: uuid.UUID, *, lock: bool = False) -> DropCampaign:
    campaign = session.get(DropCampaign, campaign_id, with_for_update=lock)
    if campaign is None:
        raise NotFound("No such campaign.", code="campaign_not_found")
    return campaign


def create(
    session: Session,
    *,
    fields: dict[str, Any],
    subscribe: bool,
    actor_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> DropCampaign:
    campaign = DropCampaign(granted_count=0, created_at=now, updated_at=now, **fields)
    if subscribe:
        _request_subscription(campaign)
    _check(session, campaign)
    session.add(campaign)
    session.flush()
    _audit(session, campaign, "drops.campaign_create", actor_id, origin, old=None)
    return campaign


def update(
    session: Session,
    *,
    campaign_id: uuid.UUID,
    changes: dict[str, Any],
    subscribe: bool,
    actor_id: uuid.UUID,
    origin: Origin,
    now: datetime,
) -> DropCampaign:
    campaign = get(session, campaign_id, lock=True)
    old = _snapshot(campaign)
    for name, value in changes.items():
        setattr(campaign, name, value)
    if subscribe and campaign.subscription_status not in LIVE_SUBSCRIPTION:
        _request_subscription(campaign)
    _check(session, campaign)
    campaign.updated_at = now
    _audit(session, campaign, "drops.campaign_update", actor_id, origin, old=old)
    return campaign


def _check(session: Session, campaign: DropCampaign) -> None:
    if campaign.ends_at <= campaign.starts_at:
        raise Invalid("A campaign ends after it starts.", code="invalid_window")
    if campaign.total_cap is not None and campaign.total_cap < campaign.granted_count:
        raise Invalid("The cap is below what was granted already.", code="cap_below_granted")
    sku = catalog.get_sku(session, campaign.reward_sku_id)
    if sku.type not in REWARD_TYPES:
        raise Invalid(f"A {sku.type} cannot be a drop reward yet.", code="reward_not_grantable")
    if not campaign.twitch_organization_id and campaign.subscription_status == "requested":
        raise Invalid(
            "A subscription needs the Twitch organization id.", code="organization_required"
        )


def _request_subscription(campaign: DropCampaign) -> None:
    campaign.subscription_status, campaign.subscription_error = "requested", None
    campaign.subscription_revoked_at = None


def _snapshot(campaign: DropCampaign) -> dict[str, Any]:
    values = {name: getattr(campaign, name) for name in AUDITED}
    values["starts_at"], values["ends_at"] = str(values["starts_at"]), str(values["ends_at"])
    return values


def _audit(session, campaign, action, actor_id, origin, *, old) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        resource_type="drop_campaign",
        resource_id=campaign.id,
        origin=origin,
        old=old,
        new=_snapshot(campaign),
    )


def subscribe(db: Database, *, helix: Helix, campaign_id: uuid.UUID, callback: str, secret):
    """Create the campaign's EventSub subscription if one was requested, outside any
    transaction; the outcome (Twitch's id and status, or the error) is recorded."""
    campaign = db.transaction(lambda session: get(session, campaign_id))
    if campaign.subscription_status != "requested":
        return
    condition = {
        key: value
        for key, value in (
            ("organization_id", campaign.twitch_organization_id),
            ("category_id", campaign.twitch_category_id),
            ("campaign_id", campaign.twitch_campaign_id),
        )
        if value
    }
    try:
        if not secret:
            raise Invalid("Set PP_TWITCH_EVENTSUB_SECRET first.", code="eventsub_not_configured")
        created = helix.create_subscription(condition=condition, callback=callback, secret=secret)
        outcome = {
            "subscription_id": str(created.get("id"))[:64],
            "subscription_status": str(created.get("status") or "enabled")[:64],
        }
    except DomainError as error:
        log.error("twitch subscription not created", extra={"campaign": str(campaign_id)})
        outcome = {"subscription_status": "failed", "subscription_error": error.detail[:500]}

    def store(session: Session) -> None:
        for name, value in outcome.items():
            setattr(get(session, campaign_id, lock=True), name, value)

    db.transaction(store)


def subscription_verified(session: Session, *, subscription_id: str) -> None:
    """Twitch sent the challenge and got its answer: the subscription is enabled."""
    for campaign in _by_subscription(session, subscription_id):
        campaign.subscription_status = "enabled"


def revoke(session: Session, *, subscription_id: str, reason: str, now: datetime) -> int:
    """Twitch revoked a subscription: its campaigns show it, admins are alerted."""
    campaigns = _by_subscription(session, subscription_id)
    for campaign in campaigns:
        campaign.subscription_status, campaign.subscription_revoked_at = reason[:64], now
        log.error(
            "twitch subscription revoked",
            extra={"campaign": str(campaign.id), "subscription": subscription_id, "reason": reason},
        )
    if not campaigns:
        log.error("unknown twitch subscription revoked", extra={"subscription": subscription_id})
    return len(campaigns)


def count_revoked(session: Session) -> int:
    """Campaigns whose subscription Twitch revoked (/metrics)."""
    return session.scalar(
        select(func.count()).where(DropCampaign.subscription_revoked_at.is_not(None))
    )


def _by_subscription(session: Session, subscription_id: str) -> list[DropCampaign]:
    return list(
        session.scalars(
            select(DropCampaign)
            .where(DropCampaign.subscription_id == subscription_id[:64])
            .with_for_update()
        )
    )
