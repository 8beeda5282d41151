"""S3 and S3-compatible servers (SeaweedFS, MinIO, R2, ...) through boto3."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from player_platform.errors import NotFound
from storage import (
    ObjectInfo,
    PresignedRequest,
    attachment_disposition,
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
    return error.response.get("Error", {}).get("Code") in MISSING_CODES


class S3Storage:
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

    def presigned_put(self, key: str, *, content_type: str, expires_in: int) -> PresignedRequest:
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        # With ContentType among the params, SigV4 signs the header: another type fails.
        url = self._presign(
            "put_object", {"Key": self._key(key), "ContentType": content_type}, expires_in
        )
        return PresignedRequest(
            url=url, method="PUT", headers={"Content-Type": content_type}, expires_at=expires_at
        )

    def presigned_get(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        params = {"Key": self._key(key)}
        if filename:
            params["ResponseContentDisposition"] = attachment_disposition(filename)
        return self._presign("get_object", params, expires_in)

    def _presign(self, operation: str, params: dict[str, str], expires_in: int) -> str:
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
