"""A drops campaign that rewards a game key: each granted drop claims one key from the pool
for its player, once; a drop the pool cannot serve is refused ``out_of_stock``."""

from __future__ import annotations

from sqlalchemy import select

from player_platform.db import utcnow
from player_platform.drops.models import Drop
from player_platform.keys import codes, inventory
from player_platform.keys.models import GameKey
from tests.drops.conftest import campaign, drain, link_twitch_users, post_twitch, seed_rewards
from tests.fakes import twitch as fake_twitch
from tests.keys.conftest import drain as drain_keys
from tests.keys.conftest import seed_game, steam_code


def test_a_key_reward_claims_one_pool_key_per_drop_once(client, platform, twitch):
    seed_game(platform)
    with platform.db.unit_of_work() as session:
        seed_rewards(session)
        campaign(session, benefit_ids=["benefit-k"], reward="game", limit=5)
        users = link_twitch_users(session, ["3001"])
        pool = inventory.ensure_pool(
            session, sku_id="game", platform="steam", threshold=0, now=utcnow()
        )
        for _ in range(2):
            sealed = codes.seal(platform.vault, steam_code())
            session.add(GameKey(id=sealed.id, pool_id=pool.id, sku_id="game", platform="steam",
                                sealed_code=sealed.sealed_code, vault_kid=sealed.vault_kid,
                                code_hash=sealed.code_hash, hint=sealed.hint))  # fmt: skip
    events = [twitch.entitle(user_id="3001", benefit_id="benefit-k") for _ in range(3)]
    notification = fake_twitch.drop_notification(events)
    post_twitch(client, notification)
    post_twitch(client, notification)  # Twitch delivers it again
    drain(platform)
    drain_keys(platform, "notification_send")
    with platform.db.unit_of_work() as session:
        refusals = dict(session.execute(select(Drop.entitlement_id, Drop.refusal)).all())
        owned = session.scalars(select(GameKey).where(GameKey.user_id == users["3001"])).all()
    assert [refusals[e["entitlement_id"]] for e in events] == [None, None, "out_of_stock"]
    assert [(k.status, k.grant_key is not None) for k in owned] == [("delivered", True)] * 2
    from tests.support import bearer  # noqa: F401  (the player reads them through the API)

    assert len({k.grant_key for k in owned}) == 2
