"""boto3 clients for every app: built once per process, explicit timeouts, `standard` retries.

A new boto3 session plus client costs about 150 ms, a client from a shared session about 8 ms, a
cached one nothing: never build one per request. One session serves the process and each client
is cached per (service, region, endpoint, timeouts, credentials). Clients are thread-safe once
built; building them is not, hence the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from django.conf import settings

# Called with each new client's event system: the demo's flow trace (flows/trace.py) registers
# its botocore hooks here, so /flows/ shows each call, never a secret.
CLIENT_HOOKS: list[Callable[[Any], None]] = []
# Enough for every signed-in user of a busy worker; the least recently used client goes first.
MAX_CLIENTS = 256

_clients: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()
_session: boto3.session.Session | None = None


@dataclass(frozen=True)
class StaticCredentials:
    """Temporary AWS credentials to sign with (an identity's, never the app's own)."""

    access_key_id: str
    secret_access_key: str
    session_token: str

    def __repr__(self) -> str:
        # Never let a secret reach a log line or a traceback through repr().
        return f"StaticCredentials(access_key_id={self.access_key_id[:4]}...)"


def session() -> boto3.session.Session:
    """The process's one boto3 session (botocore event hooks registered here reach new clients)."""
    global _session
    if _session is None:
        with _lock:
            if _session is None:
                _session = boto3.session.Session()
    return _session


def client(service: str, *, credentials: StaticCredentials | None = None) -> Any:
    """The shared client for `service`: the app's own credentials, or the given temporary ones."""
    if credentials is None:
        return aws_client(service)
    return aws_client(
        service,
        access_key_id=credentials.access_key_id,
        secret_access_key=credentials.secret_access_key,
        session_token=credentials.session_token,
    )


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
    shared = session()
    with _lock:
        client = _clients.get(key)
        if client is not None:
            _clients.move_to_end(key)
            return client
        client = shared.client(
            service,
            region_name=settings.AWS_REGION,
            endpoint_url=settings.AWS_ENDPOINT_URL,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=session_token,
            config=Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                # Three attempts in all, the first included (botocore's `max_attempts` would count
                # retries only, one more call): a hung service answers within seconds.
                retries={"mode": "standard", "total_max_attempts": 3},
            ),
        )
        for hook in CLIENT_HOOKS:
            hook(client.meta.events)
        _clients[key] = client
        while len(_clients) > MAX_CLIENTS:
            _clients.popitem(last=False)
    return client


def clients_clear() -> None:
    """Forget every cached client (settings changed, or a test wants a clean count)."""
    with _lock:
        _clients.clear()
