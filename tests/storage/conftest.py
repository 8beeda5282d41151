"""Both storage backends, each with a way to follow its presigned URLs the way a client would.

S3 is a real SeaweedFS server that checks signatures (`scripts/start-s3.sh`); local disk is
served through blueprints/files.py in a minimal Flask app.
"""

from __future__ import annotations

import os
import types
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import flask
import pytest
import requests

from blueprints import files
from storage import Storage
from storage.local import LocalStorage
from storage.s3 import S3Storage, make_client

S3_ENDPOINT = os.environ.get("PP_TEST_S3_ENDPOINT", "http://127.0.0.1:8333")
S3_ACCESS_KEY = os.environ.get("PP_TEST_S3_ACCESS_KEY", "pp-test")
S3_SECRET_KEY = os.environ.get("PP_TEST_S3_SECRET_KEY", "pp-test-secret")
S3_REGION = "us-east-1"
SECRET = "storage-test-secret"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: Mapping[str, str]


# send(method, url, headers=..., data=...) -> Reply
Send = Callable[..., Reply]


@dataclass(frozen=True)
class Backend:
    name: str
    storage: Storage
    send: Send


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    try:
        requests.get(S3_ENDPOINT, timeout=2)
    except requests.ConnectionError as error:
        message = f"no S3 server answers on {S3_ENDPOINT} ({error.__class__.__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; CI needs it", pytrace=False)
        pytest.skip(message + "; start one with scripts/start-s3.sh")
    return S3_ENDPOINT


def s3_client(endpoint: str):
    return make_client(endpoint, S3_REGION, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY)


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> Iterator[str]:
    """A fresh bucket, emptied and deleted after the test."""
    client = s3_client(s3_endpoint)
    bucket = f"pp-test-{uuid.uuid4().hex[:16]}"
    S3Storage(client, bucket).ensure_bucket()
    yield bucket
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_storage(s3_endpoint: str, s3_bucket: str) -> S3Storage:
    return S3Storage(s3_client(s3_endpoint), s3_bucket)


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage", secret=SECRET, public_base_url="http://testserver")


def files_app(storage: Storage) -> flask.Flask:
    app = flask.Flask(__name__)
    app.register_blueprint(files.bp)
    app.extensions["player_platform"] = types.SimpleNamespace(storage=storage)
    return app


def send_over_http(method: str, url: str, *, headers=None, data: bytes | None = None) -> Reply:
    response = requests.request(method, url, headers=headers, data=data, timeout=10)
    return Reply(response.status_code, response.content, response.headers)


def sender_for(app: flask.Flask) -> Send:
    """Send a URL's path and query string to ``app`` through the Flask test client."""
    client = app.test_client()

    def send(method: str, url: str, *, headers=None, data: bytes | None = None) -> Reply:
        parts = urlsplit(url)
        response = client.open(
            parts.path, method=method, query_string=parts.query, headers=headers, data=data
        )
        return Reply(response.status_code, response.get_data(), response.headers)

    return send


@pytest.fixture(params=["s3", "local"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "s3":
        return Backend("s3", request.getfixturevalue("s3_storage"), send_over_http)
    storage = request.getfixturevalue("local_storage")
    return Backend("local", storage, sender_for(files_app(storage)))
