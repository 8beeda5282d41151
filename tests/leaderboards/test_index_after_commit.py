"""The Redis index is written once PostgreSQL has committed: a submission or a moderation
decision whose transaction rolls back leaves nothing in the index that PostgreSQL never had
(its version would make the index skip the next real write of that version)."""

from __future__ import annotations

import uuid

import pytest

from player_platform.db import utcnow
from player_platform.identity.sessions import authenticate
from player_platform.leaderboards import service
from player_platform.security.api_keys import ServerCaller
from tests.factories import TEST_ORIGIN
from tests.leaderboards.conftest import board_in_postgresql, board_in_redis, submit


class RolledBack(Exception):
    """Something after the write failed (the Idempotency-Key record, say): all of it rolls back."""


def test_a_rolled_back_keyed_submission_leaves_the_index_as_postgresql_has_it(
    platform, client, new_season, new_player
):
    season, ada = new_season(), new_player("Ada")
    assert submit(client, season, ada, 5).status_code == 200
    server = ServerCaller(uuid.uuid4(), "game server", (service.WRITE_SCOPE,))
    with pytest.raises(RolledBack), platform.db.unit_of_work() as session:
        done = service.submit_score(
            session,
            platform.leaderboards,
            caller=server,
            season_id=season["season_id"],
            score=9,
            user_id=uuid.UUID(ada["id"]),
            metadata=None,
            now=utcnow(),
        )
        assert (done.best, done.rank) == (9, 1)  # answered from the index, not yet written
        raise RolledBack
    assert board_in_redis(platform, season["season_id"]) == [(uuid.UUID(ada["id"]), 5)]

    # The next real write (the same entry version the rolled-back one had) reaches the index.
    keyed = {**ada["headers"], "Idempotency-Key": uuid.uuid4().hex}
    response = client.post(
        f"/v1/leaderboards/{season['season_id']}/scores", json={"score": 7}, headers=keyed
    )
    assert response.get_json()["rank"] == 1 and response.get_json()["best"] == 7
    in_postgresql = board_in_postgresql(platform, season["season_id"])
    assert in_postgresql == [(uuid.UUID(ada["id"]), 7)]
    assert board_in_redis(platform, season["season_id"]) == in_postgresql


def test_a_rolled_back_removal_leaves_the_entry_in_the_index(
    platform, client, admin_user, new_season, new_player
):
    season, ada, bob = new_season(), new_player("Ada"), new_player("Bob")
    submit(client, season, ada, 5)
    submit(client, season, bob, 3)
    with pytest.raises(RolledBack), platform.db.unit_of_work() as session:
        now = utcnow()
        admin = authenticate(
            session, platform.tokens.verify(admin_user.access_token, now=now), now=now
        )
        service.remove_entry(
            session,
            platform.leaderboards,
            actor=admin,
            season_id=season["season_id"],
            user_id=uuid.UUID(ada["id"]),
            reason="cheating",
            origin=TEST_ORIGIN,
            now=now,
        )
        raise RolledBack
    expected = [(uuid.UUID(ada["id"]), 5), (uuid.UUID(bob["id"]), 3)]
    assert board_in_postgresql(platform, season["season_id"]) == expected
    assert board_in_redis(platform, season["season_id"]) == expected
