"""The trace of each flow, driven for real against the emulator: its steps, numbered as the source
text numbers them and in that order, and never a secret (in the trace, the pages or the logs)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.session import PENDING_LOGINS, TOKENS
from flows.trace import MAX_FLOWS, REDACTED, shown, trace_of
from identity.session import CREDENTIALS
from signin.services import secret_hash
from signin.session import SIGNIN_ATTEMPT
from tests.accounts.conftest import (
    USERS,
    api_signin,
    attempt_id,
    edit_session,
    hosted_sign_in,
    inbox_code,
    relative,
    start_login,
    totp_now,
)
from tests.emulator.idp_flows import IdpBrowser, idp_user

pytestmark = pytest.mark.django_db

# API sign-in with each MFA type: the challenge and where its code comes from.
MFA_USERS = [
    pytest.param("alice", "SOFTWARE_TOKEN_MFA", None, id="totp"),
    pytest.param("dave", "SMS_MFA", "+15555550104", id="sms"),
    pytest.param("erin", "EMAIL_OTP", "erin@example.com", id="email"),
]
IDPS = [
    pytest.param("ExampleOIDC", "olivia@oidc.example.com", id="oidc"),
    pytest.param("ExampleSAML", "sofia@saml.example.com", id="saml"),
    pytest.param("Google", "gina@gmail.example", id="social"),
]


def last_flow(client: Client, kind: str) -> dict[str, Any]:
    flows = [flow for flow in trace_of(client.session) if flow["kind"] == kind]
    assert flows, [flow["kind"] for flow in trace_of(client.session)]
    return flows[-1]


def numbers(flow: dict[str, Any]) -> list[int]:
    """The flow's distinct step numbers, in the order they were recorded."""
    seen = [step["n"] for step in flow["steps"]]
    assert seen == sorted(seen), f"steps out of the source text's order: {seen}"
    return list(dict.fromkeys(seen))


def step_of(flow: dict[str, Any], event: str) -> dict[str, Any]:
    return next(step for step in flow["steps"] if step["event"] == event)


def api_sign_in_with_mfa(client: Client, emulator: Any, username: str, sent_to: str | None) -> Any:
    assert api_signin(client, username)["Location"] == "/accounts/signin/mfa/"
    assert client.get("/accounts/signin/mfa/").status_code == 200
    code = (
        totp_now(USERS[username].totp_secret)
        if sent_to is None
        else inbox_code(emulator, sent_to, "mfa")
    )
    return client.post("/accounts/signin/mfa/", {"attempt": attempt_id(client), "code": code})


def federated_sign_in(client: Client, provider: str, username: str) -> Any:
    start = client.get(f"/accounts/login/?idp={provider}")
    browser = IdpBrowser()
    page = browser.open_idp(start["Location"])
    answer = browser.back_to_pool(browser.sign_in_at_idp(page, idp_user(provider, username)))
    assert answer.status_code == 302, answer.text[:300]
    return client.get(relative(answer.headers["Location"]))


def test_managed_login_with_totp_mfa_is_traced_in_the_source_texts_steps(
    client: Client, sign_in: Any
) -> None:
    assert sign_in("alice").status_code == 302

    flow = last_flow(client, "managed")

    assert numbers(flow) == [2, 3, 9, 10, 11, 12, 13]
    assert step_of(flow, "authorize")["params"]["code_challenge_method"] == "S256"
    assert step_of(flow, "authorize")["params"]["state"] == REDACTED
    token_request = step_of(flow, "token_request")
    assert token_request["status"] == 200 and token_request["ms"] >= 0
    assert token_request["params"]["grant_type"] == "authorization_code"
    assert token_request["params"]["code"] == REDACTED
    id_checks = step_of(flow, "check")["checks"]
    assert {"nonce", "at_hash", "token_use = id", "aud = this app client"} <= set(id_checks)
    assert not flow["open"]


@pytest.mark.parametrize(("username", "challenge", "sent_to"), MFA_USERS)
def test_api_sign_in_is_traced_with_each_mfa_type(
    client: Client, emulator: Any, username: str, challenge: str, sent_to: str | None
) -> None:
    assert api_sign_in_with_mfa(client, emulator, username, sent_to).status_code == 302

    flow = last_flow(client, "api")

    assert numbers(flow) == [3, 4, 6, 7, 8, 10, 11, 12]
    assert step_of(flow, "initiate")["params"]["AuthFlow"] == "USER_SRP_AUTH"
    assert step_of(flow, "challenge")["params"]["ChallengeName"] == challenge
    respond = step_of(flow, "respond")
    assert respond["what"] == "cognito-idp RespondToAuthChallenge"
    assert respond["params"]["ChallengeName"] == challenge
    assert respond["params"]["Session"] == REDACTED
    assert step_of(flow, "start")["params"] == {"username": REDACTED, "password": REDACTED}


def test_a_refused_password_is_traced_with_the_pools_answer(client: Client, emulator: Any) -> None:
    api_signin(client, "bob", "Wrong-Passw0rd!")

    flow = last_flow(client, "api")

    assert numbers(flow) == [3, 4]
    assert [step.get("error") for step in flow["steps"] if step.get("error")] == [
        "NotAuthorizedException"
    ]
    assert flow["open"]


def expire_tokens(client: Client) -> None:
    def expire(store: Any) -> None:
        store[TOKENS] = {**store[TOKENS], "expires_at": int(time.time())}

    edit_session(client, expire)


def test_a_managed_login_refresh_is_traced_as_the_flows_last_step(
    client: Client, sign_in: Any
) -> None:
    sign_in("bob")
    expire_tokens(client)

    client.get("/")

    flow = last_flow(client, "refresh_managed")
    assert numbers(flow) == [16]
    assert step_of(flow, "token_request")["params"]["grant_type"] == "refresh_token"
    assert step_of(flow, "token_request")["params"]["refresh_token"] == REDACTED


def test_an_api_sign_in_refresh_is_traced_as_the_flows_last_step(
    client: Client, emulator: Any
) -> None:
    api_signin(client, "bob")
    expire_tokens(client)

    client.get("/")

    flow = last_flow(client, "refresh_api")
    assert numbers(flow) == [15]
    assert step_of(flow, "refresh")["what"] == "cognito-idp GetTokensFromRefreshToken"


@pytest.mark.parametrize(("provider", "username"), IDPS)
def test_each_idp_type_is_traced_as_federated_sign_in(
    client: Client, emulator: Any, provider: str, username: str
) -> None:
    assert federated_sign_in(client, provider, username).status_code == 302

    flow = last_flow(client, "federated")

    assert numbers(flow) == [2, 3, 10, 11, 12, 13, 14]
    assert step_of(flow, "start")["params"] == {"idp": provider}
    assert step_of(flow, "authorize")["params"]["identity_provider"] == provider


def test_guest_credentials_are_traced_from_get_id_on(client: Client, emulator: Any) -> None:
    client.post("/identity/guest/")

    flow = last_flow(client, "identity")

    assert numbers(flow) == [9, 11, 12, 14, 15]
    assert not any(name.startswith("Logins") for name in step_of(flow, "get_id")["params"])
    assert step_of(flow, "credentials")["params"]["Credentials.SecretKey"] == REDACTED


def test_signed_in_credentials_are_traced_from_the_token_check_on(
    client: Client, sign_in: Any
) -> None:
    sign_in("bob")
    client.get("/identity/")

    flow = last_flow(client, "identity")

    assert numbers(flow) == [8, 9, 11, 12, 14, 15]
    logins = [name for name in step_of(flow, "get_id")["params"] if name.startswith("Logins.")]
    assert logins == [
        f"Logins.cognito-idp.{settings.AWS_REGION}.amazonaws.com/{settings.COGNITO_USER_POOL_ID}"
    ]


def test_a_protected_read_is_traced_from_the_action_to_the_page(
    client: Client, sign_in: Any
) -> None:
    sign_in("bob")
    client.get("/identity/")
    client.get("/protected/")

    flow = last_flow(client, "protected")

    assert numbers(flow) == [16, 17, 19, 20]
    assert step_of(flow, "aws_request")["what"] == "s3 ListObjectsV2"


def test_the_trace_keeps_the_last_flows_only(client: Client, emulator: Any) -> None:
    client.post("/identity/guest/")
    for _ in range(MAX_FLOWS + 1):
        client.get("/protected/?folder=public")

    assert len(trace_of(client.session)) == MAX_FLOWS
    assert {flow["kind"] for flow in trace_of(client.session)} == {"protected"}


def test_a_repeated_protected_read_is_traced_without_saving_the_session(
    client: Client, sign_in: Any
) -> None:
    from django.contrib.sessions.models import Session

    sign_in("bob")
    client.get("/identity/")
    client.get("/protected/")  # the first flow sets the trace's id in the session
    before = Session.objects.get(session_key=client.session.session_key).session_data
    flows = len(trace_of(client.session))

    client.get("/protected/")

    assert len(trace_of(client.session)) == min(flows + 1, MAX_FLOWS)
    assert trace_of(client.session)[-1]["kind"] == "protected"
    after = Session.objects.get(session_key=client.session.session_key).session_data
    assert after == before


def test_only_allow_listed_values_are_shown() -> None:
    params = {"ClientId": "abc", "AuthFlow": "USER_SRP_AUTH", "Session": "s3ss10n"}
    params["AuthParameters"] = {"USERNAME": "bob", "SRP_A": "a1b2", "SECRET_HASH": "h4sh"}

    assert shown(params) == {
        "ClientId": "abc",
        "AuthFlow": "USER_SRP_AUTH",
        "Session": REDACTED,
        "AuthParameters.USERNAME": REDACTED,
        "AuthParameters.SRP_A": REDACTED,
        "AuthParameters.SECRET_HASH": REDACTED,
    }


def test_no_trace_page_or_log_line_holds_a_secret_the_flows_handled(
    client: Client, emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The site's own loggers at every level, Django's at the site's (urllib3's lines here are the
    # test's browser's, and django.template's DEBUG lines print whole template contexts).
    for logger in ("accounts", "identity", "protected", "federation", "flows"):
        caplog.set_level(logging.DEBUG, logger=logger)
    caplog.set_level(logging.INFO, logger="django")
    secrets: set[str] = {settings.COGNITO_CLIENT_SECRET}
    pages: list[str] = []  # every trace (signing out ends it) and every page that shows one

    def keep_tokens() -> None:
        secrets.update(
            client.session[TOKENS][name] for name in ("id_token", "access_token", "refresh_token")
        )

    # Managed login with TOTP: state, nonce, verifier, the code, then the tokens.
    started = start_login(client)
    pending = client.session[PENDING_LOGINS][started.state]
    secrets.update((pending["state"], pending["nonce"], pending["code_verifier"]))
    callback = hosted_sign_in(started.authorize_url, "alice")
    secrets.add(callback.split("code=")[1].split("&")[0])
    client.get(relative(callback))
    keep_tokens()
    client.get("/identity/")
    secrets.update(client.session[CREDENTIALS]["credentials"].values())
    client.get("/protected/")
    pages += [
        client.get("/flows/").content.decode(),
        client.get("/accounts/tokens/").content.decode(),
    ]
    pages.append(json.dumps(trace_of(client.session)))
    client.post("/accounts/logout/")

    # API sign-in with an SMS code: the password, the MFA session, the code, SECRET_HASH.
    api_signin(client, "dave")
    secrets.add(client.session[SIGNIN_ATTEMPT]["challenge"]["session"])
    code = inbox_code(emulator, "+15555550104", "mfa")
    secrets.update((USERS["dave"].password, USERS["alice"].password, code, secret_hash("dave")))
    client.post("/accounts/signin/mfa/", {"attempt": attempt_id(client), "code": code})
    keep_tokens()
    pages.append(client.get("/flows/").content.decode())
    pages.append(json.dumps(trace_of(client.session)))
    client.post("/accounts/logout/")

    # A federated sign-in and a guest's credentials.
    federated_sign_in(client, "ExampleSAML", "sofia@saml.example.com")
    keep_tokens()
    pages.append(json.dumps(trace_of(client.session)))
    client.post("/accounts/logout/")
    client.post("/identity/guest/")
    secrets.update(client.session[CREDENTIALS]["credentials"].values())
    pages.append(client.get("/flows/").content.decode())

    pages.append(json.dumps(trace_of(client.session)))
    assert len([s for s in secrets if s]) >= 20
    for secret in filter(None, secrets):
        assert secret not in caplog.text
        assert all(secret not in page for page in pages)
    assert "event=signin" in caplog.text and 'data-testid="flow-step"' in pages[0]
