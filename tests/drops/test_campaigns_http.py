"""Drops campaigns over HTTP: admins (signed in with MFA) create and change them, audited, with
the EventSub subscription created through Helix after the commit; a Helix failure leaves the
campaign, marked failed, and a PATCH asks again. Players list the running ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from player_platform.audit.models import AuditLog
from player_platform.db import utcnow
from player_platform.identity.service import ensure_admin
from tests.drops.conftest import drain, link_twitch_users, post_twitch, seed_rewards
from tests.fakes import twitch as fake_twitch
from tests.support import bearer, login, signed_up, staff_tokens

URL = "/v1/admin/campaigns"


def _admin(platform) -> dict:
    with platform.db.unit_of_work() as session:
        seed_rewards(session)
    return bearer(staff_tokens(platform, role="admin")["access_token"])


def _body(**fields) -> dict:
    now = utcnow()
    return {
        "name": "Launch week",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=7)).isoformat(),
        "benefit_ids": ["benefit-a"],
        "reward_sku_id": "gems",
        "reward_quantity": 50,
        "per_player_limit": 2,
        "total_cap": 1000,
        "twitch_organization_id": fake_twitch.ORGANIZATION_ID,
        **fields,
    }


def _audit(platform, campaign_id: str) -> list[tuple[str, dict | None, dict | None]]:
    with platform.db.unit_of_work() as session:
        rows = session.scalars(
            select(AuditLog)
            .where(AuditLog.resource_id == campaign_id)
            .order_by(AuditLog.created_at, AuditLog.id)
        )
        return [(r.action, r.old_values, r.new_values) for r in rows]


def test_an_admin_creates_a_campaign_with_its_subscription_and_players_see_it(
    client, platform, twitch
):
    admin = _admin(platform)
    created = client.post(URL, json=_body(create_subscription=True), headers=admin)
    assert created.status_code == 201, created.get_json()
    campaign = created.get_json()
    [subscription] = twitch.subscriptions
    assert campaign["subscription_id"] == subscription["id"]
    assert campaign["subscription_status"] == "webhook_callback_verification_pending"
    assert subscription["condition"] == {"organization_id": fake_twitch.ORGANIZATION_ID}
    assert subscription["transport"]["callback"].endswith("/v1/webhooks/twitch")
    assert subscription["secret"] == fake_twitch.EVENTSUB_SECRET
    [(action, old, new)] = _audit(platform, campaign["id"])
    assert (action, old) == ("drops.campaign_create", None)
    assert (new["reward_quantity"], new["total_cap"]) == (50, 1000)

    player = signed_up(platform)
    listed = client.get("/v1/campaigns", headers=bearer(player["access_token"])).get_json()
    assert [c["id"] for c in listed["items"]] == [campaign["id"]]
    assert "subscription_id" not in listed["items"][0]  # Twitch's ids are for admins only


def test_the_campaign_list_holds_only_the_running_campaigns(client, platform):
    admin = _admin(platform)
    later = utcnow() + timedelta(days=2)
    running = client.post(URL, json=_body(name="Now"), headers=admin).get_json()
    client.post(
        URL,
        json=_body(
            name="Later",
            starts_at=later.isoformat(),
            ends_at=(later + timedelta(days=1)).isoformat(),
        ),
        headers=admin,
    )
    listed = client.get("/v1/campaigns").get_json()
    assert [c["name"] for c in listed["items"]] == [running["name"]]


def test_a_helix_failure_keeps_the_campaign_marked_failed_and_a_patch_asks_again(
    client, platform, twitch
):
    admin = _admin(platform)
    twitch.subscribe_outages = 1
    created = client.post(URL, json=_body(create_subscription=True), headers=admin)
    assert created.status_code == 201, created.get_json()
    campaign = created.get_json()
    assert (campaign["subscription_status"], campaign["subscription_id"]) == ("failed", None)
    assert "503" in campaign["subscription_error"]
    assert twitch.subscriptions == []

    retried = client.patch(
        f"{URL}/{campaign['id']}", json={"create_subscription": True}, headers=admin
    )
    assert retried.status_code == 200, retried.get_json()
    [subscription] = twitch.subscriptions
    assert retried.get_json()["subscription_id"] == subscription["id"]
    assert retried.get_json()["subscription_status"] == "webhook_callback_verification_pending"
    assert retried.get_json()["subscription_error"] is None

    again = client.patch(
        f"{URL}/{campaign['id']}", json={"create_subscription": True}, headers=admin
    )
    assert again.status_code == 200
    assert len(twitch.subscriptions) == 1  # pending already: not subscribed twice


def test_a_patch_changes_the_campaign_and_is_audited_with_old_and_new(client, platform):
    admin = _admin(platform)
    campaign = client.post(URL, json=_body(), headers=admin).get_json()
    changed = client.patch(
        f"{URL}/{campaign['id']}", json={"total_cap": 10, "name": "Week two"}, headers=admin
    )
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["total_cap"], changed.get_json()["name"]) == (10, "Week two")
    action, old, new = _audit(platform, campaign["id"])[-1]
    assert action == "drops.campaign_update"
    assert (old["total_cap"], new["total_cap"]) == (1000, 10)
    assert (old["name"], new["name"]) == ("Launch week", "Week two")


def test_bad_campaigns_are_refused_with_stable_codes(client, platform):
    admin = _admin(platform)
    now = utcnow()
    cases = [
        (_body(ends_at=(now - timedelta(days=1)).isoformat()), 422, "invalid_window"),
        (_body(reward_sku_id="no-such-sku"), 404, "sku_not_found"),
        (
            _body(twitch_organization_id=None, create_subscription=True),
            422,
            "organization_required",
        ),
        (_body(per_player_limit=0), 422, "validation_error"),
        (_body(benefit_ids=[]), 422, "validation_error"),
        ({"name": "No window"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        refused = client.post(URL, json=body, headers=admin)
        assert (refused.status_code, refused.get_json()["code"]) == (status, code), body
    missing = client.patch(f"{URL}/{'0' * 8}-0000-4000-8000-{'0' * 12}", json={}, headers=admin)
    assert (missing.status_code, missing.get_json()["code"]) == (404, "campaign_not_found")
    assert client.get("/v1/campaigns").get_json()["items"] == []


def test_the_cap_cannot_go_below_what_was_granted(client, platform, twitch):
    admin = _admin(platform)
    campaign = client.post(URL, json=_body(per_player_limit=5), headers=admin).get_json()
    with platform.db.unit_of_work() as session:
        link_twitch_users(session, ["1001"])
    events = [twitch.entitle(user_id="1001", benefit_id="benefit-a") for _ in range(3)]
    post_twitch(client, fake_twitch.drop_notification(events))
    drain(platform)
    refused = client.patch(f"{URL}/{campaign['id']}", json={"total_cap": 2}, headers=admin)
    assert (refused.status_code, refused.get_json()["code"]) == (422, "cap_below_granted")
    assert client.get("/v1/campaigns").get_json()["items"][0]["granted_count"] == 3


def test_campaign_admin_needs_the_admin_role_and_mfa(client, platform):
    with platform.db.unit_of_work() as session:
        seed_rewards(session)
        ensure_admin(session, email="boss@example.com", password="x" * 12, now=utcnow())
    plain = login(client, "boss@example.com", password="x" * 12).get_json()
    without_mfa = client.post(URL, json=_body(), headers=bearer(plain["access_token"]))
    assert (without_mfa.status_code, without_mfa.get_json()["code"]) == (403, "mfa_required")
    moderator = bearer(staff_tokens(platform, role="moderator")["access_token"])
    forbidden = client.post(URL, json=_body(), headers=moderator)
    assert (forbidden.status_code, forbidden.get_json()["code"]) == (403, "forbidden")
    assert client.post(URL, json=_body()).status_code == 401
    assert client.get("/v1/campaigns").get_json()["items"] == []
