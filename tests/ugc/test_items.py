"""Players and items: listing (filters, sorts, cursors, hot lists), read/edit/delete rules,
downloads counted once a day, ratings."""

from __future__ import annotations

import uuid

import requests
from rq import SimpleWorker

from player_platform.ugc.listing import HotLists
from player_platform.ugc.models import UgcDownload, UgcItem
from storage.s3 import S3Storage
from tests.storage.conftest import s3_bucket, s3_client, s3_endpoint  # noqa: F401 (fixtures)
from tests.support import bearer, register
from tests.ugc.factories import PNG_BYTES, make_item, make_user


def player(client) -> dict:
    tokens = register(client)
    return {"headers": bearer(tokens["access_token"]), "id": uuid.UUID(tokens["user"]["id"])}


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()["items"]]


def test_listing_shows_only_published_public_items_newest_first(client, platform):
    with platform.db.unit_of_work() as session:
        owner = make_user(session)
        for age, (status, visibility) in enumerate(
            [("published", "public"), ("published", "unlisted"), ("published", "private"),
             ("pending_review", "public"), ("flagged", "public"), ("removed", "public"),
             ("published", "public")]
        ):  # fmt: skip
            make_item(session, owner_id=owner, status=status, visibility=visibility,
                      name=f"{status}-{visibility}-{age}", age_minutes=age)  # fmt: skip
    assert names(client.get("/v1/ugc")) == ["published-public-0", "published-public-6"]


def test_filters_by_type_tag_text_and_creator(client, platform):
    with platform.db.unit_of_work() as session:
        ada, bob = make_user(session, "Ada"), make_user(session, "Bob")
        make_item(session, owner_id=ada, type="map", name="Desert 100%", tags=["pvp", "sand"])
        make_item(session, owner_id=ada, type="mod", name="Better guns", tags=["pvp"])
        make_item(session, owner_id=bob, type="map", name="Forest", description="green desert")
    assert sorted(names(client.get("/v1/ugc?type=map"))) == ["Desert 100%", "Forest"]
    assert sorted(names(client.get("/v1/ugc?tag=pvp"))) == ["Better guns", "Desert 100%"]
    assert names(client.get("/v1/ugc?tag=sand")) == ["Desert 100%"]
    assert sorted(names(client.get("/v1/ugc?q=desert"))) == ["Desert 100%", "Forest"]
    assert names(client.get("/v1/ugc?q=100%25")) == ["Desert 100%"]  # % is literal text
    assert names(client.get("/v1/ugc?q=_")) == []
    assert sorted(names(client.get(f"/v1/ugc?creator={ada}"))) == ["Better guns", "Desert 100%"]


def test_sorts_and_cursors_walk_every_item_once(client, platform):
    with platform.db.unit_of_work() as session:
        owner = make_user(session)
        for n in range(7):
            make_item(session, owner_id=owner, name=f"item{n}", age_minutes=n,
                      downloads=(n * 3) % 7, ratings=(n * 5 % 11, n % 3 + 1))  # fmt: skip
    for sort in ("recent", "top", "downloads"):
        seen, cursor = [], None
        while True:
            url = f"/v1/ugc?sort={sort}&limit=3" + (f"&cursor={cursor}" if cursor else "")
            body = client.get(url).get_json()
            seen += body["items"]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert sorted(i["name"] for i in seen) == [f"item{n}" for n in range(7)], sort
        key = {"recent": "published_at", "top": "rating_average", "downloads": "download_count"}
        values = [i[key[sort]] for i in seen]
        if sort != "top":
            assert values == sorted(values, reverse=True), sort
    assert client.get("/v1/ugc?sort=top&cursor=" + body_cursor(client)).status_code == 422


def body_cursor(client) -> str:
    """A cursor of the 'recent' order, which 'top' refuses."""
    return client.get("/v1/ugc?sort=recent&limit=1").get_json()["next_cursor"]


def test_a_removed_item_leaves_the_hot_list_at_once_even_a_stale_one(client, platform, redis):
    with platform.db.unit_of_work() as session:
        owner = make_user(session)
        keep = make_item(session, owner_id=owner, name="keep", age_minutes=2)
        gone = make_item(session, owner_id=owner, name="gone", age_minutes=1)
    assert names(client.get("/v1/ugc")) == ["gone", "keep"]  # builds the hot list
    assert redis.exists(HotLists.key(None, "recent"))
    with platform.db.unit_of_work() as session:  # behind moderation's back: the list is stale
        session.get(UgcItem, gone).status = "removed"
    assert names(client.get("/v1/ugc")) == ["keep"]
    assert names(client.get("/v1/ugc?type=image")) == ["keep"]
    # A list that still holds the removed id (built before the removal) cannot show it either.
    HotLists(redis).store(None, "recent", [gone, keep])
    assert names(client.get("/v1/ugc")) == ["keep"]


def test_listings_are_rebuilt_when_redis_is_emptied(client, platform, redis):
    with platform.db.unit_of_work() as session:
        owner = make_user(session)
        for n in range(3):
            make_item(session, owner_id=owner, name=f"item{n}", age_minutes=n, downloads=n)
    first = names(client.get("/v1/ugc?sort=downloads"))
    redis.flushdb()
    assert names(client.get("/v1/ugc?sort=downloads")) == first == ["item2", "item1", "item0"]
    assert redis.exists(HotLists.key(None, "downloads"))


def test_owners_see_their_items_in_any_status_others_only_listed_ones(client, platform):
    owner, other = player(client), player(client)
    with platform.db.unit_of_work() as session:
        pending = make_item(session, owner_id=owner["id"], status="pending_review")
        private = make_item(session, owner_id=owner["id"], visibility="private")
        unlisted = make_item(session, owner_id=owner["id"], visibility="unlisted")
    for item in (pending, private, unlisted):
        mine = client.get(f"/v1/ugc/{item}", headers=owner["headers"])
        assert mine.status_code == 200
        assert mine.get_json()["id"] == str(item)
    for headers in (other["headers"], {}):
        assert client.get(f"/v1/ugc/{pending}", headers=headers).status_code == 404
        assert client.get(f"/v1/ugc/{private}", headers=headers).status_code == 404
        assert client.get(f"/v1/ugc/{unlisted}", headers=headers).status_code == 200
    bad_token = client.get(f"/v1/ugc/{unlisted}", headers=bearer("nonsense"))
    assert bad_token.status_code == 401


def test_only_the_owner_edits_and_the_listing_follows_visibility(client, platform):
    owner, other = player(client), player(client)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=owner["id"], name="Old")
    assert names(client.get("/v1/ugc")) == ["Old"]
    refused = client.patch(f"/v1/ugc/{item}", json={"name": "Mine"}, headers=other["headers"])
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "not_owner"
    edited = client.patch(
        f"/v1/ugc/{item}",
        json={"name": "New", "tags": ["a"], "visibility": "private"},
        headers=owner["headers"],
    )
    assert edited.status_code == 200
    assert (edited.get_json()["name"], edited.get_json()["tags"]) == ("New", ["a"])
    assert names(client.get("/v1/ugc")) == []
    unknown = client.patch(f"/v1/ugc/{item}", json={"status": "x"}, headers=owner["headers"])
    assert unknown.status_code == 422


def test_delete_removes_the_row_and_then_the_object(client, platform):
    owner, other = player(client), player(client)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=owner["id"], storage=platform.storage)
        key = session.get(UgcItem, item).object_key
    assert client.delete(f"/v1/ugc/{item}", headers=other["headers"]).status_code == 403
    assert client.delete(f"/v1/ugc/{item}", headers=owner["headers"]).status_code == 204
    assert client.get(f"/v1/ugc/{item}", headers=owner["headers"]).status_code == 404
    assert platform.storage.head(key) is not None  # deleted by the job, after the commit
    SimpleWorker([platform.jobs.queue("maintenance")], connection=platform.redis).work(burst=True)
    assert platform.storage.head(key) is None


def test_downloads_count_once_per_player_per_day_and_anonymous_ones_not_at_all(client, platform):
    owner, fan = player(client), player(client)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=owner["id"], storage=platform.storage)
        pending = make_item(session, owner_id=owner["id"], status="pending_review")
    first = client.get(f"/v1/ugc/{item}/download", headers=fan["headers"])
    again = client.get(f"/v1/ugc/{item}/download", headers=fan["headers"])
    anonymous = client.get(f"/v1/ugc/{item}/download")
    assert [r.get_json()["counted"] for r in (first, again, anonymous)] == [True, False, False]
    assert client.get(f"/v1/ugc/{item}").get_json()["download_count"] == 1
    body = first.get_json()
    assert body["filename"] == "picture one.png"
    fetched = client.get(body["url"].removeprefix(platform.settings.public_url))
    assert fetched.status_code == 200
    assert fetched.data == PNG_BYTES
    assert 'filename="picture one.png"' in fetched.headers["Content-Disposition"]
    own_pending = client.get(f"/v1/ugc/{pending}/download", headers=owner["headers"])
    assert own_pending.status_code == 409
    assert own_pending.get_json()["code"] == "not_published"
    with platform.db.unit_of_work() as session:
        assert session.query(UgcDownload).count() == 1


def test_a_presigned_s3_download_names_the_file(platform, s3_endpoint, s3_bucket):  # noqa: F811
    storage = S3Storage(s3_client(s3_endpoint), s3_bucket)
    storage.put("ugc/image/x/picture one.png", PNG_BYTES, content_type="image/png")
    url = storage.presigned_get("ugc/image/x/picture one.png", expires_in=60,
                                filename="picture one.png")  # fmt: skip
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == PNG_BYTES
    assert 'filename="picture one.png"' in fetched.headers["Content-Disposition"]


def test_ratings_are_one_per_player_changeable_and_not_on_own_items(client, platform):
    owner, ada, bob = player(client), player(client), player(client)
    with platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=owner["id"])
    rate = lambda who, value: client.post(  # noqa: E731
        f"/v1/ugc/{item}/ratings", json={"value": value}, headers=who["headers"]
    )
    assert rate(ada, 5).get_json()["rating_sum"] == 5
    assert rate(bob, 2).get_json()["rating_count"] == 2
    changed = rate(ada, 1).get_json()
    assert (changed["rating_sum"], changed["rating_count"], changed["rating_average"]) == (
        3,
        2,
        1.5,
    )
    own = rate(owner, 5)
    assert (own.status_code, own.get_json()["code"]) == (403, "own_item")
    for bad in (0, 6, 2.5, "5", None):
        assert rate(ada, bad).status_code == 422
