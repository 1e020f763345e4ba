"""UsernameConfiguration CaseSensitive=false, as deploy/cognito-app.yaml creates the pool: "BOB" and
"Bob" are bob, through boto3, managed login's /login page and the site's own sign-in; a pool
created case-sensitive (the API's default) keeps "BOB" and "bob" apart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.test import Client

from emulator import seed
from emulator.server import Emulator
from tests.accounts.conftest import (  # noqa: F401 (autouse fixtures of the site's sign-ins)
    _form,
    _no_rate_limit_leftovers,
    _plain_static_storage,
    api_signin,
    relative,
    signed_in_as,
    start_login,
)

from .api_flows import error_of, initiate_password, initiate_srp, last_code, secret_hash
from .flows import Browser, exchange, page_error, query_of, verify

BOB_PASSWORD = next(u.password for u in seed.DEMO_USERS if u.username == "bob")
NEW_PASSWORD = "Fresh-Passw0rd!"


@pytest.fixture
def case_sensitive_pool(emulator: Emulator) -> Iterator[None]:
    """The demo pool as if created without UsernameConfiguration (CaseSensitive true)."""
    # Immutable on AWS, so no API call changes it; the next test's reset restores the seed's.
    emulator.state.pool.extended_config["UsernameConfiguration"] = {"CaseSensitive": True}
    yield


@pytest.fixture
def email_sign_in(emulator: Emulator) -> Iterator[None]:
    """The demo pool with email as a sign-in attribute (UsernameAttributes)."""
    emulator.state.pool.extended_config["UsernameAttributes"] = ["email"]
    yield


def _names_in_tokens(emulator: Emulator, result: dict[str, Any]) -> tuple[str, str]:
    tokens = result["AuthenticationResult"]
    id_claims = verify(emulator, tokens["IdToken"], token_use="id")
    access_claims = verify(emulator, tokens["AccessToken"], token_use="access")
    return id_claims["cognito:username"], access_claims["username"]


# --- Through boto3 ------------------------------------------------------------------------------


def test_the_demo_pool_is_created_case_insensitive(idp: Any) -> None:
    pool = idp.describe_user_pool(UserPoolId=seed.USER_POOL_ID)["UserPool"]

    assert pool["UsernameConfiguration"] == {"CaseSensitive": False}


@pytest.mark.parametrize("typed", ["BOB", "Bob", "bob"])
def test_any_case_signs_in_as_bob_with_the_username_as_stored(
    emulator: Emulator, idp: Any, typed: str
) -> None:
    result = initiate_password(idp, typed, BOB_PASSWORD)

    assert _names_in_tokens(emulator, result) == ("bob", "bob")


def test_srp_in_another_case_names_bob_for_srp_and_signs_in(emulator: Emulator, idp: Any) -> None:
    result = initiate_srp(idp, "BOB", BOB_PASSWORD)

    assert _names_in_tokens(emulator, result) == ("bob", "bob")


def test_another_case_with_a_wrong_password_is_refused(idp: Any) -> None:
    error = error_of(initiate_password, idp, "BOB", "Wrong-Passw0rd!")

    assert error["Code"] == "NotAuthorizedException"


def test_admin_get_user_finds_bob_in_any_case(idp: Any) -> None:
    user = idp.admin_get_user(UserPoolId=seed.USER_POOL_ID, Username="BOB")

    assert user["Username"] == "bob"


def test_admin_get_user_still_refuses_a_name_nobody_has(idp: Any) -> None:
    error = error_of(idp.admin_get_user, UserPoolId=seed.USER_POOL_ID, Username="BOBBY")

    assert error["Code"] == "UserNotFoundException"


def _sign_up(idp: Any, username: str) -> dict[str, Any]:
    return idp.sign_up(
        ClientId=seed.CLIENT_ID,
        SecretHash=secret_hash(username),
        Username=username,
        Password=NEW_PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{username.lower()}-new@example.com"}],
    )


@pytest.mark.parametrize("typed", ["BOB", "Bob"])
def test_sign_up_in_another_case_of_an_existing_username_is_refused(idp: Any, typed: str) -> None:
    error = error_of(_sign_up, idp, typed)

    assert error == {"Code": "UsernameExistsException", "Message": "User already exists"}
    assert [u["Username"] for u in idp.list_users(UserPoolId=seed.USER_POOL_ID)["Users"]].count(
        "bob"
    ) == 1


def test_sign_up_of_a_new_name_is_accepted_and_kept_as_typed(idp: Any) -> None:
    assert _sign_up(idp, "Bobby")["UserConfirmed"] is False

    # Stored as created (whether AWS lower-cases it is not documented), found in any case.
    assert idp.admin_get_user(UserPoolId=seed.USER_POOL_ID, Username="BOBBY")["Username"] == "Bobby"


def _admin_create(idp: Any, username: str) -> dict[str, Any]:
    return idp.admin_create_user(
        UserPoolId=seed.USER_POOL_ID,
        Username=username,
        TemporaryPassword="Temp-Passw0rd!",
        MessageAction="SUPPRESS",
    )


def test_admin_create_user_in_another_case_of_an_existing_username_is_refused(idp: Any) -> None:
    error = error_of(_admin_create, idp, "Bob")

    assert error == {"Code": "UsernameExistsException", "Message": "User account already exists"}


def test_admin_create_user_of_a_new_name_is_accepted(idp: Any) -> None:
    assert _admin_create(idp, "Bobby")["User"]["Username"] == "Bobby"


def test_a_password_reset_asked_and_confirmed_in_other_cases_is_bobs(
    emulator: Emulator, idp: Any
) -> None:
    idp.forgot_password(ClientId=seed.CLIENT_ID, SecretHash=secret_hash("BOB"), Username="BOB")
    idp.confirm_forgot_password(
        ClientId=seed.CLIENT_ID,
        SecretHash=secret_hash("Bob"),
        Username="Bob",
        ConfirmationCode=last_code(emulator, "bob@example.com"),
        Password=NEW_PASSWORD,
    )

    assert _names_in_tokens(emulator, initiate_password(idp, "bob", NEW_PASSWORD)) == ("bob", "bob")
    assert error_of(initiate_password, idp, "bob", BOB_PASSWORD)["Code"] == "NotAuthorizedException"


def test_email_sign_in_attribute_matches_in_any_case(
    emulator: Emulator, idp: Any, email_sign_in: None
) -> None:
    result = initiate_password(idp, "BOB@Example.COM", BOB_PASSWORD)

    assert _names_in_tokens(emulator, result) == ("bob", "bob")


def test_sign_up_with_another_users_email_in_another_case_is_refused(
    idp: Any, email_sign_in: None
) -> None:
    error = error_of(_sign_up, idp, "Bob@Example.com")

    assert error["Code"] == "UsernameExistsException"


def test_email_sign_in_is_exact_in_a_case_sensitive_pool(
    idp: Any, email_sign_in: None, case_sensitive_pool: None
) -> None:
    assert initiate_password(idp, "bob@example.com", BOB_PASSWORD)["AuthenticationResult"]
    error = error_of(initiate_password, idp, "BOB@Example.COM", BOB_PASSWORD)

    assert error["Code"] == "NotAuthorizedException"


# --- The twin: a case-sensitive pool keeps "BOB" and "bob" apart ---------------------------------


def test_a_case_sensitive_pool_keeps_bob_and_BOB_distinct(
    emulator: Emulator, idp: Any, case_sensitive_pool: None
) -> None:
    assert error_of(idp.admin_get_user, UserPoolId=seed.USER_POOL_ID, Username="BOB")["Code"] == (
        "UserNotFoundException"
    )
    assert _admin_create(idp, "BOB")["User"]["Username"] == "BOB"
    assert _sign_up(idp, "Bob")["UserConfirmed"] is False

    users = {u["Username"] for u in idp.list_users(UserPoolId=seed.USER_POOL_ID)["Users"]}
    assert {"bob", "BOB", "Bob"} <= users
    # bob's password does not sign in as BOB, who is someone else; bob still signs in.
    assert error_of(initiate_password, idp, "BOB", BOB_PASSWORD)["Code"] == (
        "NotAuthorizedException"
    )
    assert _names_in_tokens(emulator, initiate_password(idp, "bob", BOB_PASSWORD)) == (
        "bob",
        "bob",
    )


@pytest.mark.parametrize(
    "configuration,case_sensitive",
    [
        pytest.param({}, True, id="api-default"),
        pytest.param({"UsernameConfiguration": {"CaseSensitive": True}}, True, id="true"),
        pytest.param({"UsernameConfiguration": {"CaseSensitive": False}}, False, id="false"),
    ],
)
def test_a_pool_created_through_the_api_follows_its_own_setting(
    emulator: Emulator, idp: Any, configuration: dict[str, Any], case_sensitive: bool
) -> None:
    pool_id = idp.create_user_pool(PoolName="another", **configuration)["UserPool"]["Id"]
    # The emulator's own AdminCreateUser serves the demo pool only: moto's creates the user.
    emulator.state.backend.admin_create_user(pool_id, "carol", "SUPPRESS", "Temp-Passw0rd!", [])

    if case_sensitive:
        error = error_of(idp.admin_get_user, UserPoolId=pool_id, Username="CAROL")
        assert error["Code"] == "UserNotFoundException"
    else:
        assert idp.admin_get_user(UserPoolId=pool_id, Username="CAROL")["Username"] == "carol"
    assert idp.admin_get_user(UserPoolId=pool_id, Username="carol")["Username"] == "carol"


# --- Managed login's /login page ----------------------------------------------------------------


@pytest.mark.parametrize("typed", ["BOB", "Bob"])
def test_managed_login_signs_in_another_case_as_bob(emulator: Emulator, typed: str) -> None:
    response = Browser(emulator).submit_password(typed, BOB_PASSWORD)

    assert response.status_code == 302, response.text
    tokens = exchange(emulator, query_of(response)["code"]).json()
    assert verify(emulator, tokens["id_token"], token_use="id")["cognito:username"] == "bob"


def test_managed_login_in_a_case_sensitive_pool_refuses_another_case(
    emulator: Emulator, case_sensitive_pool: None
) -> None:
    response = Browser(emulator).submit_password("BOB", BOB_PASSWORD)

    assert response.status_code == 200
    assert page_error(response) == "Incorrect username or password."


# --- The site's own sign-in and its managed login ----------------------------------------------


@pytest.mark.django_db
def test_the_sites_sign_in_form_signs_BOB_in_as_bob(emulator: Emulator, client: Client) -> None:
    response = api_signin(client, "BOB", BOB_PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/", response
    assert signed_in_as(client) == "bob"


@pytest.mark.django_db
def test_the_sites_sign_in_form_refuses_BOB_in_a_case_sensitive_pool(
    emulator: Emulator, client: Client, case_sensitive_pool: None
) -> None:
    response = api_signin(client, "BOB", BOB_PASSWORD)

    assert response.status_code == 400
    assert "Incorrect username or password." in response.content.decode()
    assert signed_in_as(client) is None


@pytest.mark.django_db
def test_the_sites_managed_login_signs_Bob_in_as_bob(emulator: Emulator, client: Client) -> None:
    started = start_login(client)
    browser = requests.Session()
    page = browser.get(started.authorize_url, timeout=10)
    action, fields = _form(page)
    answer = browser.post(
        action,
        data={**fields, "username": "Bob", "password": BOB_PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in (302, 303), answer.text[:500]

    assert client.get(relative(answer.headers["Location"])).status_code == 302
    assert signed_in_as(client) == "bob"
