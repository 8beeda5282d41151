"""An account merge that moves a Twitch identity to the survivor: the retired account's drops
and per-campaign counts move with it (a limit still counts both), and the drops still waiting
for that Twitch user are granted to the survivor."""

from __future__ import annotations

from tests.commerce.conftest import steam_player
from tests.drops.conftest import campaign, drain, link_stranded, post_twitch, seed_rewards
from tests.fakes import twitch as fake_twitch
from tests.support import signed_up


def _merge(client, steam, retired: dict) -> dict:
    """A Steam player (no e-mail identity to clash) absorbs ``retired``; their auth headers."""
    headers, _ = steam_player(client, steam)
    merged = client.post(
        "/v1/me/merge", json={"proof": {"refresh_token": retired["refresh_token"]}}, headers=headers
    )
    assert merged.status_code == 200, merged.get_json()
    return headers


def _gems(client, headers) -> int:
    return client.get("/v1/me/wallet", headers=headers).get_json()["balances"].get("gems", 0)


def test_a_merge_grants_the_moved_twitch_users_waiting_drops_to_the_survivor(
    client, platform, twitch, steam
):
    with platform.db.unit_of_work() as session:
        seed_rewards(session)
        campaign(session, benefit_ids=["benefit-a"], limit=2)
    retired = signed_up(platform)
    events = [twitch.entitle(user_id="3001", benefit_id="benefit-a") for _ in range(3)]
    post_twitch(client, fake_twitch.drop_notification(events))
    drain(platform)
    link_stranded(platform, retired["user"]["id"], "3001")

    survivor = _merge(client, steam, retired)
    drain(platform)
    mine = client.get("/v1/me/drops", headers=survivor).get_json()["items"]
    first_two = {e["entitlement_id"] for e in events[:2]}
    assert {d["entitlement_id"] for d in mine} == first_two  # the third is past the limit
    assert _gems(client, survivor) == 2
    assert twitch.fulfilled() == first_two


def test_a_merge_moves_the_drops_and_the_limit_counts_both_accounts(
    client, platform, twitch, steam
):
    with platform.db.unit_of_work() as session:
        seed_rewards(session)
        campaign(session, benefit_ids=["benefit-a"], limit=2)
    retired = signed_up(platform)
    link_stranded(platform, retired["user"]["id"], "3001")
    earned = [twitch.entitle(user_id="3001", benefit_id="benefit-a") for _ in range(2)]
    post_twitch(client, fake_twitch.drop_notification(earned))
    drain(platform)

    survivor = _merge(client, steam, retired)
    mine = client.get("/v1/me/drops", headers=survivor).get_json()["items"]
    assert {d["entitlement_id"] for d in mine} == {e["entitlement_id"] for e in earned}
    assert _gems(client, survivor) == 2
    extra = twitch.entitle(user_id="3001", benefit_id="benefit-a")
    post_twitch(client, fake_twitch.drop_notification([extra]))
    drain(platform)
    assert _gems(client, survivor) == 2  # the retired account's two count towards the limit
    assert extra["entitlement_id"] not in twitch.fulfilled()
