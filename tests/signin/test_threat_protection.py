"""Threat protection through the app's own sign-in, against the emulator's documented risk rule
(emulator/risk.py): the demo pool is ENFORCED, 203.0.113.0/24 is High risk (an email code),
198.51.100.0/24 is blocked, and a password on the demo's leaked list needs a reset."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from accounts.session import TOKENS
from config import aws
from emulator import risk, seed
from signin.forms import browser_of
from tests.accounts.conftest import USERS, api_signin, attempt_id, inbox_code

pytestmark = pytest.mark.django_db

RISKY = "203.0.113.7"
BLOCKED = "198.51.100.7"
LEAKED = sorted(risk.LEAKED_PASSWORDS)[0]
BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (riskapp test)", "HTTP_ACCEPT_LANGUAGE": "en-GB"}


def idp() -> Any:
    return aws.client("cognito-idp")


def newest_event(username: str = "bob") -> dict[str, Any]:
    events = idp().admin_list_user_auth_events(UserPoolId=seed.USER_POOL_ID, Username=username)
    return events["AuthEvents"][0]


def failure(response: Any) -> str:
    return response.context["form"].failure_code


def test_a_sign_in_from_a_blocked_range_gets_a_clear_page(emulator: Any, client: Client) -> None:
    response = api_signin(client, "bob", REMOTE_ADDR=BLOCKED)

    assert response.status_code == 400 and failure(response) == "blocked_by_risk"
    assert "blocked for security reasons" in response.content.decode()
    assert TOKENS not in client.session
    assert newest_event()["EventRisk"]["RiskDecision"] == "Block"


def test_a_sign_in_from_a_normal_address_is_let_through(emulator: Any, client: Client) -> None:
    response = api_signin(client, "bob", REMOTE_ADDR="192.0.2.10")

    assert response.status_code == 302 and response["Location"] == "/"
    assert newest_event()["EventResponse"] == "Pass"


def test_a_high_risk_sign_in_answers_an_email_code_through_the_mfa_step(
    emulator: Any, client: Client
) -> None:
    started = api_signin(client, "bob", REMOTE_ADDR=RISKY)
    assert started["Location"] == "/accounts/signin/mfa/"
    page = client.get("/accounts/signin/mfa/", REMOTE_ADDR=RISKY)
    assert page.status_code == 200 and page.context["challenge"].factor == "email"

    done = client.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt_id(client), "code": inbox_code(emulator, "bob@example.com")},
        REMOTE_ADDR=RISKY,
    )

    assert done.status_code == 302 and done["Location"] == "/"
    event = newest_event()
    assert event["EventRisk"]["RiskLevel"] == "High" and event["EventResponse"] == "Pass"


def test_admin_sign_in_tells_the_pool_the_safe_headers_never_cookies(
    emulator: Any, client: Client, settings: Any, captured_requests: list[dict[str, Any]]
) -> None:
    settings.COGNITO_ADMIN_AUTH = True  # ContextData, with headers, on the admin operations
    settings.COGNITO_AUTH_FLOW = "USER_PASSWORD_AUTH"
    client.cookies["probe"] = "not-for-the-pool"

    response = api_signin(
        client, "bob", REMOTE_ADDR="192.0.2.10", HTTP_AUTHORIZATION="Basic eDp5", **BROWSER
    )

    assert response["Location"] == "/"
    sent = next(p["ContextData"] for p in captured_requests if "ContextData" in p)
    assert sent["IpAddress"] == "192.0.2.10" and sent["ServerPath"] == "/accounts/signin/"
    assert sent["HttpHeaders"] == [
        {"headerName": "User-Agent", "headerValue": BROWSER["HTTP_USER_AGENT"]},
        {"headerName": "Accept-Language", "headerValue": "en-GB"},
    ]
    assert "not-for-the-pool" not in repr(captured_requests)
    context = newest_event()["EventContextData"]
    assert context["IpAddress"] == "192.0.2.10"
    assert context["DeviceName"] == BROWSER["HTTP_USER_AGENT"]


def test_only_safe_headers_describe_the_browser(db: None) -> None:
    request = RequestFactory().post(
        "/accounts/signin/",
        HTTP_COOKIE="sessionid=secret-session",
        HTTP_AUTHORIZATION="Bearer secret-token",
        **BROWSER,
    )
    request.session = SessionStore()

    browser = browser_of(request)

    assert dict(browser.headers) == {
        "User-Agent": BROWSER["HTTP_USER_AGENT"],
        "Accept-Language": "en-GB",
    }
    assert browser.path == "/accounts/signin/"


def test_a_new_address_is_low_risk_and_lets_the_user_through(emulator: Any, client: Client) -> None:
    # The pool knows bob's address from a first sign-in; the site sends no device fingerprint
    # (that is the Cognito browser SDK's to make), so a new address alone is Low: let through.
    assert api_signin(client, "bob", REMOTE_ADDR="192.0.2.10")["Location"] == "/"
    assert api_signin(client, "bob", REMOTE_ADDR="192.0.2.10")["Location"] == "/"
    assert "RiskLevel" not in newest_event()["EventRisk"]

    assert api_signin(Client(), "bob", REMOTE_ADDR="192.0.2.20")["Location"] == "/"
    assert newest_event()["EventRisk"]["RiskLevel"] == "Low"


def test_a_leaked_password_at_sign_in_leads_to_the_reset_with_the_reason(
    emulator: Any, client: Client
) -> None:
    idp().admin_set_user_password(
        UserPoolId=seed.USER_POOL_ID, Username="bob", Password=LEAKED, Permanent=True
    )

    response = api_signin(client, "bob", LEAKED)

    assert response.status_code == 302 and response["Location"] == "/accounts/password/forgot/"
    page = client.get(response["Location"])
    assert "appeared in a data breach" in page.content.decode()
    assert page.context["form"].initial["username"] == "bob"


def test_a_wrong_password_is_not_called_leaked(emulator: Any, client: Client) -> None:
    idp().admin_set_user_password(
        UserPoolId=seed.USER_POOL_ID, Username="bob", Password=LEAKED, Permanent=True
    )

    response = api_signin(client, "bob", "Not-The-Passw0rd!")

    assert response.status_code == 400 and failure(response) == "not_authorized"


def test_a_password_not_on_the_leaked_list_signs_in(emulator: Any, client: Client) -> None:
    response = api_signin(client, "bob", USERS["bob"].password)

    assert response.status_code == 302 and response["Location"] == "/"
