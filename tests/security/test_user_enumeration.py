"""Attack: telling which accounts exist from the answers of the pages that send codes (forgot
password, resend, sign-up, email change, the emailed sign-in code). Where the pool hides existence
(PreventUserExistenceErrors ENABLED, as in the seed), existing, unknown and unconfirmed users get
the same status, the same page and message, the same pool calls and a similar time; and every
send is rate limited per account and per client address, alike for all of them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from config import aws
from emulator import seed
from signin.services import secret_hash
from signin.session import CONFIRMING_USERNAME
from tests.accounts.conftest import api_signin

pytestmark = pytest.mark.django_db

EXISTING, UNKNOWN, UNCONFIRMED = "bob", "nobody-here", "pending-user"


@pytest.fixture
def unconfirmed(emulator: Any) -> str:
    """A user who signed up and never entered the code."""
    aws.client("cognito-idp").sign_up(
        ClientId=seed.CLIENT_ID,
        Username=UNCONFIRMED,
        Password="Pending-Passw0rd!",
        SecretHash=secret_hash(UNCONFIRMED),
        UserAttributes=[{"Name": "email", "Value": "pending@example.com"}],
    )
    return UNCONFIRMED


@pytest.fixture
def pool_calls() -> Iterator[list[str]]:
    """The name of every cognito-idp operation the app calls."""
    seen: list[str] = []

    def capture(model: Any, **kwargs: Any) -> None:
        seen.append(model.name)

    events = aws.client("cognito-idp").meta.events
    events.register("before-parameter-build.cognito-idp.*", capture)
    yield seen
    events.unregister("before-parameter-build.cognito-idp.*", capture)


def answer(response: Any) -> tuple[int, str, list[str]]:
    """What a visitor learns: the status, where it leads and the messages it shows."""
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    for name in ("form", "code_form"):  # the sign-in page carries both of its forms
        if response.context and name in response.context:
            shown += [str(e) for e in response.context[name].non_field_errors()]
    return response.status_code, response.get("Location", ""), shown


def answers_and_calls(
    usernames: list[str], ask: Callable[[Client, str], Any], pool_calls: list[str]
) -> dict[str, tuple[Any, list[str]]]:
    seen = {}
    for username in usernames:
        pool_calls.clear()
        seen[username] = (answer(ask(Client(), username)), list(pool_calls))
    return seen


def forgot(client: Client, username: str) -> Any:
    return client.post("/accounts/password/forgot/", {"username": username})


def resend(client: Client, username: str) -> Any:
    # The confirmation step keeps the username in the session; this sets it as sign-up would.
    session = client.session
    session[CONFIRMING_USERNAME] = username
    session.save()
    return client.post("/accounts/signup/resend/")


def code_signin(client: Client, username: str) -> Any:
    return client.post("/accounts/signin/code/", {"code-username": username})


# --- forgot password ------------------------------------------------------------------------------


def test_forgot_password_answers_alike_for_existing_unknown_and_unconfirmed_users(
    emulator: Any, unconfirmed: str, pool_calls: list[str]
) -> None:
    seen = answers_and_calls([EXISTING, UNKNOWN, unconfirmed], forgot, pool_calls)

    assert seen[EXISTING] == seen[UNKNOWN] == seen[unconfirmed]
    assert seen[EXISTING][0][:2] == (302, "/accounts/password/reset/")
    assert seen[EXISTING][1] == ["ForgotPassword"]


def test_forgot_password_takes_a_similar_time_for_existing_and_unknown_users(
    emulator: Any,
) -> None:
    timings: dict[str, list[float]] = {EXISTING: [], UNKNOWN: []}
    for _ in range(5):
        for username in timings:
            started = time.perf_counter()
            forgot(Client(), username)
            timings[username].append(time.perf_counter() - started)

    medians = {name: statistics.median(times) for name, times in timings.items()}
    # Loose on purpose (a shared test machine): it catches a second pool call or a sleep on one
    # path, not microseconds; the pool's own timing is Cognito's to hide.
    assert abs(medians[EXISTING] - medians[UNKNOWN]) < 0.25, medians


# --- resend ---------------------------------------------------------------------------------------


def test_resend_answers_alike_for_unknown_and_unconfirmed_users(
    emulator: Any, unconfirmed: str, pool_calls: list[str]
) -> None:
    seen = answers_and_calls([UNKNOWN, unconfirmed], resend, pool_calls)

    assert seen[UNKNOWN] == seen[unconfirmed]
    assert seen[UNKNOWN][0] == (302, "/accounts/signup/confirm/", ["We sent you a new code."])


# --- sign-up --------------------------------------------------------------------------------------


def signup(client: Client, username: str, email: str) -> Any:
    return client.post(
        "/accounts/signup/",
        {"username": username, "email": email, "password": "Newcomer-Passw0rd!"},
    )


def test_signing_up_with_an_existing_accounts_email_answers_as_with_a_new_one(
    emulator: Any,
) -> None:
    taken_email = answer(signup(Client(), "newcomer-1", "bob@example.com"))
    fresh_email = answer(signup(Client(), "newcomer-2", "nobody-yet@example.com"))

    assert taken_email[:2] == fresh_email[:2] == (302, "/accounts/signup/confirm/")
    assert [m.split(" to ")[0] for m in taken_email[2]] == [
        m.split(" to ")[0] for m in fresh_email[2]
    ]


def test_sign_up_says_a_taken_username_is_taken_whether_confirmed_or_not(
    emulator: Any, unconfirmed: str
) -> None:
    # Cognito's SignUp is not covered by PreventUserExistenceErrors: the pool says so itself.
    confirmed = answer(signup(Client(), EXISTING, "x@example.com"))
    pending = answer(signup(Client(), unconfirmed, "x@example.com"))

    assert confirmed == pending
    assert confirmed[0] == 400


# --- email change ---------------------------------------------------------------------------------


def test_changing_to_another_accounts_email_answers_as_a_new_one(emulator: Any) -> None:
    client = Client()
    assert api_signin(client, "bob")["Location"] == "/"

    taken = answer(client.post("/accounts/profile/", {"email": "carol@example.com"}))
    client.post("/accounts/profile/", {"email": "bob@example.com"})  # back, for the twin
    fresh = answer(client.post("/accounts/profile/", {"email": "robert@example.com"}))

    assert taken[:2] == fresh[:2] == (302, "/accounts/profile/verify/")


# --- the emailed sign-in code ---------------------------------------------------------------------


def test_a_code_sign_in_for_an_existing_user_goes_to_the_code_step(emulator: Any) -> None:
    status, location, _ = answer(code_signin(Client(), EXISTING))

    assert (status, location) == (302, "/accounts/signin/code/email/")


def test_a_code_sign_in_answers_alike_for_unknown_and_unconfirmed_users(
    emulator: Any, unconfirmed: str, pool_calls: list[str]
) -> None:
    seen = answers_and_calls([UNKNOWN, unconfirmed], code_signin, pool_calls)

    assert seen[UNKNOWN] == seen[unconfirmed]


def test_a_code_sign_in_answers_alike_for_existing_and_unknown_users(
    emulator: Any, pool_calls: list[str]
) -> None:
    seen = answers_and_calls([EXISTING, UNKNOWN], code_signin, pool_calls)

    assert seen[EXISTING] == seen[UNKNOWN]


# --- sends are limited per account and per address ------------------------------------------------


@pytest.mark.parametrize("username", [EXISTING, UNKNOWN])
def test_reset_codes_for_one_account_are_limited_from_any_address(
    emulator: Any, settings: Any, username: str
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 2
    sent = [forgot(Client(REMOTE_ADDR=f"198.51.100.{n}"), username) for n in range(2)]

    refused = forgot(Client(REMOTE_ADDR="192.0.2.209"), username)
    other_account = forgot(Client(REMOTE_ADDR="192.0.2.209"), "carol")

    assert [r.status_code for r in sent] == [302, 302]
    assert refused.status_code == 429
    assert refused.context["form"].failure_code == "rate_limited"
    assert other_account.status_code == 302


def test_sends_from_one_address_are_limited_across_accounts(emulator: Any, settings: Any) -> None:
    settings.AUTH_RATE_LIMIT_PER_ADDRESS = 3
    noisy = Client(REMOTE_ADDR="192.0.2.105")
    forgot(noisy, "bob")
    code_signin(noisy, "carol")
    signup(noisy, "newcomer-1", "n1@example.com")

    refused = [
        forgot(noisy, "dave"),
        code_signin(noisy, "erin"),
        signup(noisy, "newcomer-2", "n2@example.com"),
    ]
    elsewhere = forgot(Client(REMOTE_ADDR="192.0.2.106"), "dave")

    assert [r.status_code for r in refused] == [429, 429, 429]
    assert elsewhere.status_code == 302


def test_resends_are_limited_per_account(emulator: Any, settings: Any, unconfirmed: str) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 2
    sent = [answer(resend(Client(REMOTE_ADDR=f"198.51.100.{n}"), unconfirmed)) for n in range(2)]

    refused = answer(resend(Client(REMOTE_ADDR="192.0.2.209"), unconfirmed))

    assert [s[2] for s in sent] == [["We sent you a new code."]] * 2
    assert refused[2] == ["Too many attempts. Please wait a few minutes and try again."]


def test_email_changes_are_limited_per_account(emulator: Any, settings: Any) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 2
    client = Client()
    assert api_signin(client, "bob")["Location"] == "/"
    changes = [
        client.post("/accounts/profile/", {"email": f"bob{n}@example.com"}) for n in range(3)
    ]
    # The pool keeps the verified address until the new one is verified: no new address here.
    names_only = client.post("/accounts/profile/", {"email": "bob@example.com", "given_name": "B"})

    assert [r.status_code for r in changes] == [302, 302, 429]
    assert names_only.status_code == 302  # no new address, no code sent: not limited
