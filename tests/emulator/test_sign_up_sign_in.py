"""Sign-in straight after sign-up: SignUp's Session, ConfirmSignUp's, then USER_AUTH with it.

boto3 over real HTTP. Each refusal has a twin that is accepted.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from emulator import seed, userauth
from emulator.server import Emulator

from .api_flows import error_of, last_code, secret_hash

NEW_USER = "nina"
NEW_EMAIL = "nina@example.com"
OTHER_USER = "otto"
OTHER_EMAIL = "otto@example.com"
PASSWORD = "Nina-Passw0rd!"
INVALID = {"Code": "NotAuthorizedException", "Message": "Invalid session for the user."}
EXPIRED = {
    "Code": "NotAuthorizedException",
    "Message": "Invalid session for the user, session is expired.",
}


def sign_up(idp: Any, username: str = NEW_USER, email: str = NEW_EMAIL) -> dict:
    return idp.sign_up(
        ClientId=seed.CLIENT_ID,
        SecretHash=secret_hash(username),
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )


def confirm(idp: Any, code: str, username: str = NEW_USER, **extra: Any) -> dict:
    return idp.confirm_sign_up(
        ClientId=seed.CLIENT_ID,
        SecretHash=secret_hash(username),
        Username=username,
        ConfirmationCode=code,
        **extra,
    )


def sign_in(idp: Any, session: str, username: str = NEW_USER) -> dict:
    """InitiateAuth USER_AUTH with ConfirmSignUp's Session (no factor named: the code was it)."""
    return idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": username, "SECRET_HASH": secret_hash(username)},
        Session=session,
    )


def signed_up_and_confirmed(emulator: Emulator, idp: Any, username: str = NEW_USER) -> str:
    """ConfirmSignUp's Session for a new user (email `<username>@example.com`)."""
    email = f"{username}@example.com"
    signed_up = sign_up(idp, username, email)
    confirmed = confirm(idp, last_code(emulator, email), username, Session=signed_up["Session"])
    return confirmed["Session"]


def test_the_confirmation_session_signs_the_new_user_in_once(emulator: Emulator, idp) -> None:
    signed_up = sign_up(idp)
    confirmed = confirm(idp, last_code(emulator, NEW_EMAIL), Session=signed_up["Session"])

    result = sign_in(idp, confirmed["Session"])
    again = error_of(sign_in, idp, confirmed["Session"])
    user = idp.get_user(AccessToken=result["AuthenticationResult"]["AccessToken"])

    assert 20 <= len(signed_up["Session"]) <= 2048
    assert confirmed["Session"] != signed_up["Session"]
    assert user["Username"] == NEW_USER
    assert "ChallengeName" not in result
    assert again == INVALID


def test_confirming_without_the_session_confirms_but_gives_no_session(
    emulator: Emulator, idp
) -> None:
    sign_up(idp)
    otto = sign_up(idp, OTHER_USER, OTHER_EMAIL)

    without = confirm(idp, last_code(emulator, NEW_EMAIL))
    with_it = confirm(idp, last_code(emulator, OTHER_EMAIL), OTHER_USER, Session=otto["Session"])
    status = idp.admin_get_user(UserPoolId=seed.USER_POOL_ID, Username=NEW_USER)["UserStatus"]

    assert "Session" not in without
    assert status == "CONFIRMED"
    assert with_it["Session"]


def test_another_users_sign_up_session_confirms_but_gives_no_session(
    emulator: Emulator, idp
) -> None:
    nina = sign_up(idp)
    otto = sign_up(idp, OTHER_USER, OTHER_EMAIL)

    wrong = confirm(idp, last_code(emulator, OTHER_EMAIL), OTHER_USER, Session=nina["Session"])
    right = confirm(idp, last_code(emulator, NEW_EMAIL), Session=nina["Session"])

    assert "Session" not in wrong
    assert right["Session"]
    assert otto["Session"] != nina["Session"]


def test_a_wrong_code_keeps_the_sign_up_session_for_the_right_one(emulator: Emulator, idp) -> None:
    signed_up = sign_up(idp)
    code = last_code(emulator, NEW_EMAIL)
    wrong = "000000" if code != "000000" else "111111"

    mismatch = error_of(confirm, idp, wrong, Session=signed_up["Session"])
    confirmed = confirm(idp, code, Session=signed_up["Session"])

    assert mismatch["Code"] == "CodeMismatchException"
    assert sign_in(idp, confirmed["Session"])["AuthenticationResult"]["AccessToken"]


def test_the_session_is_refused_for_another_user_and_stays_for_its_own(
    emulator: Emulator, idp
) -> None:
    session = signed_up_and_confirmed(emulator, idp)
    signed_up_and_confirmed(emulator, idp, OTHER_USER)

    other = error_of(sign_in, idp, session, OTHER_USER)
    unknown = error_of(sign_in, idp, session, "nobody")
    own = sign_in(idp, session)

    assert other == INVALID
    assert unknown == INVALID
    assert own["AuthenticationResult"]["AccessToken"]


def test_the_sign_up_session_itself_does_not_sign_in(emulator: Emulator, idp) -> None:
    signed_up = sign_up(idp)
    code = last_code(emulator, NEW_EMAIL)

    before = error_of(sign_in, idp, signed_up["Session"])
    confirmed = confirm(idp, code, Session=signed_up["Session"])
    after = error_of(sign_in, idp, signed_up["Session"])

    assert before == INVALID
    assert after == INVALID
    assert sign_in(idp, confirmed["Session"])["AuthenticationResult"]


def _second_client(idp: Any, flows: list[str]) -> str:
    created = idp.create_user_pool_client(
        UserPoolId=seed.USER_POOL_ID, ClientName="second", ExplicitAuthFlows=flows
    )
    return created["UserPoolClient"]["ClientId"]


def test_the_session_belongs_to_the_client_that_signed_up(emulator: Emulator, idp) -> None:
    other_client = _second_client(idp, ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    session = signed_up_and_confirmed(emulator, idp)

    elsewhere = error_of(
        idp.initiate_auth,
        ClientId=other_client,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": NEW_USER},
        Session=session,
    )
    here = sign_in(idp, session)

    assert elsewhere == INVALID
    assert here["AuthenticationResult"]["AccessToken"]


def _sign_up_on(emulator: Emulator, idp: Any, client_id: str, username: str) -> str:
    email = f"{username}@example.com"
    signed_up = idp.sign_up(
        ClientId=client_id,
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    confirmed = idp.confirm_sign_up(
        ClientId=client_id,
        Username=username,
        ConfirmationCode=last_code(emulator, email),
        Session=signed_up["Session"],
    )
    return confirmed["Session"]


def test_a_client_without_user_auth_cannot_use_the_session(emulator: Emulator, idp) -> None:
    without = _second_client(idp, ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    with_it = _second_client(idp, ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    refused_session = _sign_up_on(emulator, idp, without, NEW_USER)
    accepted_session = _sign_up_on(emulator, idp, with_it, OTHER_USER)

    refused = error_of(
        idp.initiate_auth,
        ClientId=without,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": NEW_USER},
        Session=refused_session,
    )
    accepted = idp.initiate_auth(
        ClientId=with_it,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": OTHER_USER},
        Session=accepted_session,
    )

    assert refused == {
        "Code": "InvalidParameterException",
        "Message": "USER_AUTH flow not enabled for this client",
    }
    assert accepted["AuthenticationResult"]["AccessToken"]


def test_the_session_lasts_the_clients_auth_session_validity(
    emulator: Emulator, idp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(userauth, "MINUTE", 0.1)  # default 3 "minutes": 0.3 s; 10: 1 s
    default_session = signed_up_and_confirmed(emulator, idp)
    idp.update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        **_client_settings(idp),
        AuthSessionValidity=10,
    )
    longer_session = signed_up_and_confirmed(emulator, idp, OTHER_USER)
    time.sleep(0.5)

    expired = error_of(sign_in, idp, default_session)
    within = sign_in(idp, longer_session, OTHER_USER)

    assert expired == EXPIRED
    assert within["AuthenticationResult"]["AccessToken"]


def _client_settings(idp: Any) -> dict[str, Any]:
    """The demo client's settings, to update it without resetting them."""
    client = idp.describe_user_pool_client(UserPoolId=seed.USER_POOL_ID, ClientId=seed.CLIENT_ID)
    kept = (
        "ExplicitAuthFlows",
        "CallbackURLs",
        "LogoutURLs",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AllowedOAuthFlowsUserPoolClient",
        "SupportedIdentityProviders",
        "PreventUserExistenceErrors",
    )
    return {k: v for k, v in client["UserPoolClient"].items() if k in kept}


def test_mfa_still_applies_after_the_confirmation_code(emulator: Emulator, idp) -> None:
    """A pool with MFA ON: the new user has no factor yet, so MFA_SETUP follows the code."""
    open_pool_session = signed_up_and_confirmed(emulator, idp, OTHER_USER)
    idp.set_user_pool_mfa_config(
        UserPoolId=seed.USER_POOL_ID,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )
    session = signed_up_and_confirmed(emulator, idp)

    step = sign_in(idp, session)

    assert step["ChallengeName"] == "MFA_SETUP"
    assert step["Session"]
    assert "AuthenticationResult" not in step
    # The twin, confirmed before MFA was turned on, meets it too now: MFA is the pool's rule.
    assert sign_in(idp, open_pool_session, OTHER_USER)["ChallengeName"] == "MFA_SETUP"


def test_a_user_with_email_mfa_gets_the_code_challenge(emulator: Emulator, idp) -> None:
    session = signed_up_and_confirmed(emulator, idp)
    plain_session = signed_up_and_confirmed(emulator, idp, OTHER_USER)
    idp.admin_set_user_mfa_preference(
        UserPoolId=seed.USER_POOL_ID,
        Username=NEW_USER,
        EmailMfaSettings={"Enabled": True, "PreferredMfa": True},
    )

    step = sign_in(idp, session)
    plain = sign_in(idp, plain_session, OTHER_USER)

    assert step["ChallengeName"] == "EMAIL_OTP"
    assert plain["AuthenticationResult"]["AccessToken"]


def test_admin_initiate_auth_takes_the_session_too(emulator: Emulator, idp) -> None:
    session = signed_up_and_confirmed(emulator, idp)

    def admin_sign_in(username: str) -> dict:
        return idp.admin_initiate_auth(
            UserPoolId=seed.USER_POOL_ID,
            ClientId=seed.CLIENT_ID,
            AuthFlow="USER_AUTH",
            AuthParameters={"USERNAME": username, "SECRET_HASH": secret_hash(username)},
            Session=session,
        )

    refused = error_of(admin_sign_in, "bob")
    result = admin_sign_in(NEW_USER)

    assert refused == INVALID
    assert result["AuthenticationResult"]["AccessToken"]
