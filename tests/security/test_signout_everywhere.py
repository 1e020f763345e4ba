"""Attack: after "sign out on every device", a session left open elsewhere (a shared computer, a
stolen cookie) keeps using this site, or managed login signs this browser straight back in.

Signing out everywhere revokes the pool's refresh tokens (GlobalSignOut), ends every session of
the user on this site (the user's session hash changes, so Django flushes each at its next
request, with the database or the shared cache holding sessions), and sends this browser
through the pool's /logout. Real HTTP to the emulator throughout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from django.conf import settings
from django.test import Client

from accounts.services import logout_url
from accounts.session import TOKENS
from tests.accounts.conftest import USERS, _form, api_signin, relative, signed_in_as, start_login

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "shared cache"])
def sessions_in(request: pytest.FixtureRequest, settings: Any, tmp_path: Any) -> str:
    """Sessions in the database (the default), or read through a shared cache (CACHE_URL)."""
    if request.param == "shared cache":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
        settings.SHARED_CACHE = True
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    return request.param


def signed_in_elsewhere(username: str) -> Client:
    other = Client()  # another browser; a new network too would be Medium risk (an email code)
    assert api_signin(other, username)["Location"] == "/"
    return other


def test_signing_out_everywhere_ends_the_users_sessions_in_other_browsers(
    emulator: Any, client: Client, api_signed_in: Callable, sessions_in: str
) -> None:
    api_signed_in("bob")
    elsewhere = signed_in_elsewhere("bob")
    assert signed_in_as(elsewhere) == "bob"

    client.post("/accounts/signout/everywhere/")

    assert signed_in_as(elsewhere) is None
    assert TOKENS not in elsewhere.session
    assert signed_in_as(client) is None


def test_signing_out_everywhere_leaves_other_users_signed_in(
    emulator: Any, client: Client, api_signed_in: Callable, sign_in: Callable, sessions_in: str
) -> None:
    api_signed_in("bob")
    carol = Client()
    sign_in("carol", on=carol)
    assert signed_in_as(carol) == "carol"

    client.post("/accounts/signout/everywhere/")

    assert signed_in_as(carol) == "carol" and TOKENS in carol.session


def test_signing_out_in_one_browser_leaves_the_others_signed_in(
    emulator: Any, client: Client, api_signed_in: Callable, sessions_in: str
) -> None:
    api_signed_in("bob")
    elsewhere = signed_in_elsewhere("bob")

    client.post("/accounts/logout/")

    assert signed_in_as(elsewhere) == "bob" and TOKENS in elsewhere.session


def test_a_sign_in_after_signing_out_everywhere_stays_signed_in(
    emulator: Any, client: Client, api_signed_in: Callable, sessions_in: str
) -> None:
    api_signed_in("bob")
    client.post("/accounts/signout/everywhere/")

    again = signed_in_elsewhere("bob")

    assert signed_in_as(again) == "bob"
    assert signed_in_as(again) == "bob"  # and on the request after that


# --- this browser and managed login --------------------------------------------------------------


def managed_sign_in(client: Client, browser: requests.Session) -> str:
    """Managed login with `browser` holding the pool's cookies: did the pool ask for a password?"""
    answer = browser.get(start_login(client).authorize_url, allow_redirects=False, timeout=10)
    asked = not answer.headers["Location"].startswith(f"{settings.APP_URL}/")
    if asked:  # the pool's sign-in form: this browser has no managed-login session
        page = browser.get(urljoin(answer.url, answer.headers["Location"]), timeout=10)
        action, fields = _form(page)
        user = USERS["bob"]
        answer = browser.post(
            action,
            data={**fields, "username": user.username, "password": user.password},
            allow_redirects=False,
            timeout=10,
        )
    assert client.get(relative(answer.headers["Location"])).status_code == 302
    return "asked for the password" if asked else "signed in at once"


def test_this_browser_is_sent_through_the_pools_logout(
    emulator: Any, client: Client, api_signed_in: Callable
) -> None:
    browser = requests.Session()
    assert managed_sign_in(client, browser) == "asked for the password"
    # Without the pool's /logout, managed login signs this browser straight back in.
    assert managed_sign_in(client, browser) == "signed in at once"
    api_signed_in("bob")  # tokens that may call the account API, whatever COGNITO_SCOPES says

    response = client.post("/accounts/signout/everywhere/")
    assert response["Location"] == logout_url()
    back = browser.get(response["Location"], allow_redirects=False, timeout=10)

    assert back.headers["Location"] == f"{settings.APP_URL}/"
    assert managed_sign_in(client, browser) == "asked for the password"
