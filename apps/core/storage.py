"""S3 access: presigned POST uploads, object inspection and short-lived GET URLs (SigV4 everywhere)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from fastapi import Depends

from apps.core.settings import Settings, get_settings


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str


@dataclass(frozen=True)
class ObjectStart:
    size: int  # of the whole object
    content_type: str
    data: bytes  # its first bytes; all of them when `complete`

    @property
    def complete(self) -> bool:
        return len(self.data) == self.size


class ObjectMissing(Exception):
    """The object was never uploaded (or has been removed)."""


class ObjectEmpty(Exception):
    """The object exists and has no bytes."""


def make_s3_client(settings: Settings) -> Any:
    secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
    return boto3.client(
        "s3",
        region_name=settings.s3_region,
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret,
        config=Config(
            signature_version="s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=50,  # one per request thread, so no request opens a connection of its own
        ),
    )


@lru_cache
def get_s3_client() -> Any:
    return make_s3_client(get_settings())


async def get_request_s3_client() -> Any:
    """The process's S3 client as an `async` dependency (a sync one runs in a worker thread)."""
    return get_s3_client()


S3Dep = Annotated[Any, Depends(get_request_s3_client)]


def presign_upload(
    client: Any, bucket: str, key: str, content_type: str, max_bytes: int, ttl_seconds: int
) -> PresignedUpload:
    """A POST policy that only accepts this key, this exact content type and at most max_bytes."""
    post = client.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            ["content-length-range", 1, max_bytes],
        ],
        ExpiresIn=ttl_seconds,
    )
    return PresignedUpload(url=post["url"], fields=post["fields"])


@contextmanager
def _missing_object_as_error(key: str) -> Iterator[None]:
    """S3 reports a missing key as one of several error codes; callers get ObjectMissing."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            raise ObjectMissing(key) from error
        raise


def head_object(client: Any, bucket: str, key: str) -> StoredObject:
    with _missing_object_as_error(key):
        response = client.head_object(Bucket=bucket, Key=key)
    return StoredObject(size=int(response["ContentLength"]), content_type=response.get("ContentType", ""))


def read_object_start(client: Any, bucket: str, key: str, nbytes: int) -> ObjectStart:
    """One ranged GET: the object's size and type, and its first `nbytes` bytes (instead of a HEAD, then a
    GET of the whole object)."""
    with _missing_object_as_error(key):
        try:
            response = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{nbytes - 1}")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "InvalidRange":  # no byte 0: empty
                raise ObjectEmpty(key) from error
            raise
        data: bytes = response["Body"].read()
    # `Content-Range: bytes 0-{last}/{size}`; a server that ignores the range sends the whole object.
    content_range = response.get("ContentRange")
    size = int(content_range.rsplit("/", 1)[1]) if content_range else len(data)
    return ObjectStart(size=size, content_type=response.get("ContentType", ""), data=data)


def read_object(client: Any, bucket: str, key: str) -> bytes:
    with _missing_object_as_error(key):
        response = client.get_object(Bucket=bucket, Key=key)
        data: bytes = response["Body"].read()
    return data


def delete_objects(client: Any, bucket: str, keys: list[str]) -> list[str]:
    """Delete the keys, 1000 per request as S3 allows (a missing key counts as deleted); return the failed."""
    failed: list[str] = []
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start : start + 1000]]
        response = client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        failed += [error["Key"] for error in response.get("Errors", [])]
    return failed


def delete_all_objects(client: Any, bucket: str, keys: list[str]) -> None:
    """Delete the keys or raise: for purges that must not report success while an object remains."""
    failed = delete_objects(client, bucket, keys)
    if failed:
        raise RuntimeError(f"could not delete {len(failed)} object(s), e.g. {failed[0]!r}")


def presign_get(client: Any, bucket: str, key: str, ttl_seconds: int) -> str:
    url: str = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=ttl_seconds
    )
    return url


def ensure_bucket(client: Any, bucket: str, region: str, allowed_origins: list[str]) -> None:
    """Create the bucket if needed (local embedded S3); production buckets are owned by Pulumi."""
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["POST", "GET"],
                    "AllowedOrigins": allowed_origins,
                    "AllowedHeaders": ["*"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )


def list_keys(client: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", [])]
    return keys
