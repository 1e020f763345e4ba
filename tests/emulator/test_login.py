"""Managed login: the sign-in page, the TOTP step and the session cookie."""

from __future__ import annotations

import time

import pytest
from moto.cognitoidp.models import COGNITO_TOTP_MFA_SECRET
from moto.cognitoidp.utils import cognito_totp

from emulator.seed import CLIENT_ID
from emulator.server import Emulator

from .flows import LOGOUT_URI, REDIRECT_URI, Browser, page_error, query_of, totp_code

SESSION_COOKIE = "cognito-demo-session"


@pytest.fixture
def browser(emulator: Emulator) -> Browser:
    return Browser(emulator)


def test_sign_in_page_has_the_contract_selectors(browser: Browser) -> None:
    login_path, _ = browser.open_login()
    page = browser.get(login_path).text

    for testid in ("username", "password", "submit"):
        assert f'data-testid="{testid}"' in page


def test_login_hint_prefills_the_username(browser: Browser) -> None:
    login_path, _ = browser.open_login(login_hint="bob")

    assert 'value="bob"' in browser.get(login_path).text


def test_right_password_returns_a_code_and_the_state_to_the_app(browser: Browser) -> None:
    response = browser.submit_password("bob")

    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    params = query_of(response)
    assert params["code"] and params["state"] == "state-123"


@pytest.mark.parametrize(("username", "password"), [("bob", "wrong"), ("nobody", "Bob-Passw0rd!")])
def test_wrong_password_and_unknown_user_get_the_same_message(
    browser: Browser, username: str, password: str
) -> None:
    login_path, csrf = browser.open_login()

    response = browser.post(
        login_path, data={"username": username, "password": password, "_csrf": csrf}
    )

    assert response.status_code == 200
    assert page_error(response) == "Incorrect username or password."
    assert SESSION_COOKIE not in response.cookies


def test_typed_username_is_escaped_on_the_page(browser: Browser) -> None:
    login_path, csrf = browser.open_login()
    response = browser.post(
        login_path, data={"username": '"><script>x</script>', "password": "x", "_csrf": csrf}
    )

    assert "<script>x</script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_sign_in_without_the_csrf_token_is_refused(browser: Browser) -> None:
    login_path, _ = browser.open_login()

    forged = browser.post(login_path, data={"username": "bob", "password": "Bob-Passw0rd!"})

    assert forged.status_code == 400
    assert "Location" not in forged.headers
    assert page_error(forged)


def test_login_checks_the_authorization_request_too(browser: Browser) -> None:
    response = browser.get("/login", params={"client_id": "nope", "redirect_uri": REDIRECT_URI})

    assert response.status_code == 400


def test_totp_user_gets_the_mfa_page_and_never_sees_her_password(browser: Browser) -> None:
    response = browser.submit_password("alice")

    assert response.status_code == 200
    assert 'data-testid="mfa-code"' in response.text
    assert "Alice-Passw0rd!" not in response.text
    assert SESSION_COOKIE not in response.cookies


def test_wrong_totp_shows_an_error_and_the_right_one_then_signs_in(browser: Browser) -> None:
    mfa_page = browser.submit_password("alice")
    wrong = str((int(totp_code("alice")) + 1) % 1_000_000).zfill(6)

    refused = browser.submit_mfa(mfa_page, wrong)
    accepted = browser.submit_mfa(refused, totp_code("alice"))

    assert refused.status_code == 200
    assert page_error(refused) == "Invalid code or auth state for the user."
    assert accepted.status_code == 302
    assert query_of(accepted)["code"]


def test_an_accepted_totp_code_is_not_accepted_twice(browser: Browser) -> None:
    code = totp_code("alice")
    first = browser.submit_mfa(browser.submit_password("alice"), code)

    second_browser = Browser(browser.emulator)
    replayed = second_browser.submit_mfa(second_browser.submit_password("alice"), code)

    assert first.status_code == 302
    assert replayed.status_code == 200
    assert page_error(replayed) == "Invalid code or auth state for the user."


def test_totp_is_checked_against_each_users_own_secret(browser: Browser) -> None:
    """moto gap: moto has one TOTP secret for every user; here carol's code and moto's fixed
    secret both fail for alice, and only alice's own secret signs her in."""
    mfa_page = browser.submit_password("alice")

    with_carols = browser.submit_mfa(mfa_page, totp_code("carol"))
    with_motos = browser.submit_mfa(
        with_carols, cognito_totp(COGNITO_TOTP_MFA_SECRET).generate(time.time()).decode()
    )
    with_own = browser.submit_mfa(with_motos, totp_code("alice"))

    assert (
        page_error(with_carols)
        == page_error(with_motos)
        == "Invalid code or auth state for the user."
    )
    assert with_own.status_code == 302


def test_too_many_wrong_codes_end_the_sign_in(browser: Browser) -> None:
    page = browser.submit_password("alice")
    for _ in range(4):
        page = browser.submit_mfa(page, "000000" if totp_code("alice") != "000000" else "111111")
        assert page.status_code == 200

    last = browser.submit_mfa(page, "000000" if totp_code("alice") != "000000" else "111111")

    assert last.status_code == 400


def test_forged_pending_sign_in_is_refused(browser: Browser) -> None:
    browser.open_login()

    response = browser.post("/mfa", data={"code": totp_code("alice"), "pending": "made-up"})

    assert response.status_code == 400


def test_session_cookie_is_httponly_lax_and_an_hour(browser: Browser) -> None:
    response = browser.submit_password("bob")
    cookie = response.headers["Set-Cookie"]

    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=3600" in cookie
    assert "Path=/" in cookie


def test_hosted_session_skips_the_password_until_logout(browser: Browser) -> None:
    browser.sign_in("alice")

    again = browser.authorize(state="second")
    logout = browser.get("/logout", params={"client_id": CLIENT_ID, "logout_uri": LOGOUT_URI})
    after_logout = browser.authorize(state="third")

    assert again.status_code == 302
    assert again.headers["Location"].startswith(REDIRECT_URI + "?")
    assert query_of(again)["state"] == "second" and query_of(again)["code"]
    assert logout.status_code == 302 and logout.headers["Location"] == LOGOUT_URI
    assert after_logout.headers["Location"].startswith("/login?")


def test_prompt_login_asks_for_the_password_despite_a_session(browser: Browser) -> None:
    browser.sign_in("bob")

    assert browser.authorize(prompt="login").headers["Location"].startswith("/login?")
    assert browser.authorize(prompt="none").headers["Location"].startswith(REDIRECT_URI)


def test_a_session_of_a_disabled_user_does_not_count(browser: Browser) -> None:
    browser.sign_in("bob")
    browser.emulator.state.pool.users["bob"].enabled = False

    assert browser.authorize().headers["Location"].startswith("/login?")
