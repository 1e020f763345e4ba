"""S3 with an identity's temporary credentials: the only module of this app that calls AWS.

Every request is signed (SigV4) with the identity's credentials, so IAM, not this app, decides
what each identity may read. Views see only this module's dataclasses and `StorageError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from config import aws

MAX_OBJECT_BYTES = 5 * 1024 * 1024


class StorageError(Exception):
    """An S3 call failed; `code` says why, `status` is the HTTP status to answer with."""

    def __init__(self, code: str, *, status: int = 502) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


# S3 error codes (and the bare statuses of HEAD answers), mapped to the app's codes.
_ERRORS: dict[str, tuple[str, int]] = {
    "AccessDenied": ("access_denied", 403),
    "403": ("access_denied", 403),
    "ExpiredToken": ("credentials_expired", 401),
    "InvalidAccessKeyId": ("credentials_expired", 401),
    "InvalidToken": ("credentials_expired", 401),
    "NoSuchKey": ("not_found", 404),
    "404": ("not_found", 404),
    "NoSuchBucket": ("bucket_missing", 502),
    "SlowDown": ("unavailable", 503),
}


@dataclass(frozen=True)
class StoredObject:
    """One object of a listing."""

    key: str
    name: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class ObjectContent:
    """An object's bytes and the type S3 has for it."""

    name: str
    body: bytes
    content_type: str


def objects_list(*, credentials: aws.StaticCredentials, prefix: str) -> tuple[StoredObject, ...]:
    """The objects under `prefix` (one ListObjectsV2 call, up to 1000 objects)."""
    answer = _call(credentials, "list_objects_v2", Bucket=_bucket(), Prefix=prefix)
    return tuple(
        StoredObject(
            key=item["Key"],
            name=item["Key"][len(prefix) :],
            size=item["Size"],
            last_modified=item["LastModified"],
        )
        for item in answer.get("Contents", [])
        if item["Key"] != prefix
    )


def object_get(*, credentials: aws.StaticCredentials, key: str) -> ObjectContent:
    """An object's content (GetObject), refused beyond MAX_OBJECT_BYTES."""
    answer = _call(credentials, "get_object", Bucket=_bucket(), Key=key)
    body = answer["Body"]
    try:
        if answer.get("ContentLength", 0) > MAX_OBJECT_BYTES:
            raise StorageError("too_large", status=413)
        data = body.read()
    finally:
        body.close()
    return ObjectContent(
        name=key.rsplit("/", 1)[-1],
        body=data,
        content_type=answer.get("ContentType") or "application/octet-stream",
    )


def object_put(
    *, credentials: aws.StaticCredentials, key: str, body: bytes, content_type: str
) -> None:
    """Store an object (PutObject)."""
    _call(credentials, "put_object", Bucket=_bucket(), Key=key, Body=body, ContentType=content_type)


def object_delete(*, credentials: aws.StaticCredentials, key: str) -> None:
    """Remove an object (DeleteObject); IAM decides whether this identity may."""
    _call(credentials, "delete_object", Bucket=_bucket(), Key=key)


def _bucket() -> str:
    if not settings.PROTECTED_BUCKET:
        raise StorageError("bucket_not_configured", status=404)
    return settings.PROTECTED_BUCKET


def _call(credentials: aws.StaticCredentials, operation: str, **params: Any) -> dict[str, Any]:
    client = aws.client("s3", credentials=credentials)
    try:
        return getattr(client, operation)(**params)
    except ClientError as error:
        aws_code = error.response.get("Error", {}).get("Code", "")
        code, status = _ERRORS.get(aws_code, ("storage_failed", 502))
        if aws_code not in _ERRORS and _http_status(error) >= 500:
            # InternalError, ServiceUnavailable: S3's fault, worth a retry later.
            code, status = "unavailable", 503
        raise StorageError(code, status=status) from None
    except BotoCoreError:
        raise StorageError("unavailable", status=503) from None


def _http_status(error: ClientError) -> int:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
