"""Managed login driven for real: the app through Django's test client, the pool's hosted pages
through requests, speaking HTTP to the emulator."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pyotp
import pytest
import requests
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from accounts.session import PENDING_LOGINS, TOKENS
from emulator import seed
from signin.session import SIGNIN_ATTEMPT
from tests.html_forms import FirstForm

USERS = {user.username: user for user in seed.DEMO_USERS}


def _form(response: requests.Response) -> tuple[str, dict[str, str]]:
    parser = FirstForm()
    parser.feed(response.text)
    assert parser.action is not None, f"no form on {response.url}: {response.text[:300]}"
    return urljoin(response.url, parser.action), parser.fields


def hosted_sign_in(authorize_url: str, username: str, *, app_url: str | None = None) -> str:
    """Sign in on the pool's hosted pages; the callback URL (with code and state) it sends back.

    `app_url` is the site the callback belongs to: this test run's site unless another is named.
    """
    user = USERS[username]
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    action, fields = _form(page)
    answer = browser.post(
        action,
        data={**fields, "username": user.username, "password": user.password},
        allow_redirects=False,
        timeout=10,
    )
    for attempt in range(2):
        if not (answer.status_code == 200 and 'name="code"' in answer.text):
            break
        totp = pyotp.TOTP(user.totp_secret)
        if attempt:
            # The pool takes each TOTP code once: wait for the next one.
            time.sleep(totp.interval - time.time() % totp.interval + 0.5)
        action, fields = _form(answer)
        answer = browser.post(
            action, data={**fields, "code": totp.now()}, allow_redirects=False, timeout=10
        )
    assert answer.status_code in (302, 303), answer.text[:500]
    location = answer.headers["Location"]
    assert location.startswith(f"{app_url or settings.APP_URL}/accounts/callback/?"), location
    return location


def site_sign_in(browser: requests.Session, site: str, username: str) -> None:
    """Sign `browser` in to a running site (not this test run's) through its managed login."""
    start = browser.get(f"{site}/accounts/login/", allow_redirects=False, timeout=10)
    callback = hosted_sign_in(start.headers["Location"], username, app_url=site)
    assert browser.get(callback, allow_redirects=False, timeout=10).status_code == 302


def signed_in_as(client: Client) -> str | None:
    """The username the home page shows `client` signed in as, or None."""
    user = client.get("/").context["user"]
    return user.username if user.is_authenticated else None


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@dataclass
class Started:
    """A login started in the app: the authorize URL it redirected to and its state."""

    authorize_url: str
    state: str

    @property
    def params(self) -> dict[str, str]:
        return query(self.authorize_url)


def start_login(client: Client, next_url: str | None = None, **extra: Any) -> Started:
    path = "/accounts/login/" + (f"?next={requests.utils.quote(next_url)}" if next_url else "")
    response = client.get(path, **extra)
    assert response.status_code == 302
    url = response["Location"]
    return Started(authorize_url=url, state=query(url)["state"])


def pending_logins(client: Client) -> dict[str, dict[str, Any]]:
    return client.session.get(PENDING_LOGINS, {})


def stored_tokens(client: Client) -> dict[str, Any] | None:
    return client.session.get(TOKENS)


def edit_session(client: Client, change: Callable[[Any], None]) -> None:
    """Change the server-side session of this client, as another request would."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(
        session_key=client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    change(store)
    store.save()


def exchange_code_directly(code: str, verifier: str) -> requests.Response:
    """The token request the app would make, made by the test: proves whether a code is unspent."""
    return requests.post(
        f"{settings.COGNITO_DOMAIN}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": f"{settings.APP_URL}/accounts/callback/",
            "code_verifier": verifier,
        },
        auth=(settings.COGNITO_CLIENT_ID, settings.COGNITO_CLIENT_SECRET),
        timeout=10,
    )


@pytest.fixture
def sign_in(emulator: Any, client: Client, db: None) -> Callable[..., Any]:
    """Sign `client` in as a demo user through the whole managed login; the callback response."""

    def sign_in(username: str = "bob", *, next_url: str | None = None, on: Client = client) -> Any:
        started = start_login(on, next_url)
        return on.get(relative(hosted_sign_in(started.authorize_url, username)))

    return sign_in


@pytest.fixture
def bob(sign_in: Callable[..., Any], client: Client) -> Client:
    """The test client, signed in as bob through managed login."""
    assert sign_in("bob").status_code == 302
    return client


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: Any) -> None:
    """Pages render without a collectstatic run (the manifest storage needs one)."""
    # Belongs in tests/settings.py; kept here until that file sets it for every test.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# --- API sign-in helpers ------------------------------------------------------------------------


def inbox_code(emulator: Any, to: str, kind: str | None = None) -> str:
    """The newest code the pool sent to `to` (an email address or a phone number)."""
    messages = [m for m in emulator.inbox.messages(to=to) if kind is None or m.kind == kind]
    assert messages, f"no message to {to}: {[m.kind for m in emulator.inbox.messages()]}"
    return messages[-1].code


def totp_now(secret: str, *, steps_ahead: int = 0) -> str:
    """The TOTP code of `secret` for now, or a later 30 s step (the pool takes each code once)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def api_signin(client: Client, username: str, password: str | None = None, **extra: Any) -> Any:
    """Post the app's own sign-in form."""
    password = USERS[username].password if password is None else password
    return client.post("/accounts/signin/", {"username": username, "password": password}, **extra)


def attempt_id(client: Client) -> str:
    """The id of the sign-in attempt in progress, as its step page carries it."""
    return client.session[SIGNIN_ATTEMPT]["id"]


@pytest.fixture(autouse=True)
def _no_rate_limit_leftovers() -> None:
    """Rate-limit counters live in the cache: each test starts with none."""
    cache.clear()


@pytest.fixture
def api_signed_in(emulator: Any, client: Client, db: None) -> Callable[..., Client]:
    """Sign `client` in through the app's own form (bob: no MFA; alice: TOTP)."""

    def sign_in(username: str = "bob") -> Client:
        response = api_signin(client, username)
        if USERS[username].mfa == "totp":
            assert response["Location"] == "/accounts/signin/mfa/"
            code = totp_now(USERS[username].totp_secret)
            response = client.post(
                "/accounts/signin/mfa/", {"attempt": attempt_id(client), "code": code}
            )
        assert response.status_code == 302 and response["Location"] == "/", response
        return client

    return sign_in
