"""The open-session and ban check answered from Redis (session_cache.py) is never stale: a ban or
a sign-out stops a token on the very next request with the cache warm, flushed or down."""

from __future__ import annotations

import uuid

from player_platform.identity.session_cache import SessionCache
from tests.support import bearer, signed_up, staff_tokens

READ = "/v1/me/wallet"  # a read-only route: its caller is checked by authenticate_view


def _entry(platform, user_id: str) -> dict:
    return platform.redis.hgetall(f"pp:{{u:{user_id}}}:auth")


def warm(client, platform, player: dict) -> None:
    for _ in range(2):  # the first fills the entry, the second is answered from it
        response = client.get(READ, headers=bearer(player["access_token"]))
        assert response.status_code == 200, response.get_json()
    assert _entry(platform, player["user"]["id"])


def ban(client, platform, user_id: str):
    moderator = staff_tokens(platform, role="moderator")
    return client.post(
        f"/v1/admin/users/{user_id}/ban",
        json={"reason": "cheating"},
        headers=bearer(moderator["access_token"]),
    )


def refused(client, player: dict) -> str:
    response = client.get(READ, headers=bearer(player["access_token"]))
    assert response.status_code in (401, 403), response.get_json()
    return response.get_json()["code"]


def test_a_ban_stops_a_token_at_once_with_the_cache_warm(client, platform):
    player = signed_up(platform)
    warm(client, platform, player)
    assert ban(client, platform, player["user"]["id"]).status_code == 200
    assert refused(client, player) == "account_banned"


def test_sign_out_and_sign_out_everywhere_stop_warm_tokens_at_once(client, platform):
    one, other = signed_up(platform), signed_up(platform)
    warm(client, platform, one)
    assert client.post("/v1/auth/logout", headers=bearer(one["access_token"])).status_code == 204
    assert refused(client, one) == "session_revoked"

    warm(client, platform, other)
    out = client.delete("/v1/me/sessions", headers=bearer(other["access_token"]))
    assert out.status_code == 200
    assert refused(client, other) == "session_revoked"


def test_reusing_a_spent_refresh_token_revokes_the_warm_family_at_once(client, platform):
    player = signed_up(platform)
    body = {"refresh_token": player["refresh_token"]}
    rotated = client.post("/v1/auth/refresh", json=body).get_json()
    warm(client, platform, rotated)
    successor = {"refresh_token": rotated["refresh_token"]}
    assert client.post("/v1/auth/refresh", json=successor).status_code == 200
    replay = client.post("/v1/auth/refresh", json=body)  # the first token, its successor spent
    assert replay.get_json()["code"] == "refresh_token_reused"
    assert refused(client, rotated) == "session_revoked"


def test_with_redis_flushed_the_check_goes_to_postgresql(client, platform):
    player = signed_up(platform)
    warm(client, platform, player)
    platform.redis.flushdb()
    assert ban(client, platform, player["user"]["id"]).status_code == 200
    assert refused(client, player) == "account_banned"
    assert not _entry(platform, player["user"]["id"])  # a refused caller is not cached


def test_a_fill_that_raced_with_an_invalidation_is_dropped(platform):
    cache = SessionCache(platform.redis, ttl_seconds=60)
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    before = cache.lookup(user_id, session_id)  # read "open" from PostgreSQL after this...
    cache.invalidate(user_id)  # ...then a sign-out committed and invalidated...
    cache.fill(before, user_id, session_id, {"status": "active"})  # ...then the fill arrived
    assert cache.lookup(user_id, session_id).user is None
    platform.redis.flushdb()  # a flush in between cannot pass for "nothing happened" either
    cache.fill(before, user_id, session_id, {"status": "active"})
    assert cache.lookup(user_id, session_id).user is None
