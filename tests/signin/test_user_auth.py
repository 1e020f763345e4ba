"""Choice-based sign-in (USER_AUTH) through the site's form, against the emulator over real HTTP:
an emailed or texted code, a passkey (tests/emulator/authenticator.py signs for it), the choice
step, and each bad input a page that says what happened."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from typing import Any

import pytest
from django.test import Client

from accounts.session import TOKENS
from emulator import seed
from signin import services as userpool
from signin.session import SIGNIN_ATTEMPT
from tests.accounts.conftest import USERS, attempt_id, inbox_code, signed_in_as
from tests.emulator.authenticator import Authenticator

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost:8000"


def start(client: Client, username: str, factor: str) -> Any:
    return client.post("/accounts/signin/code/", {"code-username": username, "code-factor": factor})


def heidis_passkey() -> Authenticator:
    return Authenticator.from_pkcs8(seed.PASSKEY_PRIVATE_KEY, seed.PASSKEY_CREDENTIAL_ID)


def passkey_options(client: Client) -> dict[str, Any]:
    """The options the passkey page hands the browser (its form's data attribute)."""
    page = client.get("/accounts/signin/passkey/").content.decode()
    found = re.search(r'data-webauthn-options="([^"]*)"', page)
    assert found, page
    return json.loads(html.unescape(found.group(1)))


def answer_passkey(client: Client, credential: dict[str, Any]) -> Any:
    return client.post(
        "/accounts/signin/passkey/",
        {"attempt": attempt_id(client), "credential": json.dumps(credential)},
    )


def messages_on_signin_page(client: Client) -> str:
    return client.get("/accounts/signin/").content.decode()


# --- the sign-in page -----------------------------------------------------------------------------


def test_the_sign_in_page_offers_the_pools_first_factors(emulator: Any, client: Client) -> None:
    page = client.get("/accounts/signin/").content.decode()

    for testid in ("send-code", "text-code", "passkey-start", "choose-factor", "password"):
        assert f'data-testid="{testid}"' in page


def test_a_factor_the_page_does_not_offer_is_refused_with_a_page(
    emulator: Any, client: Client
) -> None:
    response = start(client, "bob", "carrier-pigeon")

    assert response.status_code == 400
    assert 'data-testid="code-username"' in response.content.decode()
    assert SIGNIN_ATTEMPT not in client.session


def test_a_factor_the_pool_does_not_allow_is_neither_offered_nor_taken(
    emulator: Any, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    policies = emulator.state.pool.extended_config["Policies"]
    monkeypatch.setitem(
        policies, "SignInPolicy", {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}
    )
    monkeypatch.setattr(userpool, "_pool_cache", {})

    page = client.get("/accounts/signin/").content.decode()
    refused = start(client, "grace", "sms")
    allowed = start(Client(), "grace", "email")

    assert 'data-testid="text-code"' not in page and 'data-testid="send-code"' in page
    assert refused.status_code == 400
    assert not emulator.inbox.messages(to="+15555550107")
    assert allowed["Location"] == "/accounts/signin/code/email/"


# --- codes by text message ------------------------------------------------------------------------


def test_a_texted_code_signs_a_passwordless_user_in(emulator: Any, client: Client) -> None:
    asked = start(client, "grace", "sms")
    assert asked["Location"] == "/accounts/signin/code/sms/"
    assert client.get(asked["Location"]).status_code == 200

    answered = client.post(
        "/accounts/signin/code/sms/",
        {"attempt": attempt_id(client), "code": inbox_code(emulator, "+15555550107")},
    )

    assert answered["Location"] == "/"
    assert signed_in_as(client) == "grace"


def test_a_wrong_texted_code_keeps_the_step_with_a_message(emulator: Any, client: Client) -> None:
    start(client, "grace", "sms")

    response = client.post(
        "/accounts/signin/code/sms/", {"attempt": attempt_id(client), "code": "1"}
    )

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert signed_in_as(client) is None


def test_a_code_is_taken_once(emulator: Any, client: Client) -> None:
    start(client, "bob", "email")
    code = inbox_code(emulator, USERS["bob"].email)
    attempt = attempt_id(client)
    client.post("/accounts/signin/code/email/", {"attempt": attempt, "code": code})
    assert signed_in_as(client) == "bob"

    replayed = Client()
    start(replayed, "bob", "email")
    response = replayed.post(
        "/accounts/signin/code/email/", {"attempt": attempt_id(replayed), "code": code}
    )

    assert response.status_code == 400
    assert signed_in_as(replayed) is None


def test_an_expired_code_says_so(emulator: Any, client: Client) -> None:
    start(client, "bob", "email")
    code = inbox_code(emulator, USERS["bob"].email)
    with emulator.state.lock:
        sessions = emulator.state.flows.auth_sessions
        for token, session in list(sessions.items()):
            if session.username == "bob":
                sessions[token] = replace(session, code_expires_at=0.0)

    response = client.post(
        "/accounts/signin/code/email/", {"attempt": attempt_id(client), "code": code}
    )

    assert response.status_code == 400
    assert "That code has expired" in response.content.decode()
    assert signed_in_as(client) is None


# --- the choice (SELECT_CHALLENGE) ----------------------------------------------------------------


def test_choosing_an_emailed_code_signs_in(emulator: Any, client: Client) -> None:
    asked = start(client, "bob", "choose")
    assert asked["Location"] == "/accounts/signin/choose/"
    assert 'data-testid="first-factor"' in client.get(asked["Location"]).content.decode()

    chosen = client.post(
        "/accounts/signin/choose/", {"attempt": attempt_id(client), "choice": "email"}
    )
    assert chosen["Location"] == "/accounts/signin/code/email/"
    answered = client.post(
        "/accounts/signin/code/email/",
        {"attempt": attempt_id(client), "code": inbox_code(emulator, USERS["bob"].email)},
    )

    assert answered["Location"] == "/"
    assert signed_in_as(client) == "bob"


def test_the_choice_is_the_same_for_an_mfa_account_an_unknown_one_and_anyone(
    emulator: Any,
) -> None:
    pages = []
    for username in ("alice", "nobody-here", "bob"):
        client = Client()
        start(client, username, "choose")
        page = client.get("/accounts/signin/choose/").content.decode()
        pages.append(re.sub(r'name="(attempt|csrfmiddlewaretoken)" value="[^"]*"', "", page))

    assert pages[0] == pages[1] == pages[2]


def test_choosing_a_code_an_mfa_account_may_not_use_leads_to_a_step_that_sends_nothing(
    emulator: Any, client: Client
) -> None:
    start(client, "alice", "choose")

    chosen = client.post(
        "/accounts/signin/choose/", {"attempt": attempt_id(client), "choice": "email"}
    )

    assert chosen["Location"] == "/accounts/signin/code/email/"  # as for anyone
    assert not emulator.inbox.messages(to=USERS["alice"].email)


# --- passkeys -------------------------------------------------------------------------------------


def test_heidis_passkey_signs_her_in(emulator: Any, client: Client) -> None:
    asked = start(client, "heidi", "passkey")
    assert asked["Location"] == "/accounts/signin/passkey/"
    options = passkey_options(client)

    response = answer_passkey(client, heidis_passkey().get(options, origin=ORIGIN))

    assert response["Location"] == "/"
    assert signed_in_as(client) == "heidi"


@pytest.mark.parametrize(
    ("bad", "twist"),
    [
        ("wrong origin", {"origin": "http://evil.example"}),
        ("wrong relying party", {"rp_id": "example.com"}),
    ],
)
def test_a_passkey_answer_for_another_site_is_refused_with_a_message(
    emulator: Any, client: Client, bad: str, twist: dict[str, str]
) -> None:
    start(client, "heidi", "passkey")
    options = passkey_options(client)

    response = answer_passkey(client, heidis_passkey().get(options, **{"origin": ORIGIN, **twist}))

    assert response["Location"] == "/accounts/signin/", bad
    assert "That passkey could not sign you in" in messages_on_signin_page(client)
    assert TOKENS not in client.session and signed_in_as(client) is None


def test_an_unknown_passkey_is_refused_with_a_message(emulator: Any, client: Client) -> None:
    start(client, "heidi", "passkey")
    options = passkey_options(client)
    stranger = Authenticator()
    stranger.user_handle = b"heidi"

    response = answer_passkey(client, stranger.get(options, origin=ORIGIN))

    assert response["Location"] == "/accounts/signin/"
    assert "That passkey could not sign you in" in messages_on_signin_page(client)
    assert signed_in_as(client) is None


def test_a_replayed_passkey_answer_is_refused(emulator: Any, client: Client) -> None:
    start(client, "heidi", "passkey")
    answer = heidis_passkey().get(passkey_options(client), origin=ORIGIN)
    answer_passkey(client, answer)
    assert signed_in_as(client) == "heidi"

    again = Client()
    start(again, "heidi", "passkey")
    response = answer_passkey(again, answer)

    assert response["Location"] == "/accounts/signin/"
    assert signed_in_as(again) is None


def test_a_passkey_page_without_the_browsers_answer_stays_with_a_message(
    emulator: Any, client: Client
) -> None:
    start(client, "heidi", "passkey")

    response = client.post("/accounts/signin/passkey/", {"attempt": attempt_id(client)})

    assert response.status_code == 400
    assert "Your browser sent no passkey" in response.content.decode()


def test_a_passkey_sign_in_answers_alike_for_heidi_bob_and_an_unknown_user(emulator: Any) -> None:
    seen = []
    for username in ("heidi", "bob", "nobody-here", "alice"):
        client = Client()
        response = start(client, username, "passkey")
        seen.append((response.status_code, response["Location"]))
        assert client.get(response["Location"]).status_code == 200

    assert len(set(seen)) == 1


def test_a_decoy_passkey_step_signs_nobody_in_and_ends_as_a_real_one(
    emulator: Any, client: Client
) -> None:
    start(client, "bob", "passkey")  # bob has no passkey
    options = passkey_options(client)
    stranger = Authenticator()
    stranger.user_handle = b"bob"

    response = answer_passkey(client, stranger.get({**options, "rpId": "localhost"}))

    assert response["Location"] == "/accounts/signin/"
    assert "That passkey could not sign you in" in messages_on_signin_page(client)
    assert signed_in_as(client) is None
