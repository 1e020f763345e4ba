"""Choice-based sign-in (USER_AUTH) through the user pools API: boto3 over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
from typing import Any

import boto3
import pyotp
import requests
from pycognito.aws_srp import AWSSRP

from emulator import seed
from emulator.server import Emulator

from .api_flows import USERS, error_of, inbox, last_code, legacy_existence_errors, secret_hash
from .flows import Browser, exchange, page_error, query_of, verify, wrong_code

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
PENDING = re.compile(r'name="pending" value="([^"]+)"')

GRACE = seed.PASSWORDLESS_USER


def user_auth(idp: Any, username: str, **parameters: str) -> dict:
    """InitiateAuth with USER_AUTH for the demo client."""
    return idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": username, "SECRET_HASH": secret_hash(username), **parameters},
    )


def answer(idp: Any, step: dict, name: str, username: str, **responses: str) -> dict:
    return idp.respond_to_auth_challenge(
        ClientId=seed.CLIENT_ID,
        ChallengeName=name,
        Session=step["Session"],
        ChallengeResponses={
            "USERNAME": username,
            "SECRET_HASH": secret_hash(username),
            **responses,
        },
    )


def set_first_factors(idp: Any, *factors: str) -> None:
    idp.update_user_pool(
        UserPoolId=seed.USER_POOL_ID,
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": list(factors)}},
    )


# The choice.


def test_without_a_preferred_challenge_the_user_gets_the_choice(idp) -> None:
    step = user_auth(idp, "bob")

    assert step["ChallengeName"] == "SELECT_CHALLENGE"
    assert step["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]
    assert step["Session"]


def test_a_passwordless_user_is_offered_codes_only(idp) -> None:
    step = user_auth(idp, GRACE.username, PREFERRED_CHALLENGE="PASSWORD")

    assert step["ChallengeName"] == "SELECT_CHALLENGE"
    assert step["AvailableChallenges"] == ["EMAIL_OTP", "SMS_OTP"]


def test_a_user_with_mfa_is_not_offered_one_time_codes(idp) -> None:
    """Cognito: MFA and passwordless first factors are not used together (see userauth.py)."""
    step = user_auth(idp, "alice", PREFERRED_CHALLENGE="EMAIL_OTP")

    error = error_of(answer, idp, step, "SELECT_CHALLENGE", "alice", ANSWER="EMAIL_OTP")

    assert step["ChallengeName"] == "SELECT_CHALLENGE"
    assert step["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]
    assert error["Code"] == "InvalidParameterException"


def test_a_password_first_factor_is_followed_by_the_users_mfa(idp) -> None:
    step = user_auth(idp, "alice", PREFERRED_CHALLENGE="PASSWORD", PASSWORD=USERS["alice"].password)
    code = pyotp.TOTP(USERS["alice"].totp_secret).now()

    result = answer(idp, step, "SOFTWARE_TOKEN_MFA", "alice", SOFTWARE_TOKEN_MFA_CODE=code)

    assert step["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    assert result["AuthenticationResult"]["AccessToken"]


def test_a_factor_the_pool_does_not_allow_is_refused(idp) -> None:
    set_first_factors(idp, "PASSWORD")
    step = user_auth(idp, "bob")

    error = error_of(answer, idp, step, "SELECT_CHALLENGE", "bob", ANSWER="EMAIL_OTP")
    allowed = answer(
        idp,
        user_auth(idp, "bob"),
        "SELECT_CHALLENGE",
        "bob",
        ANSWER="PASSWORD",
        PASSWORD=USERS["bob"].password,
    )

    assert step["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]
    assert error["Code"] == "InvalidParameterException"
    assert allowed["AuthenticationResult"]["IdToken"]


def test_a_client_without_allow_user_auth_is_refused(idp) -> None:
    error = error_of(
        idp.initiate_auth,
        ClientId=seed.PUBLIC_CLIENT_ID,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": "bob"},
    )

    assert error == {
        "Code": "InvalidParameterException",
        "Message": "USER_AUTH flow not enabled for this client",
    }
    assert user_auth(idp, "bob")["ChallengeName"] == "SELECT_CHALLENGE"


def test_an_unknown_preferred_challenge_is_refused(idp) -> None:
    error = error_of(user_auth, idp, "bob", PREFERRED_CHALLENGE="SOFTWARE_TOKEN_MFA")

    assert error["Code"] == "InvalidParameterException"


# Passwords.


def test_preferred_password_signs_in_at_once(idp) -> None:
    result = user_auth(idp, "bob", PREFERRED_CHALLENGE="PASSWORD", PASSWORD=USERS["bob"].password)

    assert result["AuthenticationResult"]["RefreshToken"]


def test_a_wrong_password_is_refused(idp) -> None:
    error = error_of(user_auth, idp, "bob", PREFERRED_CHALLENGE="PASSWORD", PASSWORD="Wrong-1!")

    assert error == {"Code": "NotAuthorizedException", "Message": "Incorrect username or password."}


def test_choosing_password_without_it_asks_for_it(idp) -> None:
    step = answer(idp, user_auth(idp, "bob"), "SELECT_CHALLENGE", "bob", ANSWER="PASSWORD")

    result = answer(idp, step, "PASSWORD", "bob", PASSWORD=USERS["bob"].password)

    assert step["ChallengeName"] == "PASSWORD"
    assert result["AuthenticationResult"]["AccessToken"]


def test_password_srp_goes_on_to_the_password_verifier(idp) -> None:
    aws = AWSSRP(
        username="bob",
        password=USERS["bob"].password,
        pool_id=seed.USER_POOL_ID,
        client_id=seed.CLIENT_ID,
        client=idp,
        client_secret=seed.CLIENT_SECRET,
    )
    auth_params = aws.get_auth_params()
    step = answer(
        idp,
        user_auth(idp, "bob"),
        "SELECT_CHALLENGE",
        "bob",
        ANSWER="PASSWORD_SRP",
        SRP_A=auth_params["SRP_A"],
    )

    result = idp.respond_to_auth_challenge(
        ClientId=seed.CLIENT_ID,
        ChallengeName="PASSWORD_VERIFIER",
        Session=step["Session"],
        ChallengeResponses=aws.process_challenge(step["ChallengeParameters"], auth_params),
    )

    assert step["ChallengeName"] == "PASSWORD_VERIFIER"
    assert result["AuthenticationResult"]["IdToken"]


def test_admin_initiate_auth_takes_user_auth(idp) -> None:
    result = idp.admin_initiate_auth(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_AUTH",
        AuthParameters={
            "USERNAME": "bob",
            "SECRET_HASH": secret_hash("bob"),
            "PREFERRED_CHALLENGE": "PASSWORD",
            "PASSWORD": USERS["bob"].password,
        },
    )

    assert result["AuthenticationResult"]["AccessToken"]


# One-time codes.


def test_an_emailed_code_signs_in(idp, emulator: Emulator) -> None:
    step = answer(idp, user_auth(idp, "bob"), "SELECT_CHALLENGE", "bob", ANSWER="EMAIL_OTP")

    result = answer(
        idp, step, "EMAIL_OTP", "bob", EMAIL_OTP_CODE=last_code(emulator, "bob@example.com")
    )

    assert step["ChallengeName"] == "EMAIL_OTP"
    assert step["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    assert step["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "b***@e***"
    assert result["AuthenticationResult"]["RefreshToken"]


def test_a_texted_code_signs_in_the_passwordless_user(idp, emulator: Emulator) -> None:
    step = user_auth(idp, GRACE.username, PREFERRED_CHALLENGE="SMS_OTP")

    code = last_code(emulator, GRACE.phone_number or "")
    result = answer(idp, step, "SMS_OTP", GRACE.username, SMS_OTP_CODE=code)

    assert step["ChallengeName"] == "SMS_OTP"
    assert result["AuthenticationResult"]["AccessToken"]


def test_a_wrong_code_is_refused_and_may_be_retried(idp, emulator: Emulator) -> None:
    step = user_auth(idp, "bob", PREFERRED_CHALLENGE="EMAIL_OTP")
    code = last_code(emulator, "bob@example.com")

    error = error_of(answer, idp, step, "EMAIL_OTP", "bob", EMAIL_OTP_CODE=wrong_code(code))
    result = answer(idp, step, "EMAIL_OTP", "bob", EMAIL_OTP_CODE=code)

    assert error == {
        "Code": "CodeMismatchException",
        "Message": "Invalid code or auth state for the user.",
    }
    assert result["AuthenticationResult"]["AccessToken"]


def test_a_used_code_is_refused(idp, emulator: Emulator) -> None:
    step = user_auth(idp, "bob", PREFERRED_CHALLENGE="EMAIL_OTP")
    code = last_code(emulator, "bob@example.com")
    answer(idp, step, "EMAIL_OTP", "bob", EMAIL_OTP_CODE=code)

    error = error_of(answer, idp, step, "EMAIL_OTP", "bob", EMAIL_OTP_CODE=code)

    assert error["Code"] == "NotAuthorizedException"


def test_an_unknown_user_gets_the_same_answers_and_no_mail(idp, emulator: Emulator) -> None:
    step = user_auth(idp, "nobody")
    code_step = answer(idp, step, "SELECT_CHALLENGE", "nobody", ANSWER="EMAIL_OTP")

    error = error_of(answer, idp, code_step, "EMAIL_OTP", "nobody", EMAIL_OTP_CODE="123456")

    assert step["ChallengeName"] == "SELECT_CHALLENGE"
    assert code_step["ChallengeName"] == "EMAIL_OTP"
    assert error["Code"] == "CodeMismatchException"
    assert inbox(emulator) == []


def test_an_unknown_user_is_named_without_prevent_user_existence_errors(idp) -> None:
    legacy_existence_errors(idp)

    error = error_of(user_auth, idp, "nobody")

    assert error == {"Code": "UserNotFoundException", "Message": "User does not exist."}


# A foreign client: boto3 with only the manifest.


def test_user_auth_with_only_the_manifest(emulator: Emulator) -> None:
    manifest = emulator.manifest("http://localhost:8000")
    client = boto3.client(
        "cognito-idp",
        endpoint_url=manifest["aws_endpoint_url"],
        region_name=manifest["region"],
        aws_access_key_id=manifest["aws_access_key_id"],
        aws_secret_access_key=manifest["aws_secret_access_key"],
    )
    user = next(u for u in manifest["users"] if u["mfa"] == "none" and "@" in u["email"])
    digest = hmac.new(
        manifest["client_secret"].encode(),
        (user["username"] + manifest["client_id"]).encode(),
        hashlib.sha256,
    ).digest()
    proof = base64.b64encode(digest).decode()

    step = client.initiate_auth(
        ClientId=manifest["client_id"],
        AuthFlow="USER_AUTH",
        AuthParameters={
            "USERNAME": user["username"],
            "SECRET_HASH": proof,
            "PREFERRED_CHALLENGE": "EMAIL_OTP",
        },
    )
    mail = requests.get(manifest["inbox_url"], timeout=5).json()
    code = [m for m in mail if m["to"] == user["email"]][-1]["code"]
    result = client.respond_to_auth_challenge(
        ClientId=manifest["client_id"],
        ChallengeName="EMAIL_OTP",
        Session=step["Session"],
        ChallengeResponses={
            "USERNAME": user["username"],
            "SECRET_HASH": proof,
            "EMAIL_OTP_CODE": code,
        },
    )

    assert result["AuthenticationResult"]["TokenType"] == "Bearer"


# The user's factors, and what the emulator does not do.


def test_get_user_auth_factors_lists_the_first_factors(idp) -> None:
    token = user_auth(idp, "bob", PREFERRED_CHALLENGE="PASSWORD", PASSWORD=USERS["bob"].password)[
        "AuthenticationResult"
    ]["AccessToken"]

    mine = idp.get_user_auth_factors(AccessToken=token)
    graces = idp.admin_get_user_auth_factors(UserPoolId=seed.USER_POOL_ID, Username="grace")
    alices = idp.admin_get_user_auth_factors(UserPoolId=seed.USER_POOL_ID, Username="alice")

    assert mine["ConfiguredUserAuthFactors"] == ["PASSWORD", "EMAIL_OTP"]
    assert graces["ConfiguredUserAuthFactors"] == ["EMAIL_OTP", "SMS_OTP"]
    assert alices["ConfiguredUserAuthFactors"] == ["PASSWORD"]
    assert alices["PreferredMfaSetting"] == "SOFTWARE_TOKEN_MFA"


def test_an_operation_the_emulator_lacks_is_named_in_a_json_error(idp) -> None:
    error = error_of(idp.list_user_import_jobs, UserPoolId=seed.USER_POOL_ID, MaxResults=1)
    answered = idp.describe_user_pool(UserPoolId=seed.USER_POOL_ID)["UserPool"]

    assert error == {
        "Code": "UnsupportedOperationException",
        "Message": "The emulator does not implement ListUserImportJobs.",
    }
    assert answered["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"] == list(
        seed.FIRST_AUTH_FACTORS
    )


# Managed login: sign in with an emailed code.


def open_code_sign_in(emulator: Emulator) -> tuple[Browser, str, str]:
    """The sign-in page's code link, then its form: the browser, the form's path and CSRF."""
    browser = Browser(emulator)
    login_path, _ = browser.open_login()
    login_page = browser.get(login_path)
    path = re.search(r'href="([^"]+)" data-testid="code-signin-link"', login_page.text).group(1)
    path = html.unescape(path)
    form = browser.get(path)
    return browser, path, CSRF.search(form.text).group(1)


def post_code(browser: Browser, page: Any, code: str) -> Any:
    return browser.post(
        "/mfa",
        data={
            "_csrf": CSRF.search(page.text).group(1),
            "pending": PENDING.search(page.text).group(1),
            "code": code,
        },
    )


def test_managed_login_signs_in_with_an_emailed_code(emulator: Emulator) -> None:
    browser, path, csrf = open_code_sign_in(emulator)
    step = browser.post(path, data={"_csrf": csrf, "username": "bob"})

    done = post_code(browser, step, last_code(emulator, "bob@example.com"))

    assert "your email" in step.text
    tokens = exchange(emulator, query_of(done)["code"]).json()
    assert verify(emulator, tokens["id_token"], token_use="id")["cognito:username"] == "bob"


def test_managed_login_sends_no_code_to_a_user_with_mfa(emulator: Emulator) -> None:
    browser, path, csrf = open_code_sign_in(emulator)
    step = browser.post(path, data={"_csrf": csrf, "username": "alice"})

    refused = post_code(browser, step, "123456")

    assert "your email" in step.text
    assert inbox(emulator) == []
    assert page_error(refused) == "Invalid code or auth state for the user."
