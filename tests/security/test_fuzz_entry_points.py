"""Every public entry point, fuzzed with Hypothesis through the real Django stack and the real
emulator: the managed-login callback, every form, the protected pages and the upload. Whatever
is sent, the answer is a page or a redirect, never a 500, a stack trace or a debug page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from accounts.session import TOKENS
from emulator import seed
from signin.session import CONFIRMING_USERNAME, RESETTING_USERNAME, SIGNIN_ATTEMPT
from tests.accounts.conftest import USERS, api_signin, start_login
from tests.security.fuzz import TEXT, VALUE, assert_answered, form_data, fuzz, fuzz_slow
from tests.signin.test_api_signin import _give_dave_totp_too, _require_mfa, idp

pytestmark = pytest.mark.usefixtures("no_rate_limits")

# Stands for the value only known at run time (this login's state, this attempt's id).
REAL = "\x00real\x00"
USERNAMES = st.sampled_from(["bob", "alice", "frank", "nobody", "BOB", "bob@example.com"])


def real_or(value: Any, real: str) -> Any:
    return real if value == REAL else value


def post(client: Client, path: str, data: dict[str, Any], **real: str) -> Any:
    """POST `data`, each REAL replaced by its field's run-time value; the answer is checked."""
    body = {name: real_or(value, real.get(name, "")) for name, value in data.items()}
    response = client.post(path, body)
    assert_answered(response)
    return response


# --- managed login -------------------------------------------------------------------------------


@fuzz
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "state": st.one_of(st.just(REAL), TEXT),
            "code": VALUE,
            "error": VALUE,
            "error_description": VALUE,
            "iss": st.one_of(st.just("http://localhost/us-east-1_x"), TEXT),
            "next": TEXT,
            "session_state": TEXT,
        },
    )
)
def test_any_callback_parameters_get_a_page(
    emulator: Any, client: Client, db: None, params: dict[str, Any]
) -> None:
    state = start_login(client).state
    query = {name: real_or(value, state) for name, value in params.items()}

    response = client.get("/accounts/callback/", query)

    assert_answered(response)


@fuzz
@given(next_url=TEXT, idp=TEXT, username=TEXT)
def test_any_login_start_parameters_get_a_page(
    emulator: Any, client: Client, db: None, next_url: str, idp: str, username: str
) -> None:
    assert_answered(client.get("/accounts/login/", {"next": next_url, "idp": idp}))
    assert_answered(client.get("/accounts/signin/", {"next": next_url, "username": username}))
    assert_answered(client.get("/federation/", {"next": next_url}))


def test_the_callback_twin_signs_in(sign_in: Callable[..., Any]) -> None:
    assert sign_in("bob").status_code == 302


# --- API sign-in and its steps -------------------------------------------------------------------


@fuzz
@given(data=form_data(["username", "password", "next"], username=USERNAMES | VALUE))
def test_any_signin_form_gets_a_page(
    emulator: Any, client: Client, db: None, data: dict[str, Any]
) -> None:
    post(client, "/accounts/signin/", data)


@fuzz
@given(data=form_data(["code-username"], **{"code-username": USERNAMES | VALUE}))
def test_any_code_signin_form_gets_a_page(
    emulator: Any, client: Client, db: None, data: dict[str, Any]
) -> None:
    post(client, "/accounts/signin/code/", data)


def _needs_new_password(username: str) -> None:
    """Back to a temporary password: an example may have chosen a valid new one."""
    idp().admin_set_user_password(
        UserPoolId=seed.USER_POOL_ID,
        Username=username,
        Password=USERS[username].password,
        Permanent=False,
    )


def _attempt(client: Client, challenge: str, start: Callable[[], Any]) -> str:
    """The id of a sign-in attempt at `challenge`, starting one when the last ended."""
    attempt = client.session.get(SIGNIN_ATTEMPT)
    if not attempt or attempt["challenge"]["name"] != challenge:
        start()
        attempt = client.session[SIGNIN_ATTEMPT]
        assert attempt["challenge"]["name"] == challenge
    return attempt["id"]


STEPS = {
    "mfa": ("SOFTWARE_TOKEN_MFA", "/accounts/signin/mfa/", ["code"]),
    "sms": ("SMS_MFA", "/accounts/signin/mfa/", ["code"]),
    "select": ("SELECT_MFA_TYPE", "/accounts/signin/mfa/select/", ["choice"]),
    "setup": ("MFA_SETUP", "/accounts/signin/mfa/setup/", ["code"]),
    "new-password": ("NEW_PASSWORD_REQUIRED", "/accounts/signin/new-password/", ["new_password"]),
    "email-code": ("EMAIL_OTP", "/accounts/signin/code/email/", ["code"]),
    "passkey": ("WEB_AUTHN", "/accounts/signin/passkey/", ["credential"]),
}


@pytest.fixture(params=list(STEPS))
def step(request: pytest.FixtureRequest, emulator: Any, client: Client, db: None) -> Any:
    """A challenge step: its challenge, its URL and fields, and how to reach it again."""
    name = request.param
    starts = {
        "mfa": lambda: api_signin(client, "alice"),
        "sms": lambda: api_signin(client, "dave"),
        "select": lambda: api_signin(client, "dave"),
        "setup": lambda: api_signin(client, "bob"),
        "new-password": lambda: (_needs_new_password("frank"), api_signin(client, "frank")),
        "email-code": lambda: client.post("/accounts/signin/code/", {"code-username": "bob"}),
        "passkey": lambda: client.post(
            "/accounts/signin/code/", {"code-username": "heidi", "code-factor": "passkey"}
        ),
    }
    if name == "select":
        _give_dave_totp_too(emulator)
    if name == "setup":
        _require_mfa()
    return (*STEPS[name], starts[name])


@fuzz_slow
@given(data=st.data())
def test_any_challenge_step_answer_gets_a_page(
    client: Client, step: tuple[str, str, list[str], Callable[[], Any]], data: st.DataObject
) -> None:
    challenge, path, fields, start = step
    attempt = _attempt(client, challenge, start)
    assert_answered(client.get(path))
    # Mostly this attempt's own id, so that the answer reaches the pool.
    attempt_value = st.one_of(st.just(REAL), st.just(REAL), st.just(REAL), VALUE)
    body = data.draw(form_data(["attempt", *fields], attempt=attempt_value))

    post(client, path, body, attempt=attempt)


# --- self-service --------------------------------------------------------------------------------


@fuzz
@given(data=form_data(["username", "email", "given_name", "family_name", "password"]))
def test_any_signup_form_gets_a_page(
    emulator: Any, client: Client, db: None, data: dict[str, Any]
) -> None:
    post(client, "/accounts/signup/", data)


def _pending_username(client: Client, key: str, username: str) -> None:
    session = client.session
    session[key] = username
    session.save()


@fuzz
@given(username=USERNAMES | TEXT, data=form_data(["code", "new_password"]))
def test_any_confirm_resend_and_reset_form_gets_a_page(
    emulator: Any, client: Client, db: None, username: str, data: dict[str, Any]
) -> None:
    _pending_username(client, CONFIRMING_USERNAME, username)
    post(client, "/accounts/signup/confirm/", data)
    _pending_username(client, CONFIRMING_USERNAME, username)
    post(client, "/accounts/signup/resend/", data)
    _pending_username(client, RESETTING_USERNAME, username)
    post(client, "/accounts/password/reset/", data)


@fuzz
@given(data=form_data(["username"], username=USERNAMES | VALUE))
def test_any_forgot_password_form_gets_a_page(
    emulator: Any, client: Client, db: None, data: dict[str, Any]
) -> None:
    post(client, "/accounts/password/forgot/", data)


def signed_in(client: Client, api_signed_in: Callable[..., Client], username: str) -> Client:
    """`client` signed in as `username`: once per test, again only if an example signed it out.

    (A TOTP code is good once, so alice cannot sign in again for every example.)
    """
    if client.session.get(TOKENS) is None:
        api_signed_in(username)
    return client


SIGNED_IN_FORMS = {
    "password-change": ("/accounts/password/change/", ["old_password", "new_password"]),
    "profile": ("/accounts/profile/", ["given_name", "family_name", "email"]),
    "profile-verify": ("/accounts/profile/verify/", ["code"]),
    "mfa": ("/accounts/mfa/", ["enabled", "preferred"]),
    "mfa-totp": ("/accounts/mfa/totp/", ["code"]),
    "identity": ("/identity/", ["flow", "role"]),
}
CHOICES = st.sampled_from(
    ["totp", "sms", "email", "enhanced", "basic", "developer", "arn:aws:iam::1:role/x"]
)


@pytest.mark.parametrize("form", list(SIGNED_IN_FORMS))
@fuzz_slow
@given(data=st.data())
def test_any_signed_in_form_gets_a_page(
    client: Client, api_signed_in: Callable[..., Client], form: str, data: st.DataObject
) -> None:
    # alice may pick between two roles; the other forms are bob's.
    client = signed_in(client, api_signed_in, "alice" if form == "identity" else "bob")
    path, fields = SIGNED_IN_FORMS[form]
    known = {name: CHOICES | VALUE for name in ("enabled", "preferred", "flow", "role")}

    post(client, path, data.draw(form_data(fields, **known)))


# --- identity, federation and the protected pages ------------------------------------------------


@fuzz
@given(data=form_data(["email"], email=st.emails() | VALUE))
def test_any_work_email_gets_a_page(
    emulator: Any, client: Client, db: None, data: dict[str, Any]
) -> None:
    post(client, "/federation/", data)


MULTIPART = "multipart/form-data"
B = "fuzz-boundary-7d1c"


def multipart(filename: str, content: bytes) -> bytes:
    """A file field as a client may send it, any file name included (Django's own test helper
    refuses names it cannot use, which is what the server must cope with)."""
    return (
        f'--{B}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode(errors="surrogatepass")
        + content
        + f"\r\n--{B}--\r\n".encode()
    )


@fuzz_slow
@given(
    name=st.one_of(TEXT, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,20}", fullmatch=True)),
    content=st.binary(max_size=2048),
    folder=st.sampled_from(["private", "public", "protected", "other", "", ".."]),
)
def test_any_upload_and_any_object_name_get_a_page(
    client: Client,
    api_signed_in: Callable[..., Client],
    name: str,
    content: bytes,
    folder: str,
) -> None:
    client = signed_in(client, api_signed_in, "bob")

    uploaded = client.post(
        "/protected/upload/", multipart(name, content), content_type=f"{MULTIPART}; boundary={B}"
    )
    assert_answered(uploaded)
    # The accepted twin: a plain name and some content (an empty file is refused).
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,99}", name) and content:
        assert name in client.get("/protected/", {"folder": "private"}).content.decode()
    assert_answered(client.get(f"/protected/open/{folder}/{quote(name)}"))
    assert_answered(client.get("/protected/", {"folder": folder}))


@pytest.mark.parametrize(
    ("attempt", "status"),
    [
        pytest.param("é", 302, id="non-ascii-restarts"),  # found by the fuzzer: was a 500
        pytest.param(REAL, 400, id="own-attempt-wrong-code-stays"),
    ],
)
def test_a_non_ascii_attempt_id_restarts_the_sign_in(
    emulator: Any, client: Client, db: None, attempt: str, status: int
) -> None:
    own = _attempt(client, "SOFTWARE_TOKEN_MFA", lambda: api_signin(client, "alice"))

    response = post(
        client, "/accounts/signin/mfa/", {"attempt": attempt, "code": "000000"}, attempt=own
    )

    assert response.status_code == status
    assert (client.session.get(SIGNIN_ATTEMPT) is not None) == (attempt == REAL)


RAW_TYPES = st.sampled_from(
    [
        f"{MULTIPART}; boundary={B}",
        MULTIPART,
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=utf-16",
        "text/plain",
        "",
    ]
)


@fuzz
@given(
    path=st.sampled_from(["/protected/upload/", "/accounts/signin/", "/federation/", "/identity/"]),
    content_type=RAW_TYPES,
    body=st.one_of(
        st.binary(max_size=2048),
        st.binary(max_size=512).map(lambda b: f"--{B}\r\n".encode() + b),
        st.tuples(TEXT, st.binary(max_size=64)).map(lambda parts: multipart(*parts)),
    ),
)
def test_any_raw_body_gets_a_page(
    client: Client,
    api_signed_in: Callable[..., Client],
    path: str,
    content_type: str,
    body: bytes,
) -> None:
    client = signed_in(client, api_signed_in, "bob")

    # generic(): the bytes as they are (post() would re-encode them to the declared charset).
    assert_answered(client.generic("POST", path, body, content_type=content_type))


def test_an_anonymous_upload_is_refused_before_its_body_is_read(client: Client, db: None) -> None:
    response = client.post(
        "/protected/upload/",
        multipart("notes.txt", b"x"),
        content_type=f"{MULTIPART}; boundary={B}",
    )

    # Refused with a page that says why and links to sign-in (tests/security/test_upload_flood.py).
    assert response.status_code == 403
    assert "protected/upload_refused.html" in [t.name for t in response.templates]
