"""Pre token generation triggers V1_0, V2_0 and V3_0: events, answers and failures, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulator import pretoken, seed
from emulator.server import Emulator

from .api_flows import error_of, initiate_password, respond, secret_hash
from .flows import signed_in_tokens, token_request, totp_code, verify
from .test_client_credentials import machine_claims, machine_token

NATIVE = "aws.cognito.signin.user.admin"
EVENTS: list[dict[str, Any]] = []
HERE = __name__


# Triggers named by dotted path, as the seed names its own; each records the event it got.


def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(event)
    return event


def v1_changes(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(event)
    event["response"]["claimsOverrideDetails"] = {
        "claimsToAddOrOverride": {"department": "notes", "sub": "forged", "email": "x@x"},
        "claimsToSuppress": ["email"],
        "groupOverrideDetails": {"groupsToOverride": ["editors"]},
    }
    return event


def v2_changes(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(event)
    event["response"]["claimsAndScopeOverrideDetails"] = {
        "idTokenGeneration": {"claimsToAddOrOverride": {"tier": {"level": 2}}},
        "accessTokenGeneration": {
            "claimsToAddOrOverride": {"tenant": "acme", "client_id": "forged"},
            "claimsToSuppress": ["cognito:groups"],
            "scopesToAdd": ["notes/read", "notes/write"],
            "scopesToSuppress": ["notes/write", "email"],
        },
        "groupOverrideDetails": None,
    }
    return event


def raises(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("the notes service is down")


def returns_nothing(event: dict[str, Any], context: Any) -> None:
    return None


def suppress_is_not_a_list(event: dict[str, Any], context: Any) -> dict[str, Any]:
    details = {"accessTokenGeneration": {"scopesToSuppress": "notes/read"}}
    event["response"]["claimsAndScopeOverrideDetails"] = details
    return event


@pytest.fixture(autouse=True)
def _no_events() -> Iterator[None]:
    EVENTS.clear()
    yield
    EVENTS.clear()


def use_trigger(emulator: Emulator, name: str | None, version: str = "V2_0") -> None:
    handler = f"{HERE}.{name}" if name else None
    pretoken.configure(emulator.state, seed.USER_POOL_ID, handler=handler, version=version)


def api_sign_in(idp: Any, username: str, *, steps_ahead: int = 0) -> dict[str, Any]:
    """USER_PASSWORD_AUTH, and the TOTP step for users who have one."""
    result = initiate_password(idp, username)
    if result.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":
        code = totp_code(username, steps_ahead=steps_ahead)
        result = respond(idp, result, "SOFTWARE_TOKEN_MFA", username, SOFTWARE_TOKEN_MFA_CODE=code)
    return result["AuthenticationResult"]


def scopes_of(emulator: Emulator, access_token: str) -> str:
    return verify(emulator, access_token, token_use="access")["scope"]


# The seed's trigger: API sign-ins of the writers' group gain the notes scopes.


def test_an_api_sign_in_of_a_writer_gains_the_notes_scopes(emulator: Emulator, idp: Any) -> None:
    tokens = api_sign_in(idp, "alice")

    assert scopes_of(emulator, tokens["AccessToken"]) == f"{NATIVE} notes/read notes/write"


def test_an_api_sign_in_outside_the_group_keeps_the_native_scope(
    emulator: Emulator, idp: Any
) -> None:
    tokens = api_sign_in(idp, "bob")

    assert scopes_of(emulator, tokens["AccessToken"]) == NATIVE


def test_without_the_trigger_a_writer_has_only_the_native_scope(
    emulator: Emulator, idp: Any
) -> None:
    use_trigger(emulator, None)

    tokens = api_sign_in(idp, "alice")

    assert scopes_of(emulator, tokens["AccessToken"]) == NATIVE


def test_a_refresh_keeps_the_scopes_the_trigger_gives(emulator: Emulator, idp: Any) -> None:
    tokens = api_sign_in(idp, "alice")

    refreshed = idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={
            "REFRESH_TOKEN": tokens["RefreshToken"],
            "SECRET_HASH": secret_hash("alice"),
        },
    )["AuthenticationResult"]

    assert scopes_of(emulator, refreshed["AccessToken"]) == f"{NATIVE} notes/read notes/write"


def test_managed_login_keeps_the_scopes_the_client_asked_for(emulator: Emulator) -> None:
    tokens = signed_in_tokens(emulator, "alice", scope="openid email")

    assert scopes_of(emulator, tokens["access_token"]) == "openid email"


# Events: one per token issue, with Cognito's triggerSource and shape.


def test_each_way_of_issuing_tokens_has_its_trigger_source(emulator: Emulator, idp: Any) -> None:
    use_trigger(emulator, "record", version="V3_0")

    tokens = api_sign_in(idp, "bob")
    token_request(
        emulator, {"grant_type": "refresh_token", "refresh_token": tokens["RefreshToken"]}
    )
    signed_in_tokens(emulator, "bob", scope="openid")
    machine_token(emulator)
    first = initiate_password(idp, "frank")
    respond(idp, first, "NEW_PASSWORD_REQUIRED", "frank", NEW_PASSWORD="Frank-Passw0rd-2!")

    assert [event["triggerSource"] for event in EVENTS] == [
        pretoken.AUTHENTICATION,
        pretoken.REFRESH_TOKENS,
        pretoken.HOSTED_AUTH,
        pretoken.CLIENT_CREDENTIALS,
        pretoken.NEW_PASSWORD_CHALLENGE,
    ]


def test_a_v2_event_carries_the_user_the_groups_and_the_scopes(
    emulator: Emulator, idp: Any
) -> None:
    use_trigger(emulator, "record", version="V2_0")

    api_sign_in(idp, "alice")

    (event,) = EVENTS
    assert event["version"] == "2"
    assert event["userName"] == "alice"
    assert event["callerContext"]["clientId"] == seed.CLIENT_ID
    assert event["request"]["userAttributes"]["email"] == "alice@example.com"
    assert event["request"]["scopes"] == [NATIVE]
    assert event["request"]["groupConfiguration"]["groupsToOverride"] == ["members", "read-only"]
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}


def test_a_v1_event_has_no_scopes_and_asks_for_claims_override_details(
    emulator: Emulator, idp: Any
) -> None:
    use_trigger(emulator, "record", version="V1_0")

    api_sign_in(idp, "bob")

    (event,) = EVENTS
    assert event["version"] == "1"
    assert "scopes" not in event["request"]
    assert event["response"] == {"claimsOverrideDetails": None}


@pytest.mark.parametrize("version", ["V1_0", "V2_0"])
def test_only_v3_is_called_for_machine_tokens(emulator: Emulator, version: str) -> None:
    use_trigger(emulator, "record", version=version)

    assert machine_token(emulator).status_code == 200
    assert EVENTS == []


# Answers.


def test_v1_changes_the_id_token_and_the_groups_of_both(emulator: Emulator, idp: Any) -> None:
    use_trigger(emulator, "v1_changes", version="V1_0")

    tokens = api_sign_in(idp, "alice")

    id_claims = verify(emulator, tokens["IdToken"], token_use="id")
    access = verify(emulator, tokens["AccessToken"], token_use="access")
    assert id_claims["department"] == "notes"
    assert "email" not in id_claims  # added and suppressed: suppressed
    assert id_claims["sub"] != "forged"  # sub is not the trigger's to change
    assert id_claims["cognito:groups"] == access["cognito:groups"] == ["editors"]
    assert "department" not in access and access["scope"] == NATIVE


def test_v2_changes_both_tokens_and_the_scopes(emulator: Emulator) -> None:
    use_trigger(emulator, "v2_changes", version="V2_0")

    tokens = signed_in_tokens(emulator, "alice", scope="openid email")

    id_claims = verify(emulator, tokens["id_token"], token_use="id")
    access = verify(emulator, tokens["access_token"], token_use="access")
    assert id_claims["tier"] == {"level": 2}
    assert access["tenant"] == "acme"
    assert access["client_id"] == seed.CLIENT_ID
    # Added notes/read and notes/write, suppressed notes/write and the granted email.
    assert access["scope"] == "openid notes/read"
    # groupOverrideDetails null: the groups and their roles are gone from both tokens.
    assert "cognito:groups" not in id_claims and "cognito:groups" not in access
    assert "cognito:roles" not in id_claims


def test_v3_changes_a_machine_token(emulator: Emulator) -> None:
    use_trigger(emulator, "v2_changes", version="V3_0")

    claims = machine_claims(emulator, machine_token(emulator).json()["access_token"])

    assert claims["tenant"] == "acme"
    assert claims["sub"] == claims["client_id"] == seed.MACHINE_CLIENT_ID
    assert claims["scope"] == "notes/read"


# Failures fail the sign-in.


def test_a_trigger_that_raises_fails_the_api_sign_in(emulator: Emulator, idp: Any) -> None:
    use_trigger(emulator, "raises")

    error = error_of(initiate_password, idp, "bob")

    assert error["Code"] == "UserLambdaValidationException"
    assert error["Message"] == ("PreTokenGeneration failed with error the notes service is down.")


@pytest.mark.parametrize("name", ["returns_nothing", "suppress_is_not_a_list"])
def test_a_malformed_answer_fails_the_api_sign_in(emulator: Emulator, idp: Any, name: str) -> None:
    use_trigger(emulator, name)

    error = error_of(initiate_password, idp, "bob")

    assert error["Code"] == "InvalidLambdaResponseException"


@pytest.mark.parametrize("name", ["raises", "returns_nothing"])
def test_a_failing_trigger_fails_the_token_endpoint(emulator: Emulator, name: str) -> None:
    use_trigger(emulator, name, version="V3_0")

    response = machine_token(emulator)

    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request"}
