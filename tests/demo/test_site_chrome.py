"""The demo panel, the header's visitor context, the favicon and the site's own error pages,
through Django's test client against the emulator."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.test import Client

from config.context_processors import is_federated
from emulator import seed
from emulator.server import Emulator

pytestmark = pytest.mark.django_db

ALICE = next(user for user in seed.DEMO_USERS if user.username == "alice")


def test_the_panel_lists_the_demo_users_with_alices_code_of_now(
    client: Client, emulator: Emulator
) -> None:
    assert ALICE.totp_secret
    before = pyotp.TOTP(ALICE.totp_secret).now()

    page = client.get("/demo/")

    after = pyotp.TOTP(ALICE.totp_secret).now()
    text = page.content.decode()
    assert page.status_code == 200
    assert ALICE.password in text
    assert (
        f'data-testid="totp-code">{before}<' in text or f'data-testid="totp-code">{after}<' in text
    )
    assert f'href="{emulator.url}/inbox"' in text


def test_the_panel_shows_the_latest_inbox_code(client: Client, emulator: Emulator) -> None:
    client.post("/accounts/password/forgot/", {"username": "erin"})
    sent = emulator.inbox.messages(to="erin@example.com")[-1]

    page = client.get("/demo/")

    assert sent.code and f'data-testid="inbox-code">{sent.code}<' in page.content.decode()


def test_there_is_no_panel_without_the_emulator(client: Client, settings: Any) -> None:
    settings.DEMO_PANEL_URL = ""

    panel, home = client.get("/demo/"), client.get("/")

    assert panel.status_code == 404
    assert 'data-testid="nav-demo"' not in home.content.decode()


def test_an_emulator_that_does_not_answer_is_said_plainly(client: Client, settings: Any) -> None:
    settings.DEMO_PANEL_URL = "http://localhost:1/demo/panel.json"
    started = time.monotonic()

    page = client.get("/demo/")

    assert page.status_code == 503
    assert "The emulator did not answer" in page.content.decode()
    assert time.monotonic() - started < 5


def test_reset_puts_the_world_back_and_signs_out(
    client: Client, emulator: Emulator, sign_in: Any
) -> None:
    sign_in("bob")
    client.post("/accounts/password/forgot/", {"username": "erin"})
    assert len(emulator.inbox) > 0

    answer = client.post("/demo/reset/")

    assert answer.status_code == 302 and answer["Location"] == "/demo/"
    assert len(emulator.inbox) == 0
    assert 'data-testid="current-user"' not in client.get("/").content.decode()


def test_reset_refuses_a_post_without_the_csrf_token(emulator: Emulator) -> None:
    client = Client(enforce_csrf_checks=True)
    client.post("/accounts/password/forgot/", {"username": "erin"})
    client.get("/demo/")  # a CSRF cookie, but no token in the form

    refused = client.post("/demo/reset/")
    asked = client.get("/demo/reset/")

    assert refused.status_code == 403
    assert "This form has expired" in refused.content.decode()
    assert asked.status_code == 405


def test_the_csrf_token_of_the_panel_lets_reset_through(emulator: Emulator) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/demo/")

    answer = client.post("/demo/reset/", {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})

    assert answer.status_code == 302


@pytest.mark.parametrize(
    ("username", "federated"),
    [
        ("ExampleOIDC_oidc-user-0001", True),
        ("Google_104857600000000000001", True),
        ("ann_smith", False),
        ("bob", False),
    ],
)
def test_only_usernames_the_pool_made_for_an_idp_count_as_federated(
    emulator: Emulator, username: str, federated: bool
) -> None:
    assert is_federated(username) is federated


def test_a_guest_is_shown_as_a_guest(client: Client, emulator: Emulator) -> None:
    assert 'data-testid="guest-badge"' not in client.get("/").content.decode()

    client.post("/identity/guest/")

    assert 'data-testid="guest-badge"' in client.get("/").content.decode()


def test_the_favicon_answers_where_browsers_ask(client: Client) -> None:
    asked = client.get("/favicon.ico")

    assert asked.status_code == 302
    icon = client.get(asked["Location"])
    assert icon.status_code == 200 and icon["Content-Type"].startswith("image/svg")


@pytest.mark.parametrize("path", ["/no-such-page/", "/demo/nothing-here/"])
def test_an_unknown_url_gets_the_sites_404_page(client: Client, path: str) -> None:
    page = client.get(path)

    assert page.status_code == 404
    text = page.content.decode()
    assert 'data-testid="error-page">Page not found<' in text
    assert 'data-testid="site-header"' in text


def test_a_bad_host_header_gets_the_sites_400_page(client: Client) -> None:
    page = client.get("/", HTTP_HOST="evil.example.com")

    assert page.status_code == 400
    assert 'data-testid="error-page">Bad request<' in page.content.decode()


def test_an_allowed_host_gets_the_page(client: Client) -> None:
    assert client.get("/", HTTP_HOST="localhost").status_code == 200


def test_the_site_side_never_imports_the_emulator() -> None:
    """The panel reads the emulator over HTTP only: the site must run where the emulator is not."""
    root = Path(__file__).resolve().parents[2]
    sources = [*(root / "demo").glob("*.py"), root / "config" / "context_processors.py"]
    imports = re.compile(r"^\s*(?:from|import)\s+emulator\b", re.MULTILINE)

    assert sources and [p.name for p in sources if imports.search(p.read_text())] == []
