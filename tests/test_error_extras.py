"""A DomainError's extra members never replace the problem document's own (a UGC transition
once passed ``status=`` and every such answer was a 500): refused when the error is built, and
no raise in the source passes one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from player_platform.app import create_app  # imports every module that defines an error
from player_platform.errors import RESERVED_EXTRAS, Conflict, DomainError, RateLimited

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("player_platform", "blueprints", "workers", "storage")


@pytest.mark.parametrize("name", sorted(RESERVED_EXTRAS))
def test_a_reserved_extra_is_refused_when_the_error_is_built(name):
    with pytest.raises(TypeError, match=name):
        Conflict("Busy.", code="busy", **{name: "x"})


def test_other_extras_reach_the_problem_document(platform):
    app = create_app(platform=platform)

    @app.get("/v1/test-conflict")
    def conflict():
        raise Conflict("Busy.", code="busy", item_status="removed", errors={"name": ["Taken."]})

    response = app.test_client().get("/v1/test-conflict")
    body = response.get_json()
    assert response.status_code == body["status"] == 409
    assert body["code"] == "busy" and body["title"] == "Conflict" and body["detail"] == "Busy."
    assert body["item_status"] == "removed" and body["errors"] == {"name": ["Taken."]}


def test_rate_limited_keeps_its_retry_after_extra():
    assert RateLimited("Slow down.", retry_after=0).extra == {"retry_after": 1}


def _error_names() -> set[str]:
    names, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names


def test_no_error_raised_in_the_source_passes_a_reserved_extra():
    errors = _error_names()
    assert {"Conflict", "MalformedBody", "ProviderUnavailable"} <= errors
    found, calls = [], 0
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name not in errors:
                    continue
                calls += 1
                bad = {k.arg for k in node.keywords} & RESERVED_EXTRAS
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {sorted(bad)}"] if bad else []
    assert calls > 100  # the walk found the code's errors
    assert found == []
