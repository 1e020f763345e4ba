"""Threat protection: risk levels and actions, compromised passwords, auth events, feedback."""

from __future__ import annotations

import re
from typing import Any

import pytest

from emulator import risk, seed
from emulator.server import Emulator

from .api_flows import (
    error_of,
    inbox,
    initiate_password,
    last_code,
    password_of,
    respond,
    secret_hash,
)
from .flows import Browser, page_error

POOL = seed.USER_POOL_ID
RISKY_IP = "203.0.113.7"
BLOCKED_IP = "198.51.100.4"
LEAKED = "Password123!"
_FEEDBACK = re.compile(r"Event ([0-9a-f-]+); feedback token (\S+)\.")


def set_mode(idp: Any, mode: str) -> None:
    """The pool's AdvancedSecurityMode, keeping the seed's other settings."""
    idp.update_user_pool(
        UserPoolId=POOL,
        Policies={"PasswordPolicy": {"MinimumLength": 8}},
        AutoVerifiedAttributes=["email"],
        MfaConfiguration="OPTIONAL",
        UserPoolAddOns={"AdvancedSecurityMode": mode},
    )


def set_actions(idp: Any, action: str, *, notify: bool = True, **extra: Any) -> None:
    """The same account-takeover action for every level, and the compromised-credentials BLOCK."""
    setting = {"EventAction": action, "Notify": notify}
    idp.set_risk_configuration(
        UserPoolId=POOL,
        CompromisedCredentialsRiskConfiguration={"Actions": {"EventAction": "BLOCK"}},
        AccountTakeoverRiskConfiguration={
            "Actions": {"LowAction": setting, "MediumAction": setting, "HighAction": setting}
        },
        **extra,
    )


def sign_in(
    idp: Any,
    username: str = "bob",
    *,
    ip: str | None = None,
    device: str | None = None,
    password: str | None = None,
) -> dict:
    """USER_PASSWORD_AUTH with the UserContextData an app sends (the user's address, device)."""
    context: dict[str, str] = {}
    if ip:
        context["IpAddress"] = ip
    if device:
        context["EncodedData"] = device
    return initiate_password(
        idp, username, password, **({"UserContextData": context} if context else {})
    )


def at_level(idp: Any, level: str, username: str = "bob") -> dict:
    """Sign in at the given risk level of the emulator's documented rule."""
    if level == "High":
        return sign_in(idp, username, ip=RISKY_IP)
    first = sign_in(idp, username, ip="10.0.0.1", device="device-1")
    assert "AuthenticationResult" in first  # no history yet: no risk
    return sign_in(
        idp, username, ip="10.0.0.2", device="device-1" if level == "Low" else "device-2"
    )


def events(idp: Any, username: str = "bob") -> list[dict]:
    return idp.admin_list_user_auth_events(UserPoolId=POOL, Username=username)["AuthEvents"]


def notifications(emulator: Emulator, to: str = "bob@example.com") -> list[dict]:
    return [m for m in inbox(emulator, to) if m["kind"] == "risk_notification"]


def test_the_seed_asks_bob_for_an_email_code_from_the_risky_range(
    emulator: Emulator, idp: Any
) -> None:
    step = sign_in(idp, ip=RISKY_IP)

    assert step["ChallengeName"] == "EMAIL_OTP"
    result = respond(
        idp, step, "EMAIL_OTP", "bob", EMAIL_OTP_CODE=last_code(emulator, "bob@example.com")
    )
    assert "AccessToken" in result["AuthenticationResult"]
    event = events(idp)[0]
    assert event["EventType"] == "SignIn" and event["EventResponse"] == "Pass"
    assert event["EventRisk"] == {
        "RiskDecision": "AccountTakeover",
        "RiskLevel": "High",
        "CompromisedCredentialsDetected": False,
    }
    assert event["EventContextData"]["IpAddress"] == RISKY_IP
    assert [c["ChallengeName"] for c in event["ChallengeResponses"]] == ["Password", "Mfa"]
    assert len(notifications(emulator)) == 1


def test_the_seed_lets_bob_in_from_his_usual_address(emulator: Emulator, idp: Any) -> None:
    result = sign_in(idp, ip="192.0.2.10")

    assert "AccessToken" in result["AuthenticationResult"]
    assert events(idp)[0]["EventRisk"]["RiskDecision"] == "NoRisk"
    assert notifications(emulator) == []


@pytest.mark.parametrize("level", ["Low", "Medium", "High"])
@pytest.mark.parametrize("mode", ["ENFORCED", "AUDIT"])
def test_block_blocks_each_level_only_when_enforced(
    emulator: Emulator, idp: Any, level: str, mode: str
) -> None:
    set_mode(idp, mode)
    set_actions(idp, "BLOCK")

    if mode == "ENFORCED":
        error = error_of(at_level, idp, level)
        assert error == {"Code": "NotAuthorizedException", "Message": risk.BLOCKED}
        assert events(idp)[0]["EventResponse"] == "Fail"
        assert events(idp)[0]["EventRisk"]["RiskDecision"] == "Block"
        assert len(notifications(emulator)) == 1
    else:
        assert "AuthenticationResult" in at_level(idp, level)
        assert events(idp)[0]["EventResponse"] == "Pass"
        assert notifications(emulator) == []  # audit mode records, never acts
    assert events(idp)[0]["EventRisk"]["RiskLevel"] == level


@pytest.mark.parametrize("level", ["Low", "Medium", "High"])
@pytest.mark.parametrize("mode", ["ENFORCED", "AUDIT"])
def test_mfa_required_asks_for_a_code_at_each_level_only_when_enforced(
    idp: Any, level: str, mode: str
) -> None:
    set_mode(idp, mode)
    set_actions(idp, "MFA_REQUIRED", notify=False)

    step = at_level(idp, level)

    if mode == "ENFORCED":
        assert step["ChallengeName"] == "EMAIL_OTP"
        assert events(idp)[0]["EventResponse"] == "InProgress"
    else:
        assert "AuthenticationResult" in step


@pytest.mark.parametrize("level", ["Low", "Medium", "High"])
def test_no_action_lets_each_level_in_and_notify_emails_the_user(
    emulator: Emulator, idp: Any, level: str
) -> None:
    set_actions(idp, "NO_ACTION", notify=True)

    assert "AuthenticationResult" in at_level(idp, level)
    assert events(idp)[0]["EventRisk"]["RiskLevel"] == level
    assert len(notifications(emulator)) == 1


def test_a_user_with_a_factor_gets_that_factor(emulator: Emulator, idp: Any) -> None:
    step = sign_in(idp, "alice", ip=RISKY_IP)

    assert step["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


@pytest.mark.parametrize(
    ("action", "allowed"), [("MFA_IF_CONFIGURED", True), ("MFA_REQUIRED", False)]
)
def test_a_user_with_nothing_to_send_a_code_to(idp: Any, action: str, allowed: bool) -> None:
    set_actions(idp, action, notify=False)
    idp.admin_update_user_attributes(
        UserPoolId=POOL,
        Username="bob",
        UserAttributes=[{"Name": "email_verified", "Value": "false"}],
    )

    if allowed:
        assert "AuthenticationResult" in sign_in(idp, ip=RISKY_IP)
    else:
        error = error_of(sign_in, idp, ip=RISKY_IP)
        assert error == {"Code": "NotAuthorizedException", "Message": risk.BLOCKED}


def test_the_blocked_range_is_refused_even_with_the_right_password(idp: Any) -> None:
    error = error_of(sign_in, idp, ip=BLOCKED_IP)

    assert error == {"Code": "NotAuthorizedException", "Message": risk.BLOCKED}
    assert events(idp)[0]["EventRisk"]["RiskDecision"] == "Block"


def test_the_skipped_range_is_never_scored(idp: Any) -> None:
    set_actions(idp, "BLOCK", RiskExceptionConfiguration={"SkippedIPRangeList": ["203.0.113.0/24"]})

    assert "AuthenticationResult" in sign_in(idp, ip=RISKY_IP)
    assert "RiskLevel" not in events(idp)[0]["EventRisk"]


def test_the_admin_api_reads_context_data(idp: Any) -> None:
    def admin_sign_in(ip: str) -> dict:
        return idp.admin_initiate_auth(
            UserPoolId=POOL,
            ClientId=seed.CLIENT_ID,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={
                "USERNAME": "bob",
                "PASSWORD": password_of("bob"),
                "SECRET_HASH": secret_hash("bob"),
            },
            ContextData={
                "IpAddress": ip,
                "ServerName": "127.0.0.1",
                "ServerPath": "/accounts/signin/",
                "HttpHeaders": [{"headerName": "User-Agent", "headerValue": "Firefox/130"}],
            },
        )

    assert admin_sign_in(RISKY_IP)["ChallengeName"] == "EMAIL_OTP"
    assert "AuthenticationResult" in admin_sign_in("192.0.2.1")
    assert events(idp)[1]["EventContextData"] == {
        "IpAddress": RISKY_IP,
        "DeviceName": "Firefox/130",
    }


def test_a_wrong_password_is_a_failed_event(idp: Any) -> None:
    error_of(sign_in, idp, password="Wrong-Passw0rd!")

    event = events(idp)[0]
    assert event["EventResponse"] == "Fail"
    assert event["ChallengeResponses"] == [
        {"ChallengeName": "Password", "ChallengeResponse": "Failure"}
    ]


# Compromised credentials.


def sign_up(idp: Any, password: str) -> dict:
    return idp.sign_up(
        ClientId=seed.CLIENT_ID,
        Username="newcomer",
        Password=password,
        SecretHash=secret_hash("newcomer"),
        UserAttributes=[{"Name": "email", "Value": "newcomer@example.com"}],
    )


def test_a_leaked_password_is_refused_at_sign_up(idp: Any) -> None:
    error = error_of(sign_up, idp, LEAKED)

    assert error == {"Code": "InvalidPasswordException", "Message": risk.LEAKED}
    assert sign_up(idp, "Newcomer-Passw0rd!")["UserConfirmed"] is False


def test_a_leaked_password_is_allowed_in_audit_mode(idp: Any) -> None:
    set_mode(idp, "AUDIT")
    set_actions(idp, "NO_ACTION")

    assert sign_up(idp, LEAKED)["UserConfirmed"] is False


def test_a_leaked_password_is_refused_at_password_change(idp: Any) -> None:
    access_token = sign_in(idp)["AuthenticationResult"]["AccessToken"]

    def change(proposed: str) -> dict:
        return idp.change_password(
            AccessToken=access_token, PreviousPassword=password_of("bob"), ProposedPassword=proposed
        )

    error = error_of(change, LEAKED)
    assert error == {"Code": "InvalidPasswordException", "Message": risk.LEAKED}
    change("Bob-N3w-Passw0rd!")
    assert events(idp)[0]["EventType"] == "PasswordChange"
    assert events(idp)[0]["EventRisk"]["CompromisedCredentialsDetected"] is True


def test_signing_in_with_a_leaked_password_requires_a_reset(idp: Any) -> None:
    idp.admin_set_user_password(UserPoolId=POOL, Username="bob", Password=LEAKED, Permanent=True)

    error = error_of(sign_in, idp, password=LEAKED)

    # The demo client hides user states: the reset shows as the generic answer.
    assert error["Code"] == "NotAuthorizedException"
    user = idp.admin_get_user(UserPoolId=POOL, Username="bob")
    assert user["UserStatus"] == "RESET_REQUIRED"
    assert events(idp)[0]["EventRisk"]["CompromisedCredentialsDetected"] is True


def test_signing_in_with_a_leaked_password_is_only_reported_with_no_action(idp: Any) -> None:
    idp.set_risk_configuration(
        UserPoolId=POOL,
        CompromisedCredentialsRiskConfiguration={"Actions": {"EventAction": "NO_ACTION"}},
    )
    idp.admin_set_user_password(UserPoolId=POOL, Username="bob", Password=LEAKED, Permanent=True)

    assert "AuthenticationResult" in sign_in(idp, password=LEAKED)
    assert events(idp)[0]["EventRisk"]["CompromisedCredentialsDetected"] is True


# Feedback.


def test_admin_feedback_is_recorded(idp: Any) -> None:
    sign_in(idp, ip="192.0.2.10")
    event_id = events(idp)[0]["EventId"]

    idp.admin_update_auth_event_feedback(
        UserPoolId=POOL, Username="bob", EventId=event_id, FeedbackValue="Invalid"
    )

    feedback = events(idp)[0]["EventFeedback"]
    assert feedback["FeedbackValue"] == "Invalid" and feedback["Provider"] == "Admin"


def test_user_feedback_needs_the_token_from_the_email(emulator: Emulator, idp: Any) -> None:
    sign_in(idp, ip=RISKY_IP)
    event_id, token = _FEEDBACK.search(notifications(emulator)[-1]["body"]).groups()

    def feedback(username: str, event: str, feedback_token: str) -> dict:
        return idp.update_auth_event_feedback(
            UserPoolId=POOL,
            Username=username,
            EventId=event,
            FeedbackToken=feedback_token,
            FeedbackValue="Valid",
        )

    wrong_token = error_of(feedback, "bob", event_id, "not-the-token")
    other_user = error_of(feedback, "carol", event_id, token)
    no_user = error_of(feedback, "nobody", event_id, token)
    assert wrong_token == other_user == no_user
    assert wrong_token["Code"] == "NotAuthorizedException"
    assert "EventFeedback" not in events(idp)[0]

    feedback("bob", event_id, token)

    assert events(idp)[0]["EventFeedback"]["Provider"] == "User"
    assert events(idp, "carol") == []


def test_valid_feedback_makes_the_address_known(idp: Any) -> None:
    sign_in(idp, ip="10.0.0.1")
    sign_in(idp, ip="10.0.0.2")
    assert events(idp)[0]["EventRisk"]["RiskLevel"] == "Low"

    idp.admin_update_auth_event_feedback(
        UserPoolId=POOL, Username="bob", EventId=events(idp)[0]["EventId"], FeedbackValue="Valid"
    )
    sign_in(idp, ip="10.0.0.2")

    assert "RiskLevel" not in events(idp)[0]["EventRisk"]


# The operations.


def test_describe_risk_configuration_falls_back_to_the_pool(idp: Any) -> None:
    pool_level = idp.describe_risk_configuration(UserPoolId=POOL)["RiskConfiguration"]
    client_level = idp.describe_risk_configuration(UserPoolId=POOL, ClientId=seed.CLIENT_ID)

    assert pool_level["ClientId"] == "ALL"
    assert client_level["RiskConfiguration"]["ClientId"] == "ALL"
    assert pool_level["RiskExceptionConfiguration"]["BlockedIPRangeList"] == ["198.51.100.0/24"]


def test_a_client_configuration_overrides_the_pools(idp: Any) -> None:
    idp.set_risk_configuration(
        UserPoolId=POOL,
        ClientId=seed.CLIENT_ID,
        AccountTakeoverRiskConfiguration={
            "Actions": {"HighAction": {"EventAction": "BLOCK", "Notify": False}}
        },
    )

    described = idp.describe_risk_configuration(UserPoolId=POOL, ClientId=seed.CLIENT_ID)
    assert described["RiskConfiguration"]["ClientId"] == seed.CLIENT_ID
    assert error_of(sign_in, idp, ip=RISKY_IP)["Message"] == risk.BLOCKED


@pytest.mark.parametrize(
    "configuration",
    [
        {"CompromisedCredentialsRiskConfiguration": {"Actions": {"EventAction": "MAYBE"}}},
        {
            "AccountTakeoverRiskConfiguration": {
                "Actions": {"LowAction": {"EventAction": "ALLOW", "Notify": False}}
            }
        },
        {"RiskExceptionConfiguration": {"SkippedIPRangeList": ["10.0.0.0/33"]}},
        {"RiskExceptionConfiguration": {"BlockedIPRangeList": ["not-a-range"]}},
    ],
    ids=["unknown-action", "unknown-takeover-action", "bad-prefix", "bad-cidr"],
)
def test_bad_risk_configurations_are_refused(idp: Any, configuration: dict) -> None:
    error = error_of(idp.set_risk_configuration, UserPoolId=POOL, **configuration)

    assert error["Code"] == "InvalidParameterException"


def test_threat_protection_off_answers_add_on_not_enabled(idp: Any) -> None:
    set_mode(idp, "OFF")

    assert "AuthenticationResult" in sign_in(idp, ip=BLOCKED_IP)
    error = error_of(idp.admin_list_user_auth_events, UserPoolId=POOL, Username="bob")
    assert error["Code"] == "UserPoolAddOnNotEnabledException"


def test_events_of_an_unknown_user(idp: Any) -> None:
    error = error_of(idp.admin_list_user_auth_events, UserPoolId=POOL, Username="nobody")

    assert error["Code"] == "UserNotFoundException"


def test_events_come_in_pages_newest_first(idp: Any) -> None:
    for last_octet in range(1, 4):
        sign_in(idp, ip=f"192.0.2.{last_octet}")

    first = idp.admin_list_user_auth_events(UserPoolId=POOL, Username="bob", MaxResults=2)
    second = idp.admin_list_user_auth_events(
        UserPoolId=POOL, Username="bob", MaxResults=2, NextToken=first["NextToken"]
    )

    addresses = [
        e["EventContextData"]["IpAddress"] for e in first["AuthEvents"] + second["AuthEvents"]
    ]
    assert addresses == ["192.0.2.3", "192.0.2.2", "192.0.2.1"]
    assert "NextToken" not in second


# Managed login.


def test_managed_login_refuses_a_blocked_address(emulator: Emulator, idp: Any) -> None:
    set_actions(
        idp, "NO_ACTION", RiskExceptionConfiguration={"BlockedIPRangeList": ["127.0.0.0/8"]}
    )

    response = Browser(emulator).submit_password("bob")

    assert response.status_code == 200 and page_error(response) == risk.BLOCKED


def test_managed_login_asks_for_an_email_code_at_a_new_address(
    emulator: Emulator, idp: Any
) -> None:
    set_actions(idp, "MFA_REQUIRED", notify=False)
    sign_in(idp, ip="10.0.0.1")  # bob's usual address: the browser's 127.0.0.1 is new

    browser = Browser(emulator)
    step = browser.submit_password("bob")
    assert 'data-testid="mfa-code"' in step.text
    done = browser.submit_mfa(step, last_code(emulator, "bob@example.com"))

    assert done.status_code == 302 and "code=" in done.headers["Location"]
    event = events(idp)[0]
    assert event["EventRisk"]["RiskLevel"] == "Low" and event["EventResponse"] == "Pass"
