"""S3 and S3-compatible servers (SeaweedFS, MinIO, R2, ...) through boto3."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from player_platform.errors import InvalidState, NotFound
from storage import (
    ObjectInfo,
    PresignedRequest,
    attachment_disposition,
    sha256_base64,
    validate_expires_in,
    validate_key,
)

CLIENT_CONFIG = Config(
    signature_version="s3v4",
    s3={"addressing_style": "path"},
    connect_timeout=3,
    read_timeout=30,
    retries={"mode": "standard", "max_attempts": 3},
)
MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
# What S3 answers CompleteMultipartUpload when the parts are not the ones listed.
INCOMPLETE_CODES = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "NoSuchUpload"}


def make_client(
    endpoint_url: str | None,
    region: str,
    *,
    access_key: str | None = None,
    secret_key: str | None = None,
) -> Any:
    """An S3 client; without keys, credentials come from AWS_* env vars and the usual chain."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=CLIENT_CONFIG,
    )


def _is_missing(error: ClientError) -> bool:
    return _code(error) in MISSING_CODES


class S3Storage:
    supports_multipart = True

    def __init__(self, client: Any, bucket: str, *, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    @classmethod
    def connect(
        cls, bucket: str, *, prefix: str, endpoint_url: str | None, region: str
    ) -> S3Storage:
        return cls(make_client(endpoint_url, region), bucket, prefix=prefix)

    def _key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
        )

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if _is_missing(error):
                raise NotFound(f"No object {key!r}.", code="object_not_found") from None
            raise
        with response["Body"] as body:
            return body.read()

    def read_range(self, key: str, *, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{start + length - 1}"
            )
        except ClientError as error:
            if _is_missing(error):
                raise NotFound(f"No object {key!r}.", code="object_not_found") from None
            if error.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""  # start at or past the end
            raise
        with response["Body"] as body:
            return body.read(length)

    def download(self, key: str, into: BinaryIO) -> None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if _is_missing(error):
                raise NotFound(f"No object {key!r}.", code="object_not_found") from None
            raise
        body = response["Body"]  # a StreamingBody; its context manager yields the raw stream
        try:
            for chunk in body.iter_chunks(1024 * 1024):
                into.write(chunk)
        finally:
            body.close()

    def copy(self, source: str, target: str) -> None:
        self.client.copy_object(
            Bucket=self.bucket,
            Key=self._key(target),
            CopySource={"Bucket": self.bucket, "Key": self._key(source)},
        )

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if _is_missing(error):
                return None
            raise
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            content_type=response.get("ContentType", "application/octet-stream"),
            etag=response["ETag"].strip('"'),
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def presigned_put(
        self,
        key: str,
        *,
        content_type: str,
        expires_in: int,
        content_length: int | None = None,
        sha256: str | None = None,
    ) -> PresignedRequest:
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        # Every param here becomes a signed header (SigV4): another type, length or body
        # digest fails the signature or the server's checksum check.
        params: dict[str, Any] = {"Key": self._key(key), "ContentType": content_type}
        headers = {"Content-Type": content_type}
        if content_length is not None:
            params["ContentLength"] = content_length
            headers["Content-Length"] = str(content_length)
        if sha256 is not None:
            params["ChecksumSHA256"] = headers["x-amz-checksum-sha256"] = sha256_base64(sha256)
        url = self._presign("put_object", params, expires_in)
        return PresignedRequest(url=url, method="PUT", headers=headers, expires_at=expires_at)

    def start_multipart(self, key: str, *, content_type: str) -> str:
        response = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self._key(key), ContentType=content_type
        )
        return response["UploadId"]

    def presigned_part(
        self, key: str, *, upload_id: str, part_number: int, content_length: int, expires_in: int
    ) -> PresignedRequest:
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        params = {
            "Key": self._key(key),
            "UploadId": upload_id,
            "PartNumber": part_number,
            "ContentLength": content_length,
        }
        url = self._presign("upload_part", params, expires_in)
        headers = {"Content-Length": str(content_length)}
        return PresignedRequest(url=url, method="PUT", headers=headers, expires_at=expires_at)

    def finish_multipart(self, key: str, *, upload_id: str, part_sizes: list[int]) -> None:
        parts = self._uploaded_parts(key, upload_id=upload_id)
        if not parts:
            raise InvalidState("No part has been uploaded yet.", code="upload_missing")
        sizes = {p["PartNumber"]: p["Size"] for p in parts}
        expected = dict(enumerate(part_sizes, start=1))
        if sizes != expected:
            raise _incomplete(
                missing=sorted(expected.keys() - sizes.keys()),
                wrong=sorted(n for n in sizes if expected.get(n) != sizes[n]),
            )
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self._key(key),
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
                },
            )
        except ClientError as error:  # a part replaced or the upload gone meanwhile
            if _code(error) in INCOMPLETE_CODES:
                raise _incomplete(missing=[], wrong=[]) from None
            raise

    def _uploaded_parts(self, key: str, *, upload_id: str) -> list[dict[str, Any]]:
        """The parts uploaded so far, by part number; [] when the upload is unknown."""
        pages = self.client.get_paginator("list_parts").paginate(
            Bucket=self.bucket, Key=self._key(key), UploadId=upload_id
        )
        try:
            parts = [part for page in pages for part in page.get("Parts", [])]
        except ClientError as error:
            if _code(error) == "NoSuchUpload":
                return []
            raise
        return sorted(parts, key=lambda p: p["PartNumber"])

    def abort_multipart(self, key: str, *, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self._key(key), UploadId=upload_id
            )
        except ClientError as error:
            if _code(error) != "NoSuchUpload":
                raise

    def presigned_get(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        params = {"Key": self._key(key)}
        if filename:
            params["ResponseContentDisposition"] = attachment_disposition(filename)
        return self._presign("get_object", params, expires_in)

    def _presign(self, operation: str, params: dict[str, Any], expires_in: int) -> str:
        return self.client.generate_presigned_url(
            operation,
            Params={"Bucket": self.bucket, **params},
            ExpiresIn=validate_expires_in(expires_in),
        )

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (tests and local setups; production provisions it)."""
        options: dict[str, Any] = {}
        region = self.client.meta.region_name
        if region and region != "us-east-1":
            options["CreateBucketConfiguration"] = {"LocationConstraint": region}
        with contextlib.suppress(self.client.exceptions.BucketAlreadyOwnedByYou):
            self.client.create_bucket(Bucket=self.bucket, **options)


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def _incomplete(*, missing: list[int], wrong: list[int]) -> InvalidState:
    return InvalidState(
        "Some parts of the upload are missing or not of their declared length: upload them "
        "again to their URLs and complete again.",
        code="upload_incomplete",
        missing_parts=missing,
        wrong_parts=wrong,
    )
