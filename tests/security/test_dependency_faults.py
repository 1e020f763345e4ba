"""AWS misbehaving at the process boundary: the user pools API, the identity pool and STS, and S3
throttling, failing with a 5xx or hanging. Each fault gets a friendly page within the configured
timeouts and retries, an `event=` log line, and nothing is lost: the sign-in attempt, the
session's tokens and the identity's credentials survive, so the user's retry works once AWS does.

The faults come from tests/faulty_aws.py, a real HTTP server in front of the emulator: the app's
boto3 clients, with their real timeouts and `standard` retries, are what is tested.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.session import TOKENS
from config import aws
from identity.session import CREDENTIALS
from signin.session import SIGNIN_ATTEMPT
from tests.accounts.conftest import USERS, api_signin, attempt_id, totp_now
from tests.faulty_aws import FaultyAws, faulty_aws

# Short timeouts keep the hanging cases quick; the budget below is derived from them.
TIMEOUT = (0.5, 0.5)
# A hang outlasts every attempt's read timeout.
HANG_SECONDS = 1.5
# Friendly words of the pages that answer a fault (no AWS error code, no stack trace).
TRY_AGAIN = ("try again", "Try again")


@pytest.fixture
def faulty(emulator: Any, settings: Any) -> Iterator[FaultyAws]:
    """Every AWS service of the app behind one faulty endpoint, with short timeouts."""
    with faulty_aws(emulator.url) as server:
        settings.AWS_ENDPOINT_URL = server.url
        settings.HTTP_TIMEOUT = TIMEOUT
        yield server


def budget(service: str) -> float:
    """The longest a request may take: every attempt timing out, plus standard-mode backoff."""
    attempts = max_attempts(service)
    # Standard mode sleeps a random fraction of 2^n seconds before retry n (n from 0).
    backoff = sum(2**n for n in range(attempts - 1))
    # Plus the calls that do answer and the app's own work, on a busy test machine.
    return attempts * sum(settings.HTTP_TIMEOUT) + backoff + 3.0


def max_attempts(service: str) -> int:
    """Attempts per call, the first included (botocore's `max_attempts` counts only retries)."""
    return aws.client(service).meta.config.retries["total_max_attempts"]


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def inject(
    faulty: FaultyAws, operation: str, fault: str, error: dict[str, tuple[int, str]]
) -> None:
    """Make `operation` throttle, fail with a 5xx, or hang, in its service's own error codes."""
    if fault == "timeout":
        faulty.hang(operation, HANG_SECONDS)
    else:
        status, code = error[fault]
        faulty.fail(operation, code, status=status)


def assert_friendly(response: Any, statuses: tuple[int, ...]) -> str:
    body = response.content.decode()
    assert response.status_code in statuses, (response.status_code, body[:300])
    assert any(words in body for words in TRY_AGAIN), body[:500]
    assert "Traceback" not in body and "Exception" not in body and "faulty-aws" not in body
    return body


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("event=")]


FAULTS = ["throttling", "5xx", "timeout"]

# --- the user pools API --------------------------------------------------------------------------

USERPOOL_ERRORS = {
    "throttling": (400, "TooManyRequestsException"),
    "5xx": (500, "InternalErrorException"),
}
USERPOOL_STATUS = {"throttling": (429,), "5xx": (503,), "timeout": (503,)}
USERPOOL_EVENT = {
    "throttling": "event=userpool_error op=initiate_auth code=TooManyRequestsException",
    "5xx": "event=userpool_error op=initiate_auth code=InternalErrorException",
    "timeout": "event=userpool_unreachable op=initiate_auth error=ReadTimeoutError",
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_pool_at_sign_in_gets_a_friendly_page_and_the_retry_signs_in(
    client: Client, db: None, faulty: FaultyAws, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    caplog.set_level(logging.INFO)
    inject(faulty, "InitiateAuth", fault, USERPOOL_ERRORS)

    response, elapsed = timed(lambda: api_signin(client, "bob"))

    body = assert_friendly(response, USERPOOL_STATUS[fault])
    assert elapsed < budget("cognito-idp")
    assert 'value="bob"' in body  # the form keeps what was typed
    assert any(e.startswith(USERPOOL_EVENT[fault]) for e in events(caplog)), events(caplog)
    # Retried as configured (config/aws.py), then answered: no endless retrying.
    assert faulty.calls.count("InitiateAuth") == max_attempts("cognito-idp")
    faulty.heal()
    assert api_signin(client, "bob")["Location"] == "/"


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_pool_at_the_mfa_step_keeps_the_attempt_for_the_retry(
    client: Client, db: None, faulty: FaultyAws, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    caplog.set_level(logging.INFO)
    assert api_signin(client, "alice")["Location"] == "/accounts/signin/mfa/"
    attempt = attempt_id(client)
    inject(faulty, "RespondToAuthChallenge", fault, USERPOOL_ERRORS)
    code = totp_now(USERS["alice"].totp_secret)

    response, elapsed = timed(
        lambda: client.post("/accounts/signin/mfa/", {"attempt": attempt, "code": code})
    )

    assert_friendly(response, USERPOOL_STATUS[fault])
    assert elapsed < budget("cognito-idp")
    assert any("op=respond_to_auth_challenge" in e for e in events(caplog)), events(caplog)
    assert client.session[SIGNIN_ATTEMPT]["id"] == attempt
    faulty.heal()
    # The pool never saw the code (the fault answered for it), so the same code still works.
    retried = client.post("/accounts/signin/mfa/", {"attempt": attempt, "code": code})
    assert retried["Location"] == "/"


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_pool_on_an_account_page_keeps_the_session(
    api_signed_in: Callable[..., Client],
    faulty: FaultyAws,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    caplog.set_level(logging.INFO)
    client = api_signed_in("bob")
    tokens = client.session[TOKENS]
    inject(faulty, "ChangePassword", fault, USERPOOL_ERRORS)
    new_password = "Fault-Tolerant-Passw0rd!"
    change = {"old_password": USERS["bob"].password, "new_password": new_password}

    response, elapsed = timed(lambda: client.post("/accounts/password/change/", change))

    assert_friendly(response, USERPOOL_STATUS[fault])
    assert elapsed < budget("cognito-idp")
    assert any("op=change_password" in e for e in events(caplog)), events(caplog)
    assert client.session[TOKENS] == tokens
    faulty.heal()
    assert client.post("/accounts/password/change/", change)["Location"] == "/accounts/profile/"


# --- the identity pool and STS -------------------------------------------------------------------

IDENTITY_ERRORS = {
    "throttling": (400, "TooManyRequestsException"),
    "5xx": (500, "InternalErrorException"),
}
STS_ERRORS = {"throttling": (400, "Throttling"), "5xx": (500, "InternalFailure")}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(
    ("flow", "operation", "errors"),
    [
        pytest.param("enhanced", "GetCredentialsForIdentity", IDENTITY_ERRORS, id="identity"),
        pytest.param("basic", "AssumeRoleWithWebIdentity", STS_ERRORS, id="sts"),
    ],
)
def test_failing_credentials_get_a_friendly_page_and_keep_the_sign_in(
    api_signed_in: Callable[..., Client],
    faulty: FaultyAws,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    flow: str,
    operation: str,
    errors: dict[str, tuple[int, str]],
    fault: str,
) -> None:
    caplog.set_level(logging.INFO)
    settings.COGNITO_IDENTITY_FLOW = flow
    client = api_signed_in("bob")
    tokens = client.session[TOKENS]
    inject(faulty, operation, fault, errors)

    response, elapsed = timed(lambda: client.get("/identity/"))

    assert_friendly(response, (503,))
    assert elapsed < budget("sts" if flow == "basic" else "cognito-identity")
    assert any(e.startswith("event=identity_failed") for e in events(caplog)), events(caplog)
    assert operation in faulty.calls
    assert client.session[TOKENS] == tokens
    faulty.heal()
    assert 'data-testid="identity-id"' in client.get("/identity/").content.decode()


# --- S3 ------------------------------------------------------------------------------------------

S3_ERRORS = {"throttling": (503, "SlowDown"), "5xx": (500, "InternalError")}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_s3_listing_gets_a_friendly_page_and_keeps_the_credentials(
    api_signed_in: Callable[..., Client],
    faulty: FaultyAws,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    caplog.set_level(logging.INFO)
    client = api_signed_in("bob")
    assert client.get("/protected/").status_code == 200
    credentials = client.session[CREDENTIALS]
    inject(faulty, "ListObjectsV2", fault, S3_ERRORS)

    response, elapsed = timed(lambda: client.get("/protected/"))

    assert_friendly(response, (503,))
    assert elapsed < budget("s3")
    assert "event=storage_refused reason=unavailable" in events(caplog), events(caplog)
    assert client.session[CREDENTIALS] == credentials
    faulty.heal()
    assert client.get("/protected/").status_code == 200


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_s3_upload_gets_a_friendly_page_and_the_retry_stores_the_file(
    api_signed_in: Callable[..., Client],
    faulty: FaultyAws,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    caplog.set_level(logging.INFO)
    client = api_signed_in("bob")
    inject(faulty, "PutObject", fault, S3_ERRORS)

    def upload() -> Any:
        return client.post("/protected/upload/", {"file": _file("notes.txt", b"kept")})

    response, elapsed = timed(upload)

    assert_friendly(response, (503,))
    assert elapsed < budget("s3")
    assert "event=storage_refused reason=unavailable" in events(caplog), events(caplog)
    faulty.heal()
    assert upload().status_code == 302
    page = client.get("/protected/", {"folder": "private"}).content.decode()
    assert "notes.txt" in page


def _file(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/plain")
