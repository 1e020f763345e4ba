"""Managed login adds passkeys: the offer after a password sign-in, and /passkeys/add.

The pages' script runs `navigator.credentials.create`; here the software authenticator answers
the options the page embeds, and the form is posted as the script posts it.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from emulator import seed
from emulator.hostedpasskeys import NO_PASSKEY, NOT_AVAILABLE, SIGN_IN_FIRST
from emulator.server import Emulator

from .authenticator import Authenticator
from .flows import REDIRECT_URI, Browser, page_error, query_of, totp_code

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
PENDING = re.compile(r'name="pending" value="([^"]+)"')
OPTIONS = re.compile(
    r'<script type="application/json" id="passkey-creation-options">(.*?)</script>'
)
OFFER = 'data-testid="passkey-offer"'
FOREIGN = "https://evil.example/accounts/callback/"


def options_of(page: requests.Response) -> dict[str, Any]:
    return json.loads(OPTIONS.search(page.text).group(1))


def passkeys(emulator: Emulator, username: str) -> list[str]:
    return [p.credential_id for p in emulator.state.flows.passkeys.get(username, ())]


def password_sign_in(browser: Browser, username: str, *, ready: bool) -> requests.Response:
    """The sign-in form as a browser posts it; `ready`: its script found a passkey maker."""
    login_path, csrf = browser.open_login()
    data = {"username": username, "password": seed_password(username), "_csrf": csrf}
    data["passkey_ready"] = "1" if ready else ""
    return browser.post(login_path, data=data)


def seed_password(username: str) -> str:
    users = {user.username: user for user in (*seed.DEMO_USERS, seed.PASSKEY_USER)}
    return users[username].password


def answer(browser: Browser, page: requests.Response, answer: str, credential: Any = "") -> Any:
    return browser.post(
        "/passkeys/offer",
        data={
            "_csrf": CSRF.search(page.text).group(1),
            "pending": PENDING.search(page.text).group(1),
            "answer": answer,
            "credential": json.dumps(credential) if credential else "",
        },
    )


def signed_in_to_app(response: requests.Response) -> None:
    assert response.status_code == 302, response.text
    assert response.headers["Location"].startswith(REDIRECT_URI)
    assert query_of(response)["code"]
    assert query_of(response)["state"] == "state-123"


def no_passkey_sign_ins(emulator: Emulator) -> None:
    emulator.state.pool.extended_config["Policies"] = {
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}
    }


def no_relying_party(emulator: Emulator) -> None:
    emulator.state.flows.webauthn_config[seed.USER_POOL_ID].pop("RelyingPartyId")


# The offer after a password sign-in.


def test_a_browser_that_can_make_a_passkey_is_offered_one(emulator: Emulator) -> None:
    offered = password_sign_in(Browser(emulator), "bob", ready=True)
    not_offered = password_sign_in(Browser(emulator), "bob", ready=False)

    assert offered.status_code == 200
    assert OFFER in offered.text
    assert "Sign in faster next time with a passkey" in offered.text
    assert options_of(offered)["user"]["name"] == "bob"
    assert "code=" not in offered.text
    signed_in_to_app(not_offered)


def test_not_now_signs_in_without_a_passkey(emulator: Emulator) -> None:
    browser = Browser(emulator)
    offer = password_sign_in(browser, "bob", ready=True)

    done = answer(browser, offer, "skip")

    signed_in_to_app(done)
    assert passkeys(emulator, "bob") == []


def test_add_a_passkey_keeps_it_and_signs_in(emulator: Emulator) -> None:
    browser = Browser(emulator)
    offer = password_sign_in(browser, "bob", ready=True)
    authenticator = Authenticator()

    done = answer(
        browser, offer, "add", authenticator.create(options_of(offer), origin=emulator.url)
    )

    signed_in_to_app(done)
    assert passkeys(emulator, "bob") == [authenticator.id]


def test_after_a_temporary_password_is_replaced_the_offer_comes_too(emulator: Emulator) -> None:
    def new_password(ready: bool) -> requests.Response:
        browser = Browser(emulator)
        step = password_sign_in(browser, "frank", ready=ready)
        return browser.post(
            "/newPassword",
            data={
                "_csrf": CSRF.search(step.text).group(1),
                "pending": PENDING.search(step.text).group(1),
                "password": "Frank-N3w-Passw0rd!",
            },
        )

    offered = new_password(ready=True)
    emulator.reset()
    not_offered = new_password(ready=False)

    assert OFFER in offered.text and options_of(offered)["user"]["name"] == "frank"
    signed_in_to_app(not_offered)


def test_a_refused_passkey_shows_the_offer_again_with_the_reason(emulator: Emulator) -> None:
    browser = Browser(emulator)
    offer = password_sign_in(browser, "bob", ready=True)
    foreign = Authenticator().create(options_of(offer), origin="https://evil.example")

    refused = answer(browser, offer, "add", foreign)
    retried = answer(
        browser, refused, "add", Authenticator().create(options_of(refused), origin=emulator.url)
    )

    assert refused.status_code == 200
    assert page_error(refused) == (
        "Your passkey was not added. Origin https://evil.example is not allowed for localhost."
    )
    assert PENDING.search(refused.text).group(1) == PENDING.search(offer.text).group(1)
    signed_in_to_app(retried)
    assert len(passkeys(emulator, "bob")) == 1


def test_no_passkey_from_the_browser_is_said_plainly(emulator: Emulator) -> None:
    browser = Browser(emulator)
    offer = password_sign_in(browser, "bob", ready=True)

    refused = answer(browser, offer, "add")
    skipped = answer(browser, refused, "skip")

    assert page_error(refused) == f"Your passkey was not added. {NO_PASSKEY}"
    signed_in_to_app(skipped)


def test_an_answered_offer_cannot_be_answered_again(emulator: Emulator) -> None:
    browser = Browser(emulator)
    offer = password_sign_in(browser, "bob", ready=True)

    first = answer(browser, offer, "skip")
    replayed = answer(browser, offer, "skip")

    signed_in_to_app(first)
    assert replayed.status_code == 400
    assert 'data-testid="error-code">session_expired<' in replayed.text


def test_an_expired_offer_signs_no_one_in(emulator: Emulator) -> None:
    browser = Browser(emulator)
    offer = password_sign_in(browser, "bob", ready=True)
    pending = PENDING.search(offer.text).group(1)
    signins = emulator.state.pending_signins
    signins[pending] = replace(signins[pending], expires_at=time.time() - 1)
    fresh = Browser(emulator)
    fresh_offer = password_sign_in(fresh, "bob", ready=True)

    expired = answer(browser, offer, "skip")

    assert expired.status_code == 400
    assert 'data-testid="error-code">session_expired<' in expired.text
    signed_in_to_app(answer(fresh, fresh_offer, "skip"))


def test_the_offer_answer_cannot_skip_an_mfa_step(emulator: Emulator) -> None:
    browser = Browser(emulator)
    mfa_page = password_sign_in(browser, "alice", ready=True)

    skipped = answer(browser, mfa_page, "skip")
    done = browser.submit_mfa(mfa_page, totp_code("alice"))

    assert skipped.status_code == 400
    assert "Location" not in skipped.headers
    signed_in_to_app(done)


def test_a_user_who_has_a_passkey_is_not_offered_another(emulator: Emulator) -> None:
    heidi = password_sign_in(Browser(emulator), seed.PASSKEY_USER.username, ready=True)
    bob = password_sign_in(Browser(emulator), "bob", ready=True)

    signed_in_to_app(heidi)
    assert OFFER in bob.text


@pytest.mark.parametrize("turn_off", [no_passkey_sign_ins, no_relying_party])
def test_a_pool_without_passkeys_offers_none(emulator: Emulator, turn_off: Any) -> None:
    offered = password_sign_in(Browser(emulator), "bob", ready=True)
    turn_off(emulator)

    not_offered = password_sign_in(Browser(emulator), "bob", ready=True)

    assert OFFER in offered.text
    signed_in_to_app(not_offered)


def test_after_mfa_the_offer_comes_when_a_passkey_counts_as_mfa(emulator: Emulator, idp) -> None:
    browser = Browser(emulator)
    mfa_page = password_sign_in(browser, "alice", ready=True)
    single_factor = browser.submit_mfa(mfa_page, totp_code("alice"))
    idp.set_user_pool_mfa_config(
        UserPoolId=seed.USER_POOL_ID,
        WebAuthnConfiguration={"FactorConfiguration": "MULTI_FACTOR_WITH_USER_VERIFICATION"},
    )
    browser = Browser(emulator)
    mfa_page = password_sign_in(browser, "alice", ready=True)

    offered = browser.submit_mfa(mfa_page, totp_code("alice", steps_ahead=1))

    # With single-factor passkeys, a user with MFA could not sign in with one: no offer.
    signed_in_to_app(single_factor)
    assert offered.status_code == 200
    assert OFFER in offered.text
    signed_in_to_app(answer(browser, offered, "skip"))


# /passkeys/add: an app sends a signed-in user here.


def add_path(redirect_uri: str = REDIRECT_URI, client_id: str = seed.CLIENT_ID) -> str:
    return "/passkeys/add?" + urlencode({"client_id": client_id, "redirect_uri": redirect_uri})


def signed_in_browser(emulator: Emulator) -> Browser:
    browser = Browser(emulator)
    browser.sign_in("bob")
    return browser


def post_add(browser: Browser, page: requests.Response, credential: Any = "") -> Any:
    return browser.post(
        html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)),
        data={
            "_csrf": CSRF.search(page.text).group(1),
            "credential": json.dumps(credential) if credential else "",
        },
    )


def test_add_registers_a_passkey_and_returns_to_the_app(emulator: Emulator) -> None:
    browser = signed_in_browser(emulator)
    page = browser.get(add_path())
    authenticator = Authenticator()

    done = post_add(browser, page, authenticator.create(options_of(page), origin=emulator.url))

    assert page.status_code == 200
    assert 'data-testid="passkey-not-now"' in page.text
    assert done.status_code == 302
    assert done.headers["Location"] == REDIRECT_URI
    assert passkeys(emulator, "bob") == [authenticator.id]


def test_add_without_a_managed_login_session_asks_to_sign_in_first(emulator: Emulator) -> None:
    stranger = Browser(emulator).get(add_path())
    signed_in = signed_in_browser(emulator).get(add_path())

    assert stranger.status_code == 403
    assert page_error(stranger) == SIGN_IN_FIRST
    assert f'href="{REDIRECT_URI}" data-testid="back-to-app"' in stranger.text
    assert OPTIONS.search(stranger.text) is None
    assert signed_in.status_code == 200
    assert options_of(signed_in)["user"]["name"] == "bob"


@pytest.mark.parametrize("redirect_uri", [FOREIGN, "", REDIRECT_URI + "extra"])
def test_add_refuses_a_redirect_uri_the_client_did_not_register(
    emulator: Emulator, redirect_uri: str
) -> None:
    browser = signed_in_browser(emulator)

    refused = browser.get(add_path(redirect_uri))
    accepted = browser.get(add_path(REDIRECT_URI))

    assert refused.status_code == 302
    assert urlsplit(refused.headers["Location"]).path == "/error"
    assert query_of(refused) == {"error": "redirect_mismatch", "client_id": seed.CLIENT_ID}
    assert accepted.status_code == 200


def test_add_refuses_an_unknown_client(emulator: Emulator) -> None:
    browser = signed_in_browser(emulator)

    refused = browser.get(add_path(client_id="no-such-client"))

    assert refused.status_code == 400
    assert 'data-testid="error-code">invalid_client<' in refused.text
    assert browser.get(add_path()).status_code == 200


@pytest.mark.parametrize("turn_off", [no_passkey_sign_ins, no_relying_party])
def test_add_in_a_pool_without_passkeys_says_so(emulator: Emulator, turn_off: Any) -> None:
    browser = signed_in_browser(emulator)
    accepted = browser.get(add_path())
    turn_off(emulator)

    refused = browser.get(add_path())

    assert accepted.status_code == 200
    assert refused.status_code == 400
    assert page_error(refused) == NOT_AVAILABLE


def test_add_refuses_a_form_without_its_csrf_token(emulator: Emulator) -> None:
    browser = signed_in_browser(emulator)
    page = browser.get(add_path())
    credential = Authenticator().create(options_of(page), origin=emulator.url)

    forged = browser.post(
        add_path(), data={"_csrf": "forged", "credential": json.dumps(credential)}
    )

    assert forged.status_code == 200
    assert page_error(forged) == "This page expired. Please try again."
    assert passkeys(emulator, "bob") == []
    retry = post_add(
        browser, forged, Authenticator().create(options_of(forged), origin=emulator.url)
    )
    assert retry.status_code == 302


def test_add_shows_why_a_passkey_was_refused(emulator: Emulator) -> None:
    browser = signed_in_browser(emulator)
    page = browser.get(add_path())
    other_site = Authenticator().create(options_of(page), origin=emulator.url, rp_id="example.com")

    refused = post_add(browser, page, other_site)
    empty = post_add(browser, refused)

    assert refused.status_code == 200
    assert page_error(refused) == (
        "Your passkey was not added. The passkey was made for another website."
    )
    assert page_error(empty) == f"Your passkey was not added. {NO_PASSKEY}"
    assert passkeys(emulator, "bob") == []
