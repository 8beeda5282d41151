"""UGC invariants under concurrency on PostgreSQL, through real HTTP (live_server): ratings
keep exact sums, reports crossing the threshold flag once, decisions on one item: one wins."""

from __future__ import annotations

import threading
import uuid

import requests
from sqlalchemy import func, select

from player_platform.ugc.models import UgcItem, UgcRating, UgcTransition
from tests.support import bearer, staff_tokens
from tests.ugc.factories import make_item, make_user

THREADS = 12


def players(live_server, count: int) -> list[dict[str, str]]:
    headers = []
    for n in range(count):
        response = requests.post(
            f"{live_server}/v1/auth/register",
            json={"email": f"p{n}-{uuid.uuid4().hex[:8]}@example.com",
                  "password": "correct horse battery staple", "display_name": f"P{n}"},
            timeout=30,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        headers.append(bearer(response.json()["access_token"]))
    return headers


def all_at_once(calls) -> list[requests.Response]:
    barrier = threading.Barrier(len(calls))
    results: list[requests.Response | None] = [None] * len(calls)

    def run(n, call):
        barrier.wait()
        results[n] = call()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def published_item(live_platform) -> uuid.UUID:
    with live_platform.db.unit_of_work() as session:
        return make_item(session, owner_id=make_user(session))


def test_concurrent_ratings_keep_sum_and_count_exact(live_server, live_platform):
    item = published_item(live_platform)
    raters = players(live_server, THREADS)
    url = f"{live_server}/v1/ugc/{item}/ratings"
    first = [lambda h=h, n=n: requests.post(url, json={"value": n % 5 + 1}, headers=h, timeout=30)
             for n, h in enumerate(raters)]  # fmt: skip
    # Then every player changes their rating at once, twice in a row for half of them.
    second = [lambda h=h, n=n: requests.post(url, json={"value": 5 - n % 5}, headers=h, timeout=30)
              for n, h in enumerate(raters)]  # fmt: skip
    assert {r.status_code for r in all_at_once(first)} == {200}
    assert {r.status_code for r in all_at_once(second + second[: THREADS // 2])} == {200}
    with live_platform.db.unit_of_work() as session:
        item_row = session.get_one(UgcItem, item)
        truth = session.execute(
            select(func.sum(UgcRating.value), func.count()).where(UgcRating.ugc_id == item)
        ).one()
        assert (item_row.rating_sum, item_row.rating_count) == tuple(truth)
        assert item_row.rating_count == THREADS
        assert item_row.rating_sum == sum(5 - n % 5 for n in range(THREADS))


def test_concurrent_reports_flag_the_item_exactly_once(live_server, live_platform):
    item = published_item(live_platform)
    reporters = players(live_server, THREADS)
    url = f"{live_server}/v1/ugc/{item}/reports"
    calls = [lambda h=h: requests.post(url, json={"reason": "spam"}, headers=h, timeout=30)
             for h in reporters]  # fmt: skip
    results = all_at_once(calls)
    # Reports are applied one after another (the item's row lock); the third flags the item and
    # hides it, so every later reporter finds nothing to report.
    threshold = live_platform.settings.ugc_report_threshold
    assert sorted(r.status_code for r in results) == [201] * threshold + [404] * (
        THREADS - threshold
    ), [r.text for r in results]
    with live_platform.db.unit_of_work() as session:
        row = session.get_one(UgcItem, item)
        assert (row.status, row.report_count) == ("flagged", threshold)
        flags = session.scalars(
            select(UgcTransition.action).where(UgcTransition.ugc_id == item)
        ).all()
        assert flags == ["flag"]


def test_concurrent_decisions_on_one_item_one_wins(live_server, live_platform):
    moderators = [bearer(staff_tokens(live_platform)["access_token"]) for _ in range(4)]
    with live_platform.db.unit_of_work() as session:
        item = make_item(session, owner_id=make_user(session), status="pending_review")
    url = f"{live_server}/v1/moderation/ugc/{item}/decision"
    actions = ["approve", "reject", "approve", "reject"]  # each excludes all the others
    calls = [lambda h=h, a=a: requests.post(url, json={"action": a}, headers=h, timeout=30)
             for h, a in zip(moderators, actions, strict=True)]  # fmt: skip
    results = all_at_once(calls)
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409, 409, 409], [r.text for r in results]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"invalid_transition"}
    winner = next(r.json() for r in results if r.status_code == 200)
    with live_platform.db.unit_of_work() as session:
        assert session.get_one(UgcItem, item).status == winner["status"]
        history = session.scalars(
            select(UgcTransition.from_status).where(UgcTransition.ugc_id == item)
        ).all()
        assert history == ["pending_review"]
