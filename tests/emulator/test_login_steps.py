"""Managed login after the password: SMS and email codes, a new password, and the lockout."""

from __future__ import annotations

import re

import requests

from emulator.server import Emulator

from .flows import Browser, exchange, page_error, query_of, verify, wrong_code

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
PENDING = re.compile(r'name="pending" value="([^"]+)"')


def inbox_code(emulator: Emulator, to: str) -> str:
    messages = requests.get(f"{emulator.url}/inbox.json", timeout=5).json()
    return [m for m in messages if m["to"] == to][-1]["code"]


def post_step(browser: Browser, page: requests.Response, path: str, **fields: str):
    data = {
        "_csrf": CSRF.search(page.text).group(1),
        "pending": PENDING.search(page.text).group(1),
        **fields,
    }
    return browser.post(path, data=data)


def test_sms_user_enters_the_code_sent_to_the_phone(emulator: Emulator) -> None:
    """moto gap: moto has no managed login, and never sends or checks SMS codes."""
    browser = Browser(emulator)
    step = browser.submit_password("dave")
    code = inbox_code(emulator, "+15555550104")

    wrong = post_step(browser, step, "/mfa", code=wrong_code(code))
    done = post_step(browser, wrong, "/mfa", code=code)

    assert 'data-testid="mfa-code"' in step.text and "your phone" in step.text
    assert page_error(wrong) == "Invalid code or auth state for the user."
    assert done.status_code == 302
    tokens = exchange(emulator, query_of(done)["code"]).json()
    assert verify(emulator, tokens["id_token"], token_use="id")["cognito:username"] == "dave"


def test_email_user_enters_the_code_sent_by_email(emulator: Emulator) -> None:
    browser = Browser(emulator)
    step = browser.submit_password("erin")

    done = post_step(browser, step, "/mfa", code=inbox_code(emulator, "erin@example.com"))

    assert "your email" in step.text
    assert done.status_code == 302 and "code" in query_of(done)


def test_first_sign_in_sets_a_new_password(emulator: Emulator) -> None:
    browser = Browser(emulator)
    step = browser.submit_password("frank")

    weak = post_step(browser, step, "/newPassword", password="frank")
    done = post_step(browser, weak, "/newPassword", password="Frank-N3w-Passw0rd!")
    again = Browser(emulator).submit_password("frank", "Frank-N3w-Passw0rd!")

    assert 'data-testid="new-password"' in step.text
    assert page_error(weak) == "Password did not conform with policy: Password not long enough"
    assert done.status_code == 302 and "code" in query_of(done)
    assert again.status_code == 302


def test_the_mfa_step_cannot_skip_the_new_password(emulator: Emulator) -> None:
    browser = Browser(emulator)
    step = browser.submit_password("frank")

    response = post_step(browser, step, "/mfa", code="123456")

    assert response.status_code in (200, 400)
    assert "Location" not in response.headers


def test_five_wrong_passwords_lock_managed_login_too(emulator: Emulator) -> None:
    browser = Browser(emulator)
    for _ in range(5):
        assert page_error(browser.submit_password("bob", "Wrong-Passw0rd!")) == (
            "Incorrect username or password."
        )

    locked = browser.submit_password("bob")

    assert page_error(locked) == "Password attempts exceeded"


def test_four_wrong_passwords_do_not_lock_managed_login(emulator: Emulator) -> None:
    browser = Browser(emulator)
    for _ in range(4):
        browser.submit_password("bob", "Wrong-Passw0rd!")

    assert browser.submit_password("bob").status_code == 302
