"""Drops test helpers: rewards in the catalog, campaigns, players with Twitch linked (in bulk,
for the storm), and a signer of EventSub messages pointed at the app."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import sqlalchemy as sa
from rq import SimpleWorker

from player_platform.db import utcnow
from player_platform.drops import campaigns
from player_platform.identity.models import Identity, User
from tests import factories
from tests.factories import TEST_ORIGIN
from tests.fakes import twitch as fake_twitch
from tests.fakes.twitch import EventSubSender

TWITCH_URL = "/v1/webhooks/twitch"

REWARDS = (
    {"sku_id": "gems", "type": "consumable", "name": "Gems", "prices": {"USD": 10}},
    {"sku_id": "cape", "type": "durable", "name": "Twitch Cape", "prices": {"USD": 100}},
)


def seed_rewards(session) -> None:
    for values in REWARDS:
        factories.sku(session, **values)


def campaign(session, *, benefit_ids, reward="gems", limit=1, cap=None, **fields):
    now = utcnow()
    values = {
        "name": f"Campaign {uuid.uuid4().hex[:6]}",
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(hours=1),
        "benefit_ids": benefit_ids,
        "reward_sku_id": reward,
        "reward_quantity": 1,
        "per_player_limit": limit,
        "total_cap": cap,
        "twitch_organization_id": fake_twitch.ORGANIZATION_ID,
        **fields,
    }
    return campaigns.create(
        session, fields=values, subscribe=False, actor_id=None, origin=TEST_ORIGIN, now=now
    )


def link_twitch_users(session, twitch_user_ids) -> dict[str, uuid.UUID]:
    """Players with these Twitch accounts linked, inserted in bulk: Twitch id -> user id."""
    now = utcnow()
    users = {tid: uuid.uuid4() for tid in twitch_user_ids}
    session.execute(
        sa.insert(User),
        [
            {"id": uid, "display_name": f"viewer{tid}", "roles": ["player"], "created_at": now}
            for tid, uid in users.items()
        ],
    )
    session.execute(
        sa.insert(Identity),
        [
            {"user_id": uid, "provider": "twitch", "provider_id": tid, "linked_at": now}
            for tid, uid in users.items()
        ],
    )
    return users


def post_twitch(client, body: dict, *, message_type="notification", **signing):
    """POST ``body`` to the Twitch webhook, signed as EventSub signs it."""
    raw = json.dumps(body).encode()
    headers = EventSubSender(TWITCH_URL).signed(raw, message_type=message_type, **signing)
    return client.post(TWITCH_URL, data=raw, headers=headers)


def drain(platform) -> None:
    """Run the queued webhook and fulfilment jobs to the end."""
    queues = [platform.jobs.queue(name) for name in ("webhook_processing", "fulfilment")]
    SimpleWorker(queues, connection=platform.redis).work(burst=True)


def link_stranded(platform, user_id, twitch_user_id) -> None:
    """The Twitch identity stored without the link use case: as when a link commits while a
    notification for that user is being recorded, that user's drops stay waiting."""
    with platform.db.unit_of_work() as session:
        session.execute(
            sa.insert(Identity).values(
                user_id=user_id, provider="twitch", provider_id=twitch_user_id, linked_at=utcnow()
            )
        )
