"""Bodies no JSON route may answer with a 500, on every JSON route of the app's own OpenAPI
document, anonymously and as a signed-in player: beside test_fuzz.py, which explores the
documented shapes, these are the shapes a parser chokes on."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import bearer, register

SURROGATE = '"\\ud800"'  # an unpaired UTF-16 surrogate, escaped as JSON allows it
DEEP = 100_000
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch"})
# Each is malformed for us: PostgreSQL cannot store it, or Python cannot parse it safely.
HOSTILE_VALUES = {
    "unpaired surrogate": SURROGATE,
    "unpaired low surrogate": '"a\\udc00b"',
    "surrogate encoded in UTF-8": b'"\xed\xa0\x80"',
    "invalid UTF-8": b'"\xff"',
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "a number past a double": "1e400",
    "an integer of 5,000 digits": "9" * 5_000,
    "arrays nested 100,000 deep": "[" * DEEP + "]" * DEEP,
    "objects nested 100,000 deep": '{"a":' * DEEP + "1" + "}" * DEEP,
}


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _bodies(value: str | bytes) -> list[bytes]:
    """The value alone, as a field of an object (metadata, display_name) and as a key."""
    value = _bytes(value)
    bodies = [
        value,
        b'{"email": "ada@example.com", "display_name": ' + value + b', "metadata": {"x": 1}}',
        b'{"score": 1, "metadata": {"note": ' + value + b"}}",
    ]
    if value.startswith(b'"'):
        bodies.append(b'{"metadata": {' + value + b": 1}}")
    return bodies


def json_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every operation whose request body is JSON, path parameters filled."""
    document = app.test_client().get("/openapi.json").get_json()
    routes = []
    for template, operations in document["paths"].items():
        path = template
        while "{" in path:
            start, end = path.index("{"), path.index("}")
            path = path[:start] + str(uuid.uuid4()) + path[end + 1 :]
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue  # path-level "parameters"
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                routes.append((method.upper(), path))
    return routes


@pytest.fixture
def routes(app) -> list[tuple[str, str]]:
    found = json_routes(app)
    assert len(found) > 20  # the document lists the API, not one route
    assert ("POST", "/v1/auth/register") in found
    return found


def _send(client, method: str, path: str, body: bytes, headers: dict[str, str]):
    return client.open(
        path, method=method, data=body, content_type="application/json", headers=headers
    )


def _assert_refused_as_malformed(response, what: str) -> None:
    assert response.status_code == 400, (what, response.status_code, response.get_data()[:300])
    assert response.mimetype == "application/problem+json", what
    assert response.get_json()["code"] == "invalid_json", what


@pytest.mark.parametrize("kind", HOSTILE_VALUES)
def test_every_json_route_refuses_a_body_it_cannot_store_with_400(client, routes, kind):
    player = bearer(register(client)["access_token"])
    for method, path in routes:
        for body in _bodies(HOSTILE_VALUES[kind]):
            for headers in ({}, player):
                response = _send(client, method, path, body, headers)
                _assert_refused_as_malformed(response, f"{kind}: {method} {path}")


def test_nesting_the_parser_accepts_is_no_500_on_any_route(client, routes):
    """1,000 levels: within the parser's limit but past Python's recursion limit, so a route
    that parsed the body again with the standard library would crash."""
    player = bearer(register(client)["access_token"])
    body = ('{"metadata": ' + "[" * 1000 + "]" * 1000 + "}").encode()
    for method, path in routes:
        for headers in ({}, player):
            response = _send(client, method, path, body, headers)
            assert response.status_code < 500, (method, path, response.get_data()[:300])


def test_a_leaderboard_score_with_nan_metadata_is_refused_before_the_group_commit(
    client, admin, routes
):
    season = client.post(
        "/v1/admin/seasons",
        json={
            "season_id": "hostile",
            "name": "Hostile",
            "type": "global",
            "start_date": "2020-01-01T00:00:00+00:00",
            "end_date": "2100-01-01T00:00:00+00:00",
        },
        headers=admin,
    )
    assert season.status_code == 201, season.get_json()
    player = bearer(register(client)["access_token"])
    path = "/v1/leaderboards/hostile/scores"
    for value in ("NaN", "Infinity", SURROGATE):
        body = f'{{"score": 5, "metadata": {{"note": {value}}}}}'.encode()
        _assert_refused_as_malformed(_send(client, "POST", path, body, player), value)
    accepted = client.post(path, json={"score": 5, "metadata": {"note": "ok"}}, headers=player)
    assert accepted.status_code in (200, 201), accepted.get_json()


# Any JSON document, with one hostile value somewhere inside it.
_leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=8))
_documents = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
MARKER = "\u2603hostile\u2603"


def _with_marker(document, path: list[int]):
    """``document`` with MARKER put in place of one of its values (chosen by ``path``)."""
    if isinstance(document, list) and document:
        index = path[0] % len(document) if path else 0
        document = list(document)
        document[index] = _with_marker(document[index], path[1:])
        return document
    if isinstance(document, dict) and document:
        key = sorted(document)[path[0] % len(document)] if path else next(iter(document))
        return {**document, key: _with_marker(document[key], path[1:])}
    return MARKER


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    document=_documents,
    path=st.lists(st.integers(0, 10), max_size=6),
    kind=st.sampled_from(sorted(k for k in HOSTILE_VALUES if "deep" not in k)),
    route=st.integers(0, 10_000),
)
def test_a_hostile_value_anywhere_in_any_document_is_refused(
    client, routes, document, path, kind, route
):
    text = json.dumps(_with_marker(document, path)).encode()
    body = text.replace(json.dumps(MARKER).encode(), _bytes(HOSTILE_VALUES[kind]))
    method, target = routes[route % len(routes)]
    _assert_refused_as_malformed(_send(client, method, target, body, {}), f"{kind}: {body[:200]}")
