"""With a shared cache (CACHE_URL), sessions and the signed-in user are read through it.

The cache here is Django's file cache in a temporary folder, the kind every process of one machine
shares; Redis plays the same part across machines. Each check has its twin without the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from tests.accounts.conftest import signed_in_as

pytestmark = pytest.mark.django_db

CACHED_DB = "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def shared_cache(settings: Any, tmp_path: Any) -> None:
    """The settings CACHE_URL=filecache://... gives (see tests/test_settings.py)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    settings.SHARED_CACHE = True
    settings.SESSION_ENGINE = CACHED_DB


def tables_read(client: Client) -> set[str]:
    """The tables one signed-in request reads (the health check adds its own `SELECT 1`)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/healthz").status_code == 200
    return {
        table
        for table in ("django_session", "accounts_user")
        if any(f'FROM "{table}"' in query["sql"] for query in queries.captured_queries)
    }


@pytest.mark.usefixtures("shared_cache")
def test_with_a_shared_cache_a_request_reads_neither_session_nor_user_from_the_database(
    bob: Client,
) -> None:
    tables_read(bob)  # the first request after sign-in may fill the cache

    assert tables_read(bob) == set()


def test_without_a_shared_cache_each_request_reads_session_and_user(bob: Client) -> None:
    tables_read(bob)

    assert tables_read(bob) == {"django_session", "accounts_user"}


@pytest.mark.usefixtures("shared_cache")
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda user: setattr(user, "is_active", False) or user.save(), id="deactivated"
        ),
        pytest.param(lambda user: user.delete(), id="deleted"),
    ],
)
def test_a_user_deactivated_or_deleted_is_signed_out_at_the_next_request(
    bob: Client, change: Callable[[User], None]
) -> None:
    assert signed_in_as(bob) == "bob"  # and bob's row is in the cache now

    change(User.objects.get(username="bob"))

    assert signed_in_as(bob) is None


@pytest.mark.usefixtures("shared_cache")
def test_a_saved_user_is_read_again_from_the_database(bob: Client) -> None:
    tables_read(bob)
    user = User.objects.get(username="bob")
    user.first_name = "Robert"
    user.save()

    assert tables_read(bob) == {"accounts_user"}
    assert tables_read(bob) == set()


@pytest.mark.usefixtures("shared_cache")
def test_a_change_the_orm_does_not_signal_is_seen_once_the_cached_row_expires(
    bob: Client, settings: Any
) -> None:
    settings.USER_CACHE_SECONDS = 1
    assert signed_in_as(bob) == "bob"
    User.objects.filter(username="bob").update(is_active=False)  # sends no signal

    assert signed_in_as(bob) == "bob"  # served from the cache, as documented
    time.sleep(1.2)
    assert signed_in_as(bob) is None


@pytest.mark.usefixtures("shared_cache")
def test_a_sign_out_ends_the_session_for_every_process_sharing_the_cache(
    bob: Client, emulator: Any
) -> None:
    # Another process, as far as the session goes: its own client with the same cookie.
    other = Client()
    cookie = settings.SESSION_COOKIE_NAME
    other.cookies[cookie] = bob.cookies[cookie].value
    assert signed_in_as(other) == "bob"

    assert bob.post("/accounts/logout/").status_code == 302

    assert signed_in_as(other) is None
