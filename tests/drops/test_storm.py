"""A storm of Twitch drops (invariant: grant once): 10,500 entitlements in 105 batched
notifications, each delivered twice at once (the same message id, or a new one for the same
entitlements), a real worker process killed midway, Redis emptied, then the re-drive. Exactly
10,000 rewards are granted, the 500 past a limit or the cap are refused, and every granted
entitlement is reported FULFILLED to the Helix stand-in."""

from __future__ import annotations

import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from rq import SimpleWorker
from sqlalchemy import func, select

from player_platform.db import utcnow
from player_platform.drops.models import Drop
from player_platform.wallet.models import Entitlement, LedgerEntry
from player_platform.webhooks import service as webhooks
from player_platform.webhooks.models import WebhookEvent
from tests.drops.conftest import campaign, link_twitch_users, seed_rewards
from tests.fakes import twitch as fake_twitch
from tests.fakes.twitch import EventSubSender
from tests.support import kill_worker, worker_process
from workers.drops import fulfil_drops

A_VIEWERS, A_LIMIT, B_VIEWERS, B_CAP = 1980, 5, 300, 100
GREEDY = 300  # viewers of A who earn one drop past the limit


def _entitlements(twitch) -> list[dict]:
    events = []
    for n in range(A_VIEWERS):
        extra = 1 if n < GREEDY else 0
        for _ in range(A_LIMIT + extra):
            events.append(twitch.entitle(user_id=f"a{n}", benefit_id="benefit-a"))
    for n in range(B_VIEWERS):
        events.append(twitch.entitle(user_id=f"b{n}", benefit_id="benefit-b"))
    return events


def _worker(live_platform) -> subprocess.Popen:
    s = live_platform.settings
    return worker_process(
        s,
        "webhook_processing",
        "fulfilment",
        PP_TWITCH_API_URL=s.twitch_api_url,
        PP_TWITCH_AUTH_URL=s.twitch_auth_url,
        PP_TWITCH_CLIENT_ID=fake_twitch.CLIENT_ID,
        PP_TWITCH_CLIENT_SECRET=fake_twitch.CLIENT_SECRET,
    )


def _processed(db) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).where(WebhookEvent.status == "processed"))


def test_a_storm_of_drops_delivered_twice_through_a_crash_grants_each_once(
    live_server, live_platform, twitch, database_url, redis_url, redis
):
    db = live_platform.db
    with db.unit_of_work() as session:
        seed_rewards(session)
        campaign(session, benefit_ids=["benefit-a"], reward="gems", limit=A_LIMIT)
        campaign(session, benefit_ids=["benefit-b"], reward="cape", limit=1, cap=B_CAP)
        ids = [f"a{n}" for n in range(A_VIEWERS)] + [f"b{n}" for n in range(B_VIEWERS)]
        link_twitch_users(session, ids)
    events = _entitlements(twitch)
    batches = [events[i : i + 100] for i in range(0, len(events), 100)]
    sender = EventSubSender(f"{live_server}/v1/webhooks/twitch")
    deliveries = []
    for number, batch in enumerate(batches):
        body, message_id = fake_twitch.drop_notification(batch), str(uuid.uuid4())
        again = message_id if number % 2 else str(uuid.uuid4())
        deliveries += [(body, message_id), (body, again)]

    worker = _worker(live_platform)
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = pool.map(lambda d: sender.send(d[0], message_id=d[1]).status_code, deliveries)
            codes = set(answers)
            deadline = time.monotonic() + 60
            while _processed(db) < 10 and time.monotonic() < deadline:
                time.sleep(0.05)
        assert _processed(db) >= 10  # the worker got going before it died
    finally:
        kill_worker(worker)
    assert codes == {200}
    redis.flushdb()  # the queued jobs are lost with it

    with db.unit_of_work() as session:
        webhooks.redrive(
            session, jobs=live_platform.jobs, now=utcnow() + webhooks.REDRIVE_AFTER * 2
        )
    queue = live_platform.jobs.queue("webhook_processing")
    SimpleWorker([queue], connection=live_platform.redis).work(burst=True)
    fulfil_drops()  # the periodic run: the fulfilment jobs were lost with Redis

    with db.unit_of_work() as session:
        statuses = dict(
            session.execute(select(Drop.status, func.count()).group_by(Drop.status)).all()
        )
        refusals = dict(
            session.execute(
                select(Drop.refusal, func.count())
                .where(Drop.status == "refused")
                .group_by(Drop.refusal)
            ).all()
        )
        gems = session.scalar(
            select(func.count()).where(LedgerEntry.sku_id == "gems", LedgerEntry.quantity == 1)
        )
        capes = session.scalar(select(func.count()).where(Entitlement.sku_id == "cape"))
        granted_ids = set(
            session.scalars(select(Drop.entitlement_id).where(Drop.status == "granted"))
        )
        pending = session.scalar(select(func.count()).where(WebhookEvent.status != "processed"))
    assert pending == 0
    assert statuses == {"granted": 10_000, "refused": 500}
    assert refusals == {"limit_reached": GREEDY, "cap_reached": B_VIEWERS - B_CAP}
    assert (gems, capes) == (A_VIEWERS * A_LIMIT, B_CAP)
    assert twitch.fulfilled() == granted_ids
