"""Injected scripts, framing, leaky referrers and cookie tossing: the headers that stop them.

Every HTML page carries django-csp's strict policy (no inline script or style, no framing, no
`<base>`, no plugins, forms only to the site and managed login); a URL that holds a code gets
`Referrer-Policy: no-referrer`; every 429 says when to come back; over HTTPS the cookies are
`__Host-` cookies. Each refusal has its accepted twin.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tests.accounts.conftest import _plain_static_storage, api_signin, bob, sign_in

__all__ = ["_plain_static_storage", "bob", "sign_in"]  # fixtures

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ANONYMOUS_PAGES = [
    "/",
    "/accounts/signin/",
    "/accounts/signup/",
    "/accounts/password/forgot/",
    "/identity/guest/",
    "/accounts/callback/?code=a-code&state=a-state",  # the sign-in-failed page
    "/no-such-page/",
]
SIGNED_IN_PAGES = ["/", "/protected/", "/protected/?folder=public", "/identity/"]


def policy_of(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def assert_strict(response: Any, managed_login: str, *form_action: str) -> None:
    policy = policy_of(response)
    assert policy["default-src"] == ["'self'"]
    assert "script-src" not in policy and "style-src" not in policy  # both 'self', from default
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'", managed_login, *form_action]
    assert "unsafe" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.fixture(autouse=True)
def _no_rate_limit_leftovers() -> None:
    cache.clear()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ANONYMOUS_PAGES)
def test_every_page_forbids_inline_scripts_framing_and_foreign_forms(
    url: str, client: Client, emulator: Any
) -> None:
    response = client.get(url)

    assert response["Content-Type"].startswith("text/html")
    assert_strict(response, emulator.url)


@pytest.mark.parametrize("url", SIGNED_IN_PAGES)
def test_signed_in_pages_carry_the_same_policy(url: str, bob: Client, emulator: Any) -> None:
    response = bob.get(url)

    assert response.status_code == 200
    assert_strict(response, emulator.url)


@pytest.mark.django_db
def test_the_work_email_form_may_end_at_any_https_idp(client: Client, settings: Any) -> None:
    """Its redirects go site, pool, then the organisation's IdP, an origin only the pool knows."""
    settings.COGNITO_DOMAIN = "https://login.example.com"

    chooser = client.get("/federation/")
    home = client.get("/")

    assert_strict(chooser, "https://login.example.com", "https:")
    assert_strict(home, "https://login.example.com")


@pytest.mark.django_db
def test_with_a_local_pool_the_work_email_form_may_end_at_its_local_idps(
    client: Client, emulator: Any
) -> None:
    assert_strict(client.get("/federation/"), emulator.url, "https:", "http://localhost:*")


def test_a_stored_file_gets_a_sandbox_of_its_own_not_the_page_policy(bob: Client) -> None:
    response = bob.get("/protected/download/private/bob-notes.txt")

    policy = policy_of(response)
    assert response.status_code == 200
    assert policy["default-src"] == ["'none'"]
    assert "sandbox" in policy


# --- the templates give the policy nothing to forbid -------------------------------------------

INLINE = [
    ("script", re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)),
    ("style element", re.compile(r"<style\b", re.I)),
    ("style attribute", re.compile(r"\sstyle\s*=", re.I)),
    ("event handler", re.compile(r"\son[a-z]+\s*=", re.I)),
    ("javascript: URL", re.compile(r"javascript:", re.I)),
]


def inline_code(text: str) -> list[str]:
    return [kind for kind, pattern in INLINE if pattern.search(text)]


@pytest.mark.parametrize(
    "markup",
    [
        "<script>alert(1)</script>",
        "<style>p{}</style>",
        '<p style="color:red">',
        '<button onclick="go()">',
        '<a href="javascript:go()">',
    ],
)
def test_the_template_scan_finds_each_kind_of_inline_code(markup: str) -> None:
    assert inline_code(f"<main>{markup}</main>")


def test_no_template_holds_inline_script_style_or_handlers() -> None:
    templates = sorted((BASE_DIR / "templates").rglob("*.html"))

    found = {str(path): inline_code(path.read_text()) for path in templates}

    assert templates and not {path: kinds for path, kinds in found.items() if kinds}
    assert not inline_code('<script src="/static/site.js"></script><a href="/">home</a>')


# --- referrers ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/accounts/callback/?code=a-code&state=a-state",
        "/accounts/callback/?state=a-state&error=access_denied",
        "/?token=a-token",
    ],
)
def test_a_page_whose_url_holds_a_code_sends_no_referrer(url: str, client: Client) -> None:
    assert client.get(url)["Referrer-Policy"] == "no-referrer"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/accounts/signin/?next=/protected/", "/federation/"])
def test_other_pages_send_their_origin_only_to_the_site_itself(url: str, client: Client) -> None:
    assert client.get(url)["Referrer-Policy"] == "same-origin"


# --- 429 answers --------------------------------------------------------------------------------


def test_the_apps_rate_limit_says_when_to_come_back(emulator: Any, settings: Any, db: None) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 2
    client = Client()
    failures = [api_signin(client, "bob", "Wrong-Passw0rd!") for _ in range(2)]

    limited = api_signin(client, "bob")

    assert [failure.status_code for failure in failures] == [400, 400]
    assert all("Retry-After" not in failure for failure in failures)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) == settings.AUTH_RATE_LIMIT_WINDOW


def test_cognitos_lockout_says_when_to_come_back_too(
    emulator: Any, settings: Any, db: None
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 100
    client = Client()
    for _ in range(5):
        assert api_signin(client, "carol", "Wrong-Passw0rd!").status_code == 400

    locked = api_signin(client, "carol")

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0


# --- cookies ------------------------------------------------------------------------------------

PRODUCTION = {
    "DJANGO_SECRET_KEY": "prod-like-4f9c2b7e1d8a6f3c0e5b9a2d7c4f1e8b3a6d9c2f5e8b1a4d7c0f3e6b9a",
    "DJANGO_ALLOWED_HOSTS": "app.example.com",
    "AWS_REGION": "eu-west-1",
    "COGNITO_USER_POOL_ID": "eu-west-1_AbCdEf123",
    "COGNITO_CLIENT_ID": "1example23456789abcdefghij",
    "COGNITO_DOMAIN": "https://login.example.com",
    "APP_URL": "https://app.example.com",
}
COOKIE_SETTINGS = """
import json, os, environ
environ.Env.read_env = classmethod(lambda cls, *args, **kwargs: None)
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in (
    "SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_PATH", "SESSION_COOKIE_DOMAIN",
    "CSRF_COOKIE_NAME", "CSRF_COOKIE_SECURE", "CSRF_COOKIE_PATH", "CSRF_COOKIE_DOMAIN")}))
"""


def cookie_settings(debug: bool, tmp_path: Path) -> dict[str, Any]:
    """The cookie settings a fresh process reads with the production environment."""
    result = subprocess.run(
        [sys.executable, "-c", COOKIE_SETTINGS],
        cwd=BASE_DIR,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            **PRODUCTION,
            "DJANGO_DEBUG": str(debug).lower(),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_production_cookies_are_host_cookies(tmp_path: Path) -> None:
    production = cookie_settings(False, tmp_path)

    for cookie in ("SESSION", "CSRF"):
        # What browsers demand of a __Host- cookie: Secure, Path=/ and no Domain.
        assert production[f"{cookie}_COOKIE_NAME"].startswith("__Host-")
        assert production[f"{cookie}_COOKIE_SECURE"] is True
        assert production[f"{cookie}_COOKIE_PATH"] == "/"
        assert production[f"{cookie}_COOKIE_DOMAIN"] is None


def test_plain_http_development_keeps_the_usual_names(tmp_path: Path) -> None:
    development = cookie_settings(True, tmp_path)

    assert development["SESSION_COOKIE_NAME"] == "sessionid"
    assert development["CSRF_COOKIE_NAME"] == "csrftoken"
    assert development["SESSION_COOKIE_SECURE"] is False


@pytest.mark.django_db
def test_the_session_cookie_the_site_sets_meets_the_host_prefix_rules(
    tmp_path: Path, settings: Any, emulator: Any
) -> None:
    """The production names, set on a real answer: a browser would accept them over HTTPS."""
    production = cookie_settings(False, tmp_path)
    settings.SESSION_COOKIE_NAME = production["SESSION_COOKIE_NAME"]
    settings.CSRF_COOKIE_NAME = production["CSRF_COOKIE_NAME"]
    client = Client()

    client.get("/accounts/login/", secure=True)
    form = client.get("/accounts/signin/", secure=True)

    for morsel in (client.cookies["__Host-sessionid"], form.cookies["__Host-csrftoken"]):
        assert morsel["secure"] is True
        assert morsel["path"] == "/"
        assert not morsel["domain"]
