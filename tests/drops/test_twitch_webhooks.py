"""Twitch EventSub at /v1/webhooks/twitch (PROVIDERS.md 1.3-1.5, 1.7) and drops granted from
it: signed messages of the Twitch CLI's shape, refusals, replays, the challenge, revocation,
limits, waiting grants and the FULFILLED report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from player_platform.db import utcnow
from player_platform.drops.models import Drop, DropCampaign
from player_platform.wallet.models import Entitlement, LedgerEntry, Wallet
from player_platform.webhooks.models import WebhookEvent
from tests import factories
from tests.drops.conftest import (
    TWITCH_URL,
    campaign,
    drain,
    link_stranded,
    link_twitch_users,
    post_twitch,
    seed_rewards,
)
from tests.fakes import twitch as fake_twitch
from tests.fakes.twitch import EventSubSender
from tests.support import bearer


def _balance(platform, user_id, sku_id="gems") -> int:
    with platform.db.unit_of_work() as session:
        wallet = session.scalar(
            select(Wallet).where(Wallet.user_id == user_id, Wallet.sku_id == sku_id)
        )
        return wallet.balance if wallet else 0


def _setup(platform, **campaign_fields):
    with platform.db.unit_of_work() as session:
        seed_rewards(session)
        made = campaign(session, benefit_ids=["benefit-a"], **campaign_fields)
        users = link_twitch_users(session, ["1001", "1002"])
        return made.id, users


def test_a_signed_drop_notification_grants_the_reward_and_reports_it_fulfilled(
    client, platform, twitch
):
    _, users = _setup(platform)
    data = twitch.entitle(user_id="1001", benefit_id="benefit-a")
    answer = post_twitch(client, fake_twitch.drop_notification([data]))
    assert answer.status_code == 200
    assert answer.get_json() == {"received": True, "duplicate": False}
    drain(platform)
    assert _balance(platform, users["1001"]) == 1
    assert twitch.fulfilled() == {data["entitlement_id"]}
    with platform.db.unit_of_work() as session:
        drop = session.scalar(select(Drop))
        assert (drop.status, drop.fulfilment) == ("granted", "fulfilled")


def test_a_wrong_signature_or_a_stale_timestamp_is_refused_and_nothing_is_stored(
    client, platform, twitch
):
    _setup(platform)
    body = fake_twitch.drop_notification([twitch.entitle(user_id="1001", benefit_id="benefit-a")])
    forged = post_twitch(client, body, secret="not-the-subscription-secret")
    old = (datetime.now(UTC) - timedelta(minutes=11)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")
    stale = post_twitch(client, body, timestamp=old)
    raw = json.dumps(body).encode()
    headers = EventSubSender(TWITCH_URL).signed(raw, message_type="notification")
    tampered = client.post(TWITCH_URL, data=raw + b" ", headers=headers)
    assert (forged.status_code, forged.get_json()["code"]) == (403, "invalid_signature")
    assert (stale.status_code, stale.get_json()["code"]) == (403, "stale_message")
    assert tampered.status_code == 403
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_a_replayed_message_id_is_acknowledged_and_changes_nothing(client, platform, twitch):
    _, users = _setup(platform)
    body = fake_twitch.drop_notification([twitch.entitle(user_id="1001", benefit_id="benefit-a")])
    first = post_twitch(client, body, message_id="msg-1")
    drain(platform)
    again = post_twitch(client, body, message_id="msg-1")
    drain(platform)
    assert first.get_json()["duplicate"] is False
    assert (again.status_code, again.get_json()["duplicate"]) == (200, True)
    assert _balance(platform, users["1001"]) == 1
    with platform.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def test_the_challenge_is_answered_as_text_plain_and_enables_the_subscription(client, platform):
    campaign_id, _ = _setup(platform, subscription_id="sub-1")
    answer = post_twitch(
        client, fake_twitch.challenge("sub-1"), message_type="webhook_callback_verification"
    )
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    assert answer.get_data(as_text=True) == "pogchamp-kappa-360noscope-vohiyo"
    with platform.db.unit_of_work() as session:
        assert session.get(DropCampaign, campaign_id).subscription_status == "enabled"


def test_a_revocation_is_recorded_on_the_campaign_and_in_metrics(client, platform, caplog):
    campaign_id, _ = _setup(platform, subscription_id="sub-2", subscription_status="enabled")
    answer = post_twitch(client, fake_twitch.revocation("sub-2"), message_type="revocation")
    assert answer.status_code == 200
    drain(platform)
    with platform.db.unit_of_work() as session:
        revoked = session.get(DropCampaign, campaign_id)
        assert revoked.subscription_status == "authorization_revoked"
        assert revoked.subscription_revoked_at is not None
    assert "twitch subscription revoked" in caplog.text
    assert "pp_twitch_subscriptions_revoked 1.0" in client.get("/metrics").get_data(as_text=True)


def test_the_per_player_limit_and_the_cap_refuse_the_extra_drops(client, platform, twitch):
    _, users = _setup(platform, limit=2, cap=3)
    events = [twitch.entitle(user_id="1001", benefit_id="benefit-a") for _ in range(3)]
    events += [twitch.entitle(user_id="1002", benefit_id="benefit-a") for _ in range(2)]
    post_twitch(client, fake_twitch.drop_notification(events))
    drain(platform)
    with platform.db.unit_of_work() as session:
        refusals = dict(session.execute(select(Drop.entitlement_id, Drop.refusal)).all())
    # Granted in the notification's order: 1001 takes two, its third is past the limit,
    # 1002's first is the third and last the cap allows.
    assert [refusals[e["entitlement_id"]] for e in events] == [
        None,
        None,
        "limit_reached",
        None,
        "cap_reached",
    ]
    assert [_balance(platform, users[t]) for t in ("1001", "1002")] == [2, 1]
    assert twitch.fulfilled() == {events[i]["entitlement_id"] for i in (0, 1, 3)}


def test_a_drop_for_an_unlinked_twitch_user_waits_and_is_granted_on_linking(
    client, platform, twitch
):
    with platform.db.unit_of_work() as session:
        seed_rewards(session)
        campaign(session, benefit_ids=["benefit-c"], reward="cape")
        player = factories.player(session, platform)
    data = twitch.entitle(user_id="2001", benefit_id="benefit-c")
    post_twitch(client, fake_twitch.drop_notification([data]))
    drain(platform)
    assert twitch.fulfilled() == set()  # not delivered yet: still CLAIMED
    code = twitch.authorize("2001", "viewer", "https://game.example/cb")
    linked = client.post(
        "/v1/me/identities/twitch",
        json={"code": code, "redirect_uri": "https://game.example/cb"},
        headers=bearer(player.access_token),
    )
    assert linked.status_code == 201, linked.get_json()
    drain(platform)
    with platform.db.unit_of_work() as session:
        owned = session.scalars(
            select(Entitlement.sku_id).where(Entitlement.user_id == player.user_id)
        ).all()
    assert owned == ["cape"]
    assert twitch.fulfilled() == {data["entitlement_id"]}
    mine = client.get("/v1/me/drops", headers=bearer(player.access_token)).get_json()
    assert [d["entitlement_id"] for d in mine["items"]] == [data["entitlement_id"]]


def test_update_failed_is_retried_and_final_rejections_are_kept(client, platform, twitch):
    from player_platform.drops import fulfilment

    _setup(platform, limit=5)
    events = [twitch.entitle(user_id="1001", benefit_id="benefit-a") for _ in range(3)]
    flaky, gone, fine = (e["entitlement_id"] for e in events)
    twitch.patch_answers[flaky] = ["UPDATE_FAILED"]
    twitch.patch_answers[gone] = ["NOT_FOUND"]
    post_twitch(client, fake_twitch.drop_notification(events))
    drain(platform)
    assert twitch.fulfilled() == {fine}
    later = utcnow() + timedelta(minutes=5)
    fulfilment.fulfil(platform.db, helix=platform.helix, clock=lambda: later)
    assert twitch.fulfilled() == {fine, flaky}
    with platform.db.unit_of_work() as session:
        rejected = session.scalar(select(Drop).where(Drop.entitlement_id == gone))
        assert (rejected.fulfilment, rejected.fulfil_error) == ("rejected", "NOT_FOUND")


def test_reconciliation_receives_what_a_lost_webhook_missed(platform, twitch):
    from player_platform.drops import fulfilment

    _, users = _setup(platform, limit=50)
    for _ in range(25):  # never sent as a webhook
        twitch.entitle(user_id="1002", benefit_id="benefit-a")
    platform.helix.page_size = 10  # three pages, the last one short
    counts = fulfilment.reconcile(
        platform.db, helix=platform.helix, jobs=platform.jobs, clock=utcnow
    )
    fulfilment.fulfil(platform.db, helix=platform.helix, clock=utcnow)
    assert counts["granted"] == 25
    assert _balance(platform, users["1002"]) == 25
    assert len(twitch.fulfilled()) == 25


def test_a_batch_of_drops_settles_a_debt_and_the_ledger_adds_up(client, platform, twitch):
    from player_platform.wallet import service as wallet

    _, users = _setup(platform, limit=5)
    with platform.db.unit_of_work() as session:  # a chargeback left 3 gems owed
        owed = wallet.locked_wallet(session, user_id=users["1001"], sku_id="gems", now=utcnow())
        owed.debt = 3
    events = [twitch.entitle(user_id="1001", benefit_id="benefit-a") for _ in range(5)]
    post_twitch(client, fake_twitch.drop_notification(events))
    post_twitch(client, fake_twitch.drop_notification(events))  # the same, a new message id
    drain(platform)
    with platform.db.unit_of_work() as session:
        held = session.scalar(select(Wallet).where(Wallet.user_id == users["1001"]))
        ledger = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.wallet_id == held.id)
            .order_by(LedgerEntry.balance_after.desc(), LedgerEntry.quantity)
        ).all()
        assert wallet.reconcile(session) == []
    assert (held.balance, held.debt) == (2, 0)
    assert [(e.change_type, e.quantity, e.balance_after) for e in ledger] == [
        ("grant", 1, 5),
        ("grant", 1, 4),
        ("grant", 1, 3),
        ("clawback", -3, 2),
        ("grant", 1, 2),
        ("grant", 1, 1),
    ]


def test_reconciliation_grants_drops_left_waiting_for_a_user_linked_meanwhile(
    client, platform, twitch
):
    from player_platform.drops import fulfilment

    with platform.db.unit_of_work() as session:
        seed_rewards(session)
        campaign(session, benefit_ids=["benefit-c"], reward="cape")
        player = factories.player(session, platform)
    data = twitch.entitle(user_id="2001", benefit_id="benefit-c")
    post_twitch(client, fake_twitch.drop_notification([data]))
    drain(platform)
    link_stranded(platform, player.user_id, "2001")
    counts = fulfilment.reconcile(
        platform.db, helix=platform.helix, jobs=platform.jobs, clock=utcnow
    )
    drain(platform)
    assert counts["granted_linked"] == 1
    mine = client.get("/v1/me/drops", headers=bearer(player.access_token)).get_json()
    assert [d["entitlement_id"] for d in mine["items"]] == [data["entitlement_id"]]
    assert twitch.fulfilled() == {data["entitlement_id"]}


def test_drops_outside_a_campaign_or_its_window_are_refused_not_granted(client, platform, twitch):
    earlier = utcnow() - timedelta(days=3)
    with platform.db.unit_of_work() as session:
        seed_rewards(session)
        campaign(session, benefit_ids=["benefit-a"])
        campaign(
            session, benefit_ids=["benefit-old"], starts_at=earlier, ends_at=earlier + timedelta(1)
        )
        users = link_twitch_users(session, ["1001"])
    events = [
        twitch.entitle(user_id="1001", benefit_id=benefit)
        for benefit in ("benefit-unknown", "benefit-old")
    ]
    post_twitch(client, fake_twitch.drop_notification(events))
    drain(platform)
    with platform.db.unit_of_work() as session:
        refusals = dict(session.execute(select(Drop.entitlement_id, Drop.refusal)).all())
    assert [refusals[e["entitlement_id"]] for e in events] == ["no_campaign", "outside_window"]
    assert _balance(platform, users["1001"]) == 0
    assert twitch.fulfilled() == set()
