"""The one parser of JSON request bodies: orjson, strict where Python's json is lenient.

Python's json accepts NaN and Infinity (PostgreSQL's json refuses them), decodes unpaired
surrogates into strings that cannot be encoded or stored, and raises RecursionError or
ValueError (500s) on deep nesting or huge integers. orjson refuses all of these: bodies over
1,024 levels deep, NaN/Infinity, lone surrogates, invalid UTF-8 and numbers past a double. Every
reader of a body goes through it: Flask's ``request.get_json`` (app.json), flask-smorest's
``@blp.arguments`` (BodyParser, through ApiBlueprint), and the guard that parses every /v1/ body
before anything else looks at it (blueprints/guards.py)."""

from __future__ import annotations

from typing import Any

import flask_smorest
import orjson
from flask import Request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from player_platform.errors import DomainError


class MalformedBody(DomainError):
    status, code, title = 400, "invalid_json", "Malformed JSON body"


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading with orjson (writing is unchanged)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


class ApiRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:  # not sent as JSON: werkzeug's 415
            return super().on_json_loading_failed(e)
        raise MalformedBody(
            f"The body is not JSON we accept ({e}). Strings are UTF-8 without unpaired "
            "surrogates; NaN and Infinity are not JSON; nesting stops at 1,024 levels.",
        )


class BodyParser(FlaskParser):
    """webargs parses bodies with Python's json itself: read the request's parsed body instead
    (parsed once, by the strict provider; an empty body is no body, as webargs has it)."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req) or not req.get_data(cache=True):
            return core.missing
        return req.get_json()


class ApiBlueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint whose ``@arguments`` read bodies through BodyParser."""

    ARGUMENTS_PARSER = BodyParser()
