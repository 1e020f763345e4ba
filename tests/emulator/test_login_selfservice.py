"""Managed login's sign-up and forgot-password pages, in a cookie-keeping client over HTTP."""

from __future__ import annotations

import re

import requests

from emulator.server import Emulator

from .flows import Browser, exchange, page_error, query_of, verify, wrong_code

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
SIGNUP_LINK = re.compile(r'href="(/signup\?[^"]+)" data-testid="signup-link"')
FORGOT_LINK = re.compile(r'href="(/forgotPassword\?[^"]+)" data-testid="forgot-password-link"')


def csrf_of(response: requests.Response) -> str:
    return CSRF.search(response.text).group(1)


def unescape(href: str) -> str:
    return href.replace("&amp;", "&")


def inbox_code(emulator: Emulator, to: str) -> str:
    messages = requests.get(f"{emulator.url}/inbox.json", timeout=5).json()
    return [m for m in messages if m["to"] == to][-1]["code"]


def open_page(browser: Browser, link: re.Pattern[str]) -> tuple[str, requests.Response]:
    """From the sign-in page, follow a link; return the link's query and the page."""
    login_path, _ = browser.open_login()
    login_page = browser.get(login_path)
    href = unescape(link.search(login_page.text).group(1))
    page = browser.get(href)
    assert page.status_code == 200
    return href.partition("?")[2], page


def test_sign_in_page_links_sign_up_and_forgot_password(emulator: Emulator) -> None:
    """moto gap: moto has no managed login pages at all."""
    browser = Browser(emulator)
    login_path, _ = browser.open_login()

    page = browser.get(login_path).text
    query = login_path.partition("?")[2]

    assert unescape(SIGNUP_LINK.search(page).group(1)) == f"/signup?{query}"
    assert unescape(FORGOT_LINK.search(page).group(1)) == f"/forgotPassword?{query}"


def sign_up(browser: Browser, query: str, csrf: str, password: str = "Nina-Passw0rd!"):
    return browser.post(
        f"/signup?{query}",
        data={
            "username": "nina",
            "email": "nina@example.com",
            "password": password,
            "_csrf": csrf,
        },
    )


def test_sign_up_confirm_with_the_inbox_code_and_land_signed_in(emulator: Emulator) -> None:
    browser = Browser(emulator)
    query, page = open_page(browser, SIGNUP_LINK)

    confirm_page = sign_up(browser, query, csrf_of(page))
    code = inbox_code(emulator, "nina@example.com")
    wrong = browser.post(
        f"/confirmUser?{query}",
        data={"username": "nina", "code": wrong_code(code), "_csrf": csrf_of(page)},
    )
    done = browser.post(
        f"/confirmUser?{query}",
        data={"username": "nina", "code": code, "_csrf": csrf_of(page)},
    )

    assert 'data-testid="code"' in confirm_page.text
    assert "n***@e***" in confirm_page.text
    assert page_error(wrong) == "Invalid verification code provided, please try again."
    assert done.status_code == 302
    params = query_of(done)
    assert params["state"] == "state-123"
    tokens = exchange(emulator, params["code"]).json()
    claims = verify(emulator, tokens["id_token"], token_use="id")
    assert claims["cognito:username"] == "nina"
    assert claims["email_verified"] is True


def test_sign_up_shows_the_policy_and_taken_usernames(emulator: Emulator) -> None:
    browser = Browser(emulator)
    query, page = open_page(browser, SIGNUP_LINK)

    weak = sign_up(browser, query, csrf_of(page), password="nina")
    taken = browser.post(
        f"/signup?{query}",
        data={
            "username": "bob",
            "email": "b@example.com",
            "password": "Bob-Passw0rd!",
            "_csrf": csrf_of(page),
        },
    )

    assert page_error(weak) == "Password did not conform with policy: Password not long enough"
    assert page_error(taken) == "User already exists"
    assert 'value="nina@example.com"' in weak.text


def test_resend_sends_a_new_code(emulator: Emulator) -> None:
    browser = Browser(emulator)
    query, page = open_page(browser, SIGNUP_LINK)
    sign_up(browser, query, csrf_of(page))

    resent = browser.post(f"/resendCode?{query}", data={"username": "nina", "_csrf": csrf_of(page)})
    messages = requests.get(f"{emulator.url}/inbox.json", timeout=5).json()
    done = browser.post(
        f"/confirmUser?{query}",
        data={"username": "nina", "code": messages[-1]["code"], "_csrf": csrf_of(page)},
    )

    assert resent.status_code == 200 and len(messages) == 2
    assert done.status_code == 302


def test_forms_without_the_csrf_token_are_refused(emulator: Emulator) -> None:
    browser = Browser(emulator)
    query, _ = open_page(browser, SIGNUP_LINK)

    response = sign_up(browser, query, "forged")

    assert response.status_code == 400
    assert requests.get(f"{emulator.url}/inbox.json", timeout=5).json() == []


def test_forgot_password_then_sign_in_with_the_new_password(emulator: Emulator) -> None:
    browser = Browser(emulator)
    query, page = open_page(browser, FORGOT_LINK)

    reset_page = browser.post(
        f"/forgotPassword?{query}", data={"username": "bob", "_csrf": csrf_of(page)}
    )
    code = inbox_code(emulator, "bob@example.com")
    wrong = browser.post(
        f"/confirmForgotPassword?{query}",
        data={
            "username": "bob",
            "code": wrong_code(code),
            "password": "Bob-N3w-Passw0rd!",
            "_csrf": csrf_of(page),
        },
    )
    done = browser.post(
        f"/confirmForgotPassword?{query}",
        data={
            "username": "bob",
            "code": code,
            "password": "Bob-N3w-Passw0rd!",
            "_csrf": csrf_of(page),
        },
    )
    old = browser.submit_password("bob")
    new = browser.submit_password("bob", "Bob-N3w-Passw0rd!")

    assert 'data-testid="code"' in reset_page.text and "b***@e***" in reset_page.text
    assert page_error(wrong) == "Invalid verification code provided, please try again."
    assert done.status_code == 302 and done.headers["Location"] == f"/login?{query}"
    assert page_error(old) == "Incorrect username or password."
    assert new.status_code == 302 and "code" in query_of(new)


def test_forgot_password_for_an_unknown_user_looks_the_same(emulator: Emulator) -> None:
    browser = Browser(emulator)
    query, page = open_page(browser, FORGOT_LINK)

    reset_page = browser.post(
        f"/forgotPassword?{query}", data={"username": "nobody", "_csrf": csrf_of(page)}
    )

    assert reset_page.status_code == 200 and 'data-testid="code"' in reset_page.text
    assert requests.get(f"{emulator.url}/inbox.json", timeout=5).json() == []


def test_sign_up_page_checks_the_authorize_request(emulator: Emulator) -> None:
    response = Browser(emulator).get("/signup?client_id=nope&response_type=code")

    assert response.status_code in (302, 400)
    assert 'data-testid="email"' not in response.text
