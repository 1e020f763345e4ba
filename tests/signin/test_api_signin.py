"""API sign-in against the emulator over real HTTP: the form, SRP, every challenge as its own step,
the attempt bound to this session, and SECURITY.md "API login and self-service" line by line."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from accounts.session import FLOW_API, TOKENS
from config import aws
from emulator import seed
from signin.session import SIGNIN_ATTEMPT
from tests.accounts.conftest import (
    USERS,
    api_signin,
    attempt_id,
    edit_session,
    inbox_code,
    totp_now,
)

pytestmark = pytest.mark.django_db


def idp() -> Any:
    """The same boto3 client the app uses, for arranging the pool as an administrator would."""
    return aws.client("cognito-idp")


def assert_signed_in(client: Client, username: str) -> None:
    home = client.get("/")
    assert f'data-testid="current-user">{username}<' in home.content.decode()
    tokens = client.session[TOKENS]
    assert tokens["flow"] == FLOW_API
    assert SIGNIN_ATTEMPT not in client.session
    assert User.objects.get(username=username).cognito_sub == tokens["sub"]


def error_code_of(response: Any) -> str:
    return response.context["form"].failure_code


# --- the form and the password ------------------------------------------------------------------


def test_signin_page_carries_the_contract_selectors(emulator: Any, client: Client) -> None:
    body = client.get("/accounts/signin/").content.decode()

    for testid in ("username", "password", "submit", "forgot-password", "sign-up"):
        assert f'data-testid="{testid}"' in body


def test_bob_signs_in_with_srp_and_the_password_never_goes_to_cognito(
    emulator: Any, client: Client, captured_requests: list[dict[str, Any]]
) -> None:
    response = api_signin(client, "bob")

    assert response.status_code == 302 and response["Location"] == "/"
    assert_signed_in(client, "bob")
    flows = [p.get("AuthFlow") for p in captured_requests if "AuthFlow" in p]
    assert flows == ["USER_SRP_AUTH"]
    assert USERS["bob"].password not in repr(captured_requests)
    # SECRET_HASH on every call of a client with a secret, the address as user context.
    assert all(p["AuthParameters"].get("SECRET_HASH") for p in captured_requests if "AuthFlow" in p)
    # The address only: EncodedData is the Cognito browser SDK's fingerprint, no server's to make.
    assert captured_requests[0]["UserContextData"] == {"IpAddress": "127.0.0.1"}


def test_the_password_flow_is_a_setting(emulator: Any, client: Client, settings: Any) -> None:
    settings.COGNITO_AUTH_FLOW = "USER_PASSWORD_AUTH"

    assert api_signin(client, "bob")["Location"] == "/"
    assert_signed_in(client, "bob")


@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
def test_unknown_user_and_wrong_password_get_the_same_answer(
    emulator: Any, client: Client, settings: Any, flow: str
) -> None:
    settings.COGNITO_AUTH_FLOW = flow
    wrong_password = api_signin(client, "bob", "Not-The-Passw0rd!")
    unknown_user = client.post(
        "/accounts/signin/", {"username": "nobody-here", "password": "Not-The-Passw0rd!"}
    )

    assert wrong_password.status_code == unknown_user.status_code == 400
    assert error_code_of(wrong_password) == error_code_of(unknown_user) == "not_authorized"
    assert wrong_password.context["form"].non_field_errors() == (
        unknown_user.context["form"].non_field_errors()
    )
    assert 'data-testid="error"' in wrong_password.content.decode()
    assert TOKENS not in client.session


def test_secret_hash_agrees_with_an_implementation_we_did_not_write() -> None:
    from pycognito.aws_srp import AWSSRP

    from signin.services import secret_hash

    expected = AWSSRP.get_secret_hash("bob", seed.CLIENT_ID, seed.CLIENT_SECRET)
    assert secret_hash("bob") == expected


def test_a_wrong_client_secret_is_refused(emulator: Any, client: Client, settings: Any) -> None:
    settings.COGNITO_CLIENT_SECRET = "not-the-client-secret"

    response = api_signin(client, "bob")

    assert response.status_code == 400
    assert TOKENS not in client.session


def test_next_is_kept_through_the_challenges_when_safe(emulator: Any, client: Client) -> None:
    client.get("/accounts/signin/?next=/accounts/mfa/")
    response = client.post(
        "/accounts/signin/?next=/accounts/mfa/",
        {"username": "alice", "password": USERS["alice"].password, "next": "/accounts/mfa/"},
    )
    answered = client.post(
        response["Location"],
        {"attempt": attempt_id(client), "code": totp_now(USERS["alice"].totp_secret)},
    )

    assert answered["Location"] == "/accounts/mfa/"


def test_an_unsafe_next_goes_home(emulator: Any, client: Client) -> None:
    response = client.post(
        "/accounts/signin/",
        {"username": "bob", "password": USERS["bob"].password, "next": "//evil.example"},
    )

    assert response["Location"] == "/"


# --- SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP -----------------------------------------------------


def test_totp_user_answers_the_code_step_and_is_signed_in(emulator: Any, client: Client) -> None:
    response = api_signin(client, "alice")
    assert response["Location"] == "/accounts/signin/mfa/"
    page = client.get("/accounts/signin/mfa/")
    assert 'data-testid="mfa-code"' in page.content.decode()

    answered = client.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt_id(client), "code": totp_now(USERS["alice"].totp_secret)},
    )

    assert answered["Location"] == "/"
    assert_signed_in(client, "alice")


def test_a_wrong_totp_code_keeps_the_challenge_open(emulator: Any, client: Client) -> None:
    api_signin(client, "alice")
    attempt = attempt_id(client)

    wrong = client.post("/accounts/signin/mfa/", {"attempt": attempt, "code": "000000"})
    right = client.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt, "code": totp_now(USERS["alice"].totp_secret)},
    )

    assert wrong.status_code == 400 and error_code_of(wrong) == "code_mismatch"
    assert TOKENS not in client.session or client.session[TOKENS]["flow"] == FLOW_API
    assert right["Location"] == "/"
    assert_signed_in(client, "alice")


@pytest.mark.parametrize(
    ("username", "challenge", "destination", "shown"),
    [
        pytest.param("dave", "SMS_MFA", "+15555550104", "0104", id="sms"),
        pytest.param("erin", "EMAIL_OTP", "erin@example.com", "e***@e***", id="email"),
    ],
)
def test_a_code_sent_by_the_pool_signs_in(
    emulator: Any, client: Client, username: str, challenge: str, destination: str, shown: str
) -> None:
    api_signin(client, username)
    page = client.get("/accounts/signin/mfa/")
    assert client.session[SIGNIN_ATTEMPT]["challenge"]["name"] == challenge
    assert shown in page.content.decode()

    answered = client.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt_id(client), "code": inbox_code(emulator, destination, "mfa")},
    )

    assert answered["Location"] == "/"
    assert_signed_in(client, username)


@pytest.mark.parametrize("username", ["dave", "erin"])
def test_a_wrong_sent_code_is_refused(emulator: Any, client: Client, username: str) -> None:
    api_signin(client, username)

    wrong = client.post("/accounts/signin/mfa/", {"attempt": attempt_id(client), "code": "12345"})

    assert wrong.status_code == 400 and error_code_of(wrong) == "code_mismatch"
    assert TOKENS not in client.session


# --- SELECT_MFA_TYPE -----------------------------------------------------------------------------


def _give_dave_totp_too(emulator: Any) -> None:
    """dave has SMS; with TOTP as well and no preference, Cognito asks which one to use."""
    dave = Client()
    api_signin(dave, "dave")
    code = inbox_code(emulator, "+15555550104", "mfa")
    dave.post("/accounts/signin/mfa/", {"attempt": attempt_id(dave), "code": code})
    token = dave.session[TOKENS]["access_token"]
    secret = idp().associate_software_token(AccessToken=token)["SecretCode"]
    idp().verify_software_token(AccessToken=token, UserCode=totp_now(secret))
    idp().admin_set_user_mfa_preference(
        UserPoolId=seed.USER_POOL_ID,
        Username="dave",
        SMSMfaSettings={"Enabled": True, "PreferredMfa": False},
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": False},
    )


def test_select_mfa_type_is_its_own_step(emulator: Any, client: Client) -> None:
    _give_dave_totp_too(emulator)

    response = api_signin(client, "dave")
    assert response["Location"] == "/accounts/signin/mfa/select/"
    page = client.get("/accounts/signin/mfa/select/").content.decode()
    assert "Authenticator app" in page and "Text message" in page

    chosen = client.post(
        "/accounts/signin/mfa/select/", {"attempt": attempt_id(client), "choice": "sms"}
    )
    assert chosen["Location"] == "/accounts/signin/mfa/"
    answered = client.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt_id(client), "code": inbox_code(emulator, "+15555550104", "mfa")},
    )

    assert answered["Location"] == "/"
    assert_signed_in(client, "dave")


def test_select_mfa_type_refuses_a_choice_not_offered(emulator: Any, client: Client) -> None:
    _give_dave_totp_too(emulator)
    api_signin(client, "dave")

    response = client.post(
        "/accounts/signin/mfa/select/", {"attempt": attempt_id(client), "choice": "email"}
    )

    assert response.status_code == 400
    assert client.session[SIGNIN_ATTEMPT]["challenge"]["name"] == "SELECT_MFA_TYPE"


# --- MFA_SETUP -----------------------------------------------------------------------------------

_SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')


def _require_mfa() -> None:
    idp().set_user_pool_mfa_config(
        UserPoolId=seed.USER_POOL_ID,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )


def test_mfa_setup_shows_a_qr_code_and_the_secret_then_signs_in(
    emulator: Any, client: Client
) -> None:
    _require_mfa()
    assert api_signin(client, "bob")["Location"] == "/accounts/signin/mfa/setup/"

    page = client.get("/accounts/signin/mfa/setup/").content.decode()
    assert "<svg" in page and 'data-testid="totp-qr"' in page
    secret = _SECRET.search(page).group(1).replace(" ", "")
    answered = client.post(
        "/accounts/signin/mfa/setup/", {"attempt": attempt_id(client), "code": totp_now(secret)}
    )

    assert answered["Location"] == "/"
    assert_signed_in(client, "bob")


def test_mfa_setup_with_a_wrong_code_stays_on_the_step(emulator: Any, client: Client) -> None:
    _require_mfa()
    api_signin(client, "bob")
    page = client.get("/accounts/signin/mfa/setup/").content.decode()
    secret = _SECRET.search(page).group(1)

    wrong = client.post(
        "/accounts/signin/mfa/setup/", {"attempt": attempt_id(client), "code": "000000"}
    )

    assert wrong.status_code == 400 and error_code_of(wrong) == "code_mismatch"
    assert secret in wrong.content.decode()  # the same secret, not a new one
    assert TOKENS not in client.session


# --- NEW_PASSWORD_REQUIRED ------------------------------------------------------------------------


def test_new_password_required_shows_the_policy_and_signs_in(emulator: Any, client: Client) -> None:
    assert api_signin(client, "frank")["Location"] == "/accounts/signin/new-password/"
    page = client.get("/accounts/signin/new-password/").content.decode()
    assert 'data-testid="password-policy"' in page and "At least 8 characters" in page

    answered = client.post(
        "/accounts/signin/new-password/",
        {"attempt": attempt_id(client), "new_password": "Frank-Own-Passw0rd!"},
    )

    assert answered["Location"] == "/"
    assert_signed_in(client, "frank")
    again = Client()
    assert api_signin(again, "frank", "Frank-Own-Passw0rd!")["Location"] == "/"


def test_new_password_against_the_policy_is_refused_with_the_policy(
    emulator: Any, client: Client
) -> None:
    api_signin(client, "frank")

    response = client.post(
        "/accounts/signin/new-password/", {"attempt": attempt_id(client), "new_password": "short"}
    )

    assert response.status_code == 400 and error_code_of(response) == "invalid_password"
    assert 'data-testid="password-policy"' in response.content.decode()
    # Every rule "short" breaks, by name, as on the sign-up and change-password forms.
    assert (
        "That password needs at least 8 characters, an upper-case letter, a number and a symbol"
        in response.content.decode()
    )
    assert client.session[SIGNIN_ATTEMPT]["challenge"]["name"] == "NEW_PASSWORD_REQUIRED"


def test_a_new_password_that_breaks_one_rule_is_told_that_rule_only(
    emulator: Any, client: Client
) -> None:
    api_signin(client, "frank")

    response = client.post(
        "/accounts/signin/new-password/",
        {"attempt": attempt_id(client), "new_password": "Longenough-but-no-number"},
    )

    assert error_code_of(response) == "invalid_password"
    assert "That password needs a number: see" in response.content.decode()


def test_only_allow_listed_attributes_go_with_the_new_password(
    emulator: Any, client: Client, captured_requests: list[dict[str, Any]]
) -> None:
    api_signin(client, "frank")

    client.post(
        "/accounts/signin/new-password/",
        {
            "attempt": attempt_id(client),
            "new_password": "Frank-Own-Passw0rd!",
            "custom:role": "admin",
            "userAttributes.custom:role": "admin",
        },
    )

    answers = [p["ChallengeResponses"] for p in captured_requests if "ChallengeResponses" in p]
    assert answers[-1].keys() == {"NEW_PASSWORD", "USERNAME", "SECRET_HASH"}


def test_the_policy_falls_back_to_the_configured_text_without_credentials(
    emulator: Any, settings: Any
) -> None:
    from signin import services as userpool

    settings.COGNITO_USER_POOL_ID = f"{seed.REGION}_NoSuchPool"
    settings.COGNITO_PASSWORD_POLICY_TEXT = "Twelve characters or more."

    assert userpool.password_policy_get().rules == ("Twelve characters or more.",)


# --- the emailed sign-in code (USER_AUTH EMAIL_OTP) ----------------------------------------------


def test_an_emailed_sign_in_code_from_the_inbox_signs_in(emulator: Any, client: Client) -> None:
    response = client.post("/accounts/signin/code/", {"code-username": "bob"})
    assert response["Location"] == "/accounts/signin/code/email/"
    assert 'data-testid="mfa-code"' in client.get(response["Location"]).content.decode()

    answered = client.post(
        "/accounts/signin/code/email/",
        {"attempt": attempt_id(client), "code": inbox_code(emulator, "bob@example.com")},
    )

    assert answered["Location"] == "/"
    assert_signed_in(client, "bob")


def test_a_wrong_emailed_sign_in_code_signs_nobody_in(emulator: Any, client: Client) -> None:
    client.post("/accounts/signin/code/", {"code-username": "bob"})

    response = client.post(
        "/accounts/signin/code/email/", {"attempt": attempt_id(client), "code": "000000"}
    )

    assert TOKENS not in client.session
    assert response.status_code in (302, 400)


def test_a_code_sign_in_without_a_username_stays_on_the_form(emulator: Any, client: Client) -> None:
    response = client.post("/accounts/signin/code/", {"code-username": ""})

    assert response.status_code == 400
    assert 'data-testid="code-username"' in response.content.decode()
    assert SIGNIN_ATTEMPT not in client.session


# --- the attempt: bound, single use, expiring, failing closed -------------------------------------


def test_the_challenge_session_never_reaches_the_browser(emulator: Any, client: Client) -> None:
    response = api_signin(client, "alice")
    cognito_session = client.session[SIGNIN_ATTEMPT]["challenge"]["session"]
    page = client.get("/accounts/signin/mfa/")

    for seen in (response, page):
        assert cognito_session not in seen.content.decode()
        assert cognito_session not in str(seen.cookies)
        assert cognito_session not in seen.get("Location", "")


def test_a_step_posted_for_another_attempt_restarts_the_sign_in(
    emulator: Any, client: Client
) -> None:
    api_signin(client, "alice")

    response = client.post(
        "/accounts/signin/mfa/",
        {"attempt": "an-older-attempt", "code": totp_now(USERS["alice"].totp_secret)},
    )

    assert response["Location"] == "/accounts/signin/"
    assert SIGNIN_ATTEMPT not in client.session and TOKENS not in client.session


def test_a_replayed_step_after_success_restarts_the_sign_in(emulator: Any, client: Client) -> None:
    api_signin(client, "alice")
    form = {"attempt": attempt_id(client), "code": totp_now(USERS["alice"].totp_secret)}
    client.post("/accounts/signin/mfa/", form)
    client.post("/accounts/logout/")

    replayed = client.post("/accounts/signin/mfa/", form)

    assert replayed["Location"] == "/accounts/signin/"
    assert TOKENS not in client.session


def age_attempt(client: Client, seconds: float) -> None:
    """Move the start of this client's sign-in step `seconds` into the past."""

    def age(session: Any) -> None:
        attempt = session[SIGNIN_ATTEMPT]
        attempt["step_started_at"] -= seconds
        session[SIGNIN_ATTEMPT] = attempt

    edit_session(client, age)


def test_an_expired_attempt_restarts_the_sign_in(emulator: Any, client: Client) -> None:
    api_signin(client, "alice")
    age_attempt(client, settings.COGNITO_AUTH_SESSION_SECONDS + 1)

    response = client.get("/accounts/signin/mfa/")

    assert response["Location"] == "/accounts/signin/"
    assert SIGNIN_ATTEMPT not in client.session
    assert "took too long" in client.get("/accounts/signin/").content.decode()


def test_a_fresh_attempt_just_inside_its_time_still_works(emulator: Any, client: Client) -> None:
    api_signin(client, "alice")
    age_attempt(client, settings.COGNITO_AUTH_SESSION_SECONDS - 30)

    assert client.get("/accounts/signin/mfa/").status_code == 200


def test_an_unknown_challenge_fails_closed(emulator: Any, client: Client) -> None:
    from signin import services as userpool

    api_signin(client, "alice")

    def unknown(session: Any) -> None:
        attempt = session[SIGNIN_ATTEMPT]
        attempt["challenge"]["name"] = "WEB_AUTHN"
        session[SIGNIN_ATTEMPT] = attempt

    edit_session(client, unknown)
    response = client.get("/accounts/signin/mfa/")

    assert response["Location"] == "/accounts/signin/"
    assert SIGNIN_ATTEMPT not in client.session
    assert "a sign-in step this site cannot do" in client.get("/accounts/signin/").content.decode()
    with pytest.raises(userpool.UserPoolError) as failure:
        userpool.challenge_answer(
            challenge=userpool.Challenge(name="WEB_AUTHN", session="s" * 40, username="alice"),
            answer="x",
            address="127.0.0.1",
        )
    assert failure.value.code == "unsupported_challenge"


def test_a_step_without_a_sign_in_in_progress_goes_to_the_form(
    emulator: Any, client: Client
) -> None:
    assert client.get("/accounts/signin/mfa/")["Location"] == "/accounts/signin/"


# --- Cognito asking for the confirm or reset step -------------------------------------------------


def test_an_unconfirmed_user_is_sent_to_the_confirm_step(emulator: Any, client: Client) -> None:
    idp().sign_up(
        ClientId=seed.CLIENT_ID,
        SecretHash=_secret_hash("newcomer"),
        Username="newcomer",
        Password="Newcomer-Passw0rd!",
        UserAttributes=[{"Name": "email", "Value": "newcomer@example.com"}],
    )

    response = api_signin(client, "newcomer", "Newcomer-Passw0rd!")

    assert response["Location"] == "/accounts/signup/confirm/"
    assert "newcomer" in client.get("/accounts/signup/confirm/").content.decode()


def test_a_user_who_must_reset_is_sent_to_the_reset_step(
    emulator: Any, client: Client, settings: Any
) -> None:
    # With PreventUserExistenceErrors on, Cognito says only "incorrect"; LEGACY tells the truth.
    idp().update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID, ClientId=seed.CLIENT_ID, PreventUserExistenceErrors="LEGACY"
    )
    idp().admin_reset_user_password(UserPoolId=seed.USER_POOL_ID, Username="bob")

    response = api_signin(client, "bob")

    assert response["Location"] == "/accounts/password/forgot/"
    assert 'value="bob"' in client.get("/accounts/password/forgot/").content.decode()


def _secret_hash(username: str) -> str:
    from signin.services import secret_hash

    return secret_hash(username)


# --- app-side rate limits -------------------------------------------------------------------------


def test_sign_in_just_under_the_account_limit_still_works(
    emulator: Any, client: Client, settings: Any
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 3
    for _ in range(2):
        assert api_signin(client, "bob", "Wrong-Passw0rd!").status_code == 400

    assert api_signin(client, "bob")["Location"] == "/"


def test_sign_in_over_the_account_limit_is_refused_with_429(
    emulator: Any, client: Client, settings: Any, captured_requests: list[dict[str, Any]]
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 3
    for _ in range(3):
        api_signin(client, "bob", "Wrong-Passw0rd!")
    calls_before = len(captured_requests)

    response = api_signin(client, "bob")

    assert response.status_code == 429 and error_code_of(response) == "rate_limited"
    assert len(captured_requests) == calls_before  # refused before Cognito is asked
    assert TOKENS not in client.session


def test_one_address_trying_many_accounts_is_limited(
    emulator: Any, client: Client, settings: Any
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ADDRESS = 3
    for username in ("nobody-1", "nobody-2", "nobody-3"):
        api_signin(client, username, "Wrong-Passw0rd!")

    limited = api_signin(client, "bob")
    elsewhere = api_signin(Client(REMOTE_ADDR="192.0.2.7"), "bob")

    assert limited.status_code == 429
    assert elsewhere["Location"] == "/"


def test_wrong_mfa_codes_are_limited_per_account(
    emulator: Any, client: Client, settings: Any
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 2
    api_signin(client, "alice")
    attempt = attempt_id(client)
    for _ in range(2):
        client.post("/accounts/signin/mfa/", {"attempt": attempt, "code": "000000"})

    response = client.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt, "code": totp_now(USERS["alice"].totp_secret)},
    )

    assert response.status_code == 429
    assert TOKENS not in client.session


# --- admin variants -------------------------------------------------------------------------------


@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"])
def test_the_admin_operations_sign_in_behind_a_setting(
    emulator: Any,
    client: Client,
    settings: Any,
    captured_requests: list[dict[str, Any]],
    flow: str,
) -> None:
    settings.COGNITO_ADMIN_AUTH = True
    settings.COGNITO_AUTH_FLOW = flow

    api_signin(client, "alice")
    answered = client.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt_id(client), "code": totp_now(USERS["alice"].totp_secret)},
    )

    assert answered["Location"] == "/"
    assert_signed_in(client, "alice")
    assert all("UserPoolId" in p for p in captured_requests if "AuthFlow" in p)
    assert any(p.get("ContextData", {}).get("IpAddress") for p in captured_requests)


def test_the_admin_operations_refuse_a_wrong_password_alike(
    emulator: Any, client: Client, settings: Any
) -> None:
    settings.COGNITO_ADMIN_AUTH = True

    response = api_signin(client, "bob", "Wrong-Passw0rd!")

    assert response.status_code == 400 and error_code_of(response) == "not_authorized"


# --- the session after sign-in -------------------------------------------------------------------


def test_api_sign_in_rotates_the_session_key(emulator: Any, client: Client) -> None:
    api_signin(client, "alice")  # the attempt lives in an anonymous session
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    client.post(
        "/accounts/signin/mfa/",
        {"attempt": attempt_id(client), "code": totp_now(USERS["alice"].totp_secret)},
    )

    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before


def test_no_token_or_password_reaches_the_logs(
    emulator: Any, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    api_signin(client, "alice", "Wrong-Passw0rd!")
    api_signin(client, "alice")
    cognito_session = client.session[SIGNIN_ATTEMPT]["challenge"]["session"]
    attempt = attempt_id(client)
    client.post("/accounts/signin/mfa/", {"attempt": attempt, "code": "000000"})
    code = totp_now(USERS["alice"].totp_secret)
    client.post("/accounts/signin/mfa/", {"attempt": attempt, "code": code})
    tokens = client.session[TOKENS]

    for secret in (
        USERS["alice"].password,
        "Wrong-Passw0rd!",
        cognito_session,
        code,
        tokens["access_token"],
        tokens["refresh_token"],
    ):
        assert secret not in caplog.text
    assert "event=signin_failed flow=api reason=not_authorized" in caplog.text
    assert "event=challenge_failed step=mfa_code reason=code_mismatch" in caplog.text
    assert "event=signin flow=api" in caplog.text


@pytest.mark.parametrize("username", ["alice", "dave", "erin"])
def test_a_code_step_of_the_demo_says_where_the_code_is(
    emulator: Any, client: Client, settings: Any, username: str
) -> None:
    assert settings.DEMO_PANEL_URL  # the tests run the site as the demo does
    step = api_signin(client, username)["Location"]

    assert 'data-testid="demo-inbox-hint"' in client.get(step).content.decode()


def test_a_code_step_outside_the_demo_says_nothing_of_a_panel(
    emulator: Any, client: Client, settings: Any
) -> None:
    settings.DEMO_PANEL_URL = ""
    step = api_signin(client, "dave")["Location"]

    assert 'data-testid="demo-inbox-hint"' not in client.get(step).content.decode()
