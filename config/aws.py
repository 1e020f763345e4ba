"""boto3 clients for every app: built once per process, explicit timeouts, `standard` retries.

A new boto3 session plus client costs about 150 ms, a cached one nothing: never build one per
request. Clients are thread-safe once built; building them is not, hence the lock.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config
from django.conf import settings

_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def aws_client(
    service: str,
    *,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
) -> Any:
    """The shared client for `service` in AWS_REGION at AWS_ENDPOINT_URL, per set of credentials.

    Without credentials, boto3's usual chain supplies them (and operations that AWS marks as
    unauthenticated, such as cognito-idp's InitiateAuth, are sent unsigned anyway).
    """
    connect_timeout, read_timeout = settings.HTTP_TIMEOUT
    key = (
        service,
        settings.AWS_REGION,
        settings.AWS_ENDPOINT_URL,
        connect_timeout,
        read_timeout,
        access_key_id,
        secret_access_key,
        session_token,
    )
    client = _clients.get(key)
    if client is None:
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = boto3.session.Session().client(
                    service,
                    region_name=settings.AWS_REGION,
                    endpoint_url=settings.AWS_ENDPOINT_URL,
                    aws_access_key_id=access_key_id,
                    aws_secret_access_key=secret_access_key,
                    aws_session_token=session_token,
                    config=Config(
                        connect_timeout=connect_timeout,
                        read_timeout=read_timeout,
                        retries={"mode": "standard", "max_attempts": 3},
                    ),
                )
                _clients[key] = client
    return client
