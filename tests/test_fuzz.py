"""Schemathesis against the app's own /openapi.json: no 5xx, no answer off its document.

Requests are sent both anonymously and with a player's token, so the authenticated paths are
explored past the 401."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import signed_up

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    allow_header_conformance,
]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


@pytest.fixture
def player_headers(client, platform) -> dict[str, str]:
    return {"Authorization": f"Bearer {signed_up(platform)['access_token']}"}


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_answers_within_its_document(case, player_headers):
    case.call_and_validate(checks=CHECKS)
    case.call_and_validate(checks=CHECKS, headers={**(case.headers or {}), **player_headers})
