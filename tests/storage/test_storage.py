from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit, urlunsplit

import botocore.exceptions
import pytest
import requests

from player_platform.errors import Invalid, NotFound
from storage import ObjectInfo, attachment_disposition, open_storage
from storage.local import LocalStorage
from storage.s3 import S3Storage, make_client
from tests.storage.conftest import (
    S3_ACCESS_KEY,
    S3_REGION,
    S3_SECRET_KEY,
    SECRET,
    files_app,
    s3_client,
)

MAP = "application/x-pp-map"
INVALID_KEYS = ["../x", "/abs", "a/../b", "a//b", "./a", "", "k" * 1025, "a\nb"]


def new_key(name: str = "level one ü.map") -> str:
    return f"ugc/map/{uuid.uuid4()}/{name}"


def with_param(url: str, name: str, value: str) -> str:
    """``url`` with one query parameter replaced, the rest of the query left byte for byte."""
    parts = urlsplit(url)
    pairs = parts.query.split("&")
    query = "&".join(f"{name}={value}" if p.partition("=")[0] == name else p for p in pairs)
    return urlunsplit(parts._replace(query=query))


def tamper_signature(url: str) -> str:
    name = "X-Amz-Signature" if "X-Amz-Signature=" in url else "sig"
    signature = url.partition(f"{name}=")[2].partition("&")[0]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    return with_param(url, name, flipped)


def test_put_get_head_delete_round_trip(backend):
    key, data = new_key(), b"\x00map bytes\xff" * 100

    backend.storage.put(key, data, content_type=MAP)

    assert backend.storage.get(key) == data
    assert backend.storage.head(key) == ObjectInfo(
        key=key, size=len(data), content_type=MAP, etag=hashlib.md5(data).hexdigest()
    )
    backend.storage.delete(key)
    assert backend.storage.head(key) is None


def test_put_replaces_bytes_and_content_type(backend):
    key = new_key()
    backend.storage.put(key, b"first", content_type=MAP)

    backend.storage.put(key, b"second version", content_type="image/png")

    assert backend.storage.get(key) == b"second version"
    assert backend.storage.head(key).content_type == "image/png"


def test_head_of_missing_key_is_none(backend):
    assert backend.storage.head(new_key()) is None


def test_get_of_missing_key_raises_not_found(backend):
    with pytest.raises(NotFound) as error:
        backend.storage.get(new_key())
    assert error.value.code == "object_not_found"


def test_delete_is_idempotent(backend):
    key = new_key()
    backend.storage.delete(key)
    backend.storage.put(key, b"x", content_type=MAP)

    backend.storage.delete(key)
    backend.storage.delete(key)

    assert backend.storage.head(key) is None


def test_presigned_put_uploads_with_the_signed_content_type(backend):
    key, data = new_key(), b"uploaded by a client"
    before = datetime.now(UTC)

    upload = backend.storage.presigned_put(key, content_type="image/png", expires_in=300)
    reply = backend.send(upload.method, upload.url, headers=upload.headers, data=data)

    # S3 answers a PUT with 200; our file route, which stores and returns nothing, with 204.
    assert reply.status == {"s3": 200, "local": 204}[backend.name], reply.body
    assert (upload.method, upload.headers) == ("PUT", {"Content-Type": "image/png"})
    assert before + timedelta(seconds=299) <= upload.expires_at <= before + timedelta(seconds=301)
    assert backend.storage.get(key) == data
    assert backend.storage.head(key).content_type == "image/png"


@pytest.mark.parametrize("sent_type", ["text/html", "image/png; charset=utf-8", None])
def test_presigned_put_with_another_content_type_is_rejected(backend, sent_type):
    key = new_key()
    upload = backend.storage.presigned_put(key, content_type="image/png", expires_in=300)
    headers = {"Content-Type": sent_type} if sent_type else {}

    reply = backend.send("PUT", upload.url, headers=headers, data=b"<script>alert(1)</script>")

    assert reply.status == 403
    assert backend.storage.head(key) is None


def test_presigned_get_downloads_bytes_with_their_content_type(backend):
    key, data = new_key(), b"some map"
    backend.storage.put(key, data, content_type=MAP)

    reply = backend.send("GET", backend.storage.presigned_get(key, expires_in=60))

    assert (reply.status, reply.body) == (200, data)
    assert reply.headers["Content-Type"] == MAP
    assert "Content-Disposition" not in reply.headers


def test_presigned_get_with_filename_is_an_attachment_of_that_name(backend):
    key = new_key()
    backend.storage.put(key, b"some map", content_type=MAP)

    url = backend.storage.presigned_get(key, expires_in=60, filename='Level "One" ü.map')
    reply = backend.send("GET", url)

    assert reply.status == 200
    assert reply.headers["Content-Disposition"] == attachment_disposition('Level "One" ü.map')
    assert reply.headers["Content-Disposition"] == (
        'attachment; filename="Level _One_ _.map"; '
        "filename*=UTF-8''Level%20%22One%22%20%C3%BC.map"
    )


def test_presigned_get_with_a_changed_signature_is_rejected(backend):
    key = new_key()
    backend.storage.put(key, b"private bytes", content_type=MAP)
    url = backend.storage.presigned_get(key, expires_in=60)
    assert backend.send("GET", url).body == b"private bytes"

    reply = backend.send("GET", tamper_signature(url))

    assert reply.status == 403
    assert b"private bytes" not in reply.body


def test_presigned_get_for_another_key_is_rejected(backend):
    mine, theirs = new_key("mine.map"), new_key("theirs.map")
    backend.storage.put(mine, b"mine", content_type=MAP)
    backend.storage.put(theirs, b"their bytes", content_type=MAP)
    url = backend.storage.presigned_get(mine, expires_in=60)

    reply = backend.send("GET", url.replace(quote(mine), quote(theirs)))

    assert reply.status == 403
    assert b"their bytes" not in reply.body


def test_expired_presigned_urls_are_rejected(backend):
    key = new_key()
    backend.storage.put(key, b"original", content_type=MAP)
    download = backend.storage.presigned_get(key, expires_in=1)
    upload = backend.storage.presigned_put(key, content_type=MAP, expires_in=1)

    time.sleep(2)

    assert backend.send("GET", download).status == 403
    assert backend.send("PUT", upload.url, headers=upload.headers, data=b"new").status == 403
    assert backend.storage.get(key) == b"original"


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_keys_are_refused_by_every_operation(backend, key):
    operations = [
        lambda: backend.storage.put(key, b"x", content_type=MAP),
        lambda: backend.storage.get(key),
        lambda: backend.storage.head(key),
        lambda: backend.storage.delete(key),
        lambda: backend.storage.presigned_put(key, content_type=MAP, expires_in=60),
        lambda: backend.storage.presigned_get(key, expires_in=60),
    ]
    for operation in operations:
        with pytest.raises(Invalid) as error:
            operation()
        assert error.value.code == "invalid_key"


@pytest.mark.parametrize("expires_in", [0, -5, 7 * 24 * 3600 + 1])
def test_presigned_urls_live_one_second_to_one_week(backend, expires_in):
    with pytest.raises(ValueError):
        backend.storage.presigned_get(new_key(), expires_in=expires_in)


def test_check_passes_on_a_reachable_store(backend):
    backend.storage.check()


# S3 only


def test_s3_server_refuses_unsigned_and_wrongly_signed_requests(s3_endpoint, s3_storage):
    key = new_key("secret.map")
    s3_storage.put(key, b"secret", content_type=MAP)
    wrong = S3Storage(
        make_client(s3_endpoint, S3_REGION, access_key=S3_ACCESS_KEY, secret_key="wrong"),
        s3_storage.bucket,
    )

    unsigned = requests.get(f"{s3_endpoint}/{s3_storage.bucket}/{quote(key)}", timeout=5)

    assert unsigned.status_code == 403
    with pytest.raises(botocore.exceptions.ClientError, match="SignatureDoesNotMatch"):
        wrong.get(key)


def test_s3_check_fails_for_a_missing_bucket(s3_endpoint):
    storage = S3Storage(s3_client(s3_endpoint), f"pp-missing-{uuid.uuid4().hex}")
    with pytest.raises(botocore.exceptions.ClientError):
        storage.check()


def test_ensure_bucket_is_idempotent(s3_storage):
    s3_storage.ensure_bucket()
    s3_storage.check()


def test_open_storage_s3_url_uses_env_credentials_and_prefix(s3_endpoint, s3_bucket, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY)
    storage = open_storage(
        f"s3://{s3_bucket}/tenant-a/",
        secret=SECRET,
        public_base_url="http://unused",
        s3_endpoint_url=s3_endpoint,
        s3_region=S3_REGION,
    )

    storage.put("receipts/1.json", b"{}", content_type="application/json")

    assert isinstance(storage, S3Storage)
    raw = s3_client(s3_endpoint)
    assert raw.get_object(Bucket=s3_bucket, Key="tenant-a/receipts/1.json")["Body"].read() == b"{}"
    assert storage.get("receipts/1.json") == b"{}"


# Local disk only


def open_file_url(url: str) -> LocalStorage:
    storage = open_storage(
        url, secret=SECRET, public_base_url="http://x", s3_endpoint_url=None, s3_region=S3_REGION
    )
    assert isinstance(storage, LocalStorage)
    return storage


def test_open_storage_file_url_roots_relative_paths_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    assert open_file_url("file://var/storage").root == tmp_path / "var" / "storage"
    assert open_file_url(f"file://{tmp_path}/abs").root == tmp_path / "abs"
    assert (tmp_path / "var" / "storage").is_dir()


@pytest.mark.parametrize("url", ["var/storage", "s3://", "ftp://host/x", "file://"])
def test_open_storage_refuses_other_urls(url):
    with pytest.raises(ValueError):
        open_storage(
            url, secret=SECRET, public_base_url="http://x", s3_endpoint_url=None, s3_region="x"
        )


def test_local_put_leaves_only_the_object_and_its_metadata(local_storage):
    local_storage.put("a/b.map", b"x", content_type=MAP)
    local_storage.put("a/b.map", b"y", content_type=MAP)

    root = local_storage.root
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    assert files == ["meta/a/b.map", "objects/a/b.map"]


def test_local_metadata_never_collides_with_another_key(local_storage):
    local_storage.put("report", b"data", content_type=MAP)
    local_storage.put("report.meta.json", b"other", content_type="application/json")

    assert local_storage.head("report").content_type == MAP
    assert local_storage.get("report.meta.json") == b"other"


def test_local_signature_holds_until_expiry_and_not_after(local_storage):
    upload = local_storage.presigned_put("k.map", content_type=MAP, expires_in=60)
    query = dict(p.split("=", 1) for p in urlsplit(upload.url).query.split("&"))
    expires, sig = int(query["expires"]), query["sig"]

    def verify(now: datetime, content_type: str = MAP) -> bool:
        return local_storage.verify_signature("k.map", "PUT", expires, content_type, sig, now)

    assert verify(upload.expires_at)
    assert not verify(upload.expires_at + timedelta(seconds=1))
    assert not verify(upload.expires_at, content_type="text/html")
    assert not local_storage.verify_signature("k.map", "GET", expires, MAP, sig, upload.expires_at)


def test_local_urls_signed_with_another_secret_are_rejected(local_storage):
    other = LocalStorage(local_storage.root, secret="another", public_base_url="http://testserver")
    local_storage.put("k.map", b"x", content_type=MAP)

    reply = files_app(local_storage).test_client().get(other.presigned_get("k.map", expires_in=60))

    assert reply.status_code == 403


@pytest.mark.parametrize(
    "query",
    ["", "expires=soon&method=GET&sig=00", "expires=99999999999&method=GET&sig=%C3%BC", "sig="],
)
def test_files_blueprint_answers_bad_signatures_with_problem_json(local_storage, query):
    local_storage.put("k.map", b"x", content_type=MAP)

    reply = files_app(local_storage).test_client().get(f"/files/k.map?{query}")

    assert reply.status_code == 403
    assert reply.mimetype == "application/problem+json"
    assert reply.get_json() == {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "code": "invalid_signature",
        "detail": "The link is invalid or has expired.",
    }


def test_files_blueprint_serves_downloads_sandboxed(local_storage):
    local_storage.put("page.html", b"<script>alert(1)</script>", content_type="text/html")
    url = local_storage.presigned_get("page.html", expires_in=60)

    reply = files_app(local_storage).test_client().get(url)

    assert reply.status_code == 200
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Content-Security-Policy"] == "sandbox"


def test_files_blueprint_answers_404_for_a_signed_url_to_a_deleted_object(local_storage):
    local_storage.put("gone.map", b"x", content_type=MAP)
    url = local_storage.presigned_get("gone.map", expires_in=60)
    local_storage.delete("gone.map")

    reply = files_app(local_storage).test_client().get(url)

    assert reply.status_code == 404
    assert reply.get_json()["code"] == "object_not_found"


def test_files_blueprint_is_off_when_storage_is_s3(local_storage):
    url = local_storage.presigned_get("k.map", expires_in=60)
    local_storage.put("k.map", b"x", content_type=MAP)
    s3 = S3Storage(make_client("http://127.0.0.1:9", S3_REGION), "unused")

    reply = files_app(s3).test_client().get(url)

    assert reply.status_code == 404
    assert reply.mimetype == "application/problem+json"
