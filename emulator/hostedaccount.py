"""Managed login's sign-up and forgot-password pages, on the same machinery as the native API.

Paths as Cognito's hosted UI has them, each carrying the authorize request's query string:
/signup (then /confirmUser, /resendCode) and /forgotPassword (then /confirmForgotPassword).
"""

from __future__ import annotations

import time
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from moto.cognitoidp.models import UserStatus
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from emulator import (
    branding,
    hostedpasskeys,
    hostedsteps,
    login,
    pages,
    passwords,
    risk,
    selfservice,
)
from emulator.authorize import (
    AuthorizeRequest,
    parse_authorize,
    sign_in_redirect,
)
from emulator.errors import CognitoError, ErrorPage
from emulator.login import _csrf, _csrf_valid, _with_csrf_cookie
from emulator.responses import redirect

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUserPoolClient

    from emulator.state import EmulatorState

EXPIRED_FORM = "Your form expired. Please try again."


def signup(state: EmulatorState, request: Request) -> Response:
    """GET: the sign-up form. POST: create the user and ask for the code from the inbox."""
    query, _, client = _authorize(state, request)
    csrf_cookie, csrf = _csrf(state, request)
    form = request.form
    if request.method == "GET":
        return _with_csrf_cookie(_signup_page(query, csrf), csrf_cookie)
    username = form.get("username", "").strip()
    email = form.get("email", "").strip()
    if not _csrf_valid(state, request):
        return _with_csrf_cookie(
            _signup_page(query, csrf, username, email, EXPIRED_FORM, 400), csrf_cookie
        )
    try:
        sent = selfservice.register(
            state,
            client,
            username=username,
            password=form.get("password", ""),
            attributes={"email": email},
        )
    except CognitoError as error:
        return _with_csrf_cookie(
            _signup_page(query, csrf, username, email, error.message), csrf_cookie
        )
    destination = sent.get("CodeDeliveryDetails", {}).get("Destination", "")
    return _with_csrf_cookie(_confirm_page(query, csrf, username, destination), csrf_cookie)


def confirm_user(state: EmulatorState, request: Request) -> Response:
    """POST: the sign-up code; a right one confirms and signs the new user in."""
    query, authorize_request, client = _authorize(state, request)
    csrf_cookie, csrf = _csrf(state, request)
    username = request.form.get("username", "").strip()
    if not _csrf_valid(state, request):
        page = _confirm_page(query, csrf, username, "", EXPIRED_FORM, 400)
        return _with_csrf_cookie(page, csrf_cookie)
    try:
        user = selfservice.confirm_registration(
            state, client, username=username, code=request.form.get("code", "")
        )
    except CognitoError as error:
        return _with_csrf_cookie(
            _confirm_page(query, csrf, username, "", error.message), csrf_cookie
        )
    return sign_in_redirect(state, authorize_request, username=user.username)


def resend_code(state: EmulatorState, request: Request) -> Response:
    """POST: a new sign-up code."""
    query, _, client = _authorize(state, request)
    csrf_cookie, csrf = _csrf(state, request)
    username = request.form.get("username", "").strip()
    if not _csrf_valid(state, request):
        page = _confirm_page(query, csrf, username, "", EXPIRED_FORM, 400)
        return _with_csrf_cookie(page, csrf_cookie)
    try:
        sent = selfservice.resend_code(state, client, username=username)
    except CognitoError as error:
        return _with_csrf_cookie(
            _confirm_page(query, csrf, username, "", error.message), csrf_cookie
        )
    destination = sent["CodeDeliveryDetails"]["Destination"]
    return _with_csrf_cookie(_confirm_page(query, csrf, username, destination), csrf_cookie)


def forgot_password(state: EmulatorState, request: Request) -> Response:
    """GET: ask for the username. POST: send a reset code and ask for it and a new password."""
    query, _, client = _authorize(state, request)
    csrf_cookie, csrf = _csrf(state, request)
    if request.method == "GET":
        return _with_csrf_cookie(_forgot_page(query, csrf), csrf_cookie)
    username = request.form.get("username", "").strip()
    if not _csrf_valid(state, request):
        return _with_csrf_cookie(
            _forgot_page(query, csrf, username, EXPIRED_FORM, 400), csrf_cookie
        )
    try:
        sent = selfservice.request_password_reset(state, client, username=username)
    except CognitoError as error:
        return _with_csrf_cookie(_forgot_page(query, csrf, username, error.message), csrf_cookie)
    destination = sent["CodeDeliveryDetails"]["Destination"]
    return _with_csrf_cookie(_reset_page(query, csrf, username, destination), csrf_cookie)


def confirm_forgot_password(state: EmulatorState, request: Request) -> Response:
    """POST: the reset code and a new password; then back to the sign-in page."""
    query, _, client = _authorize(state, request)
    csrf_cookie, csrf = _csrf(state, request)
    username = request.form.get("username", "").strip()
    if not _csrf_valid(state, request):
        return _with_csrf_cookie(
            _reset_page(query, csrf, username, "", EXPIRED_FORM, 400), csrf_cookie
        )
    try:
        selfservice.reset_password(
            state,
            client,
            username=username,
            code=request.form.get("code", ""),
            password=request.form.get("password", ""),
        )
    except CognitoError as error:
        return _with_csrf_cookie(_reset_page(query, csrf, username, "", error.message), csrf_cookie)
    return redirect(f"/login?{query}")


def new_password(state: EmulatorState, request: Request) -> Response:
    """POST: a temporary password's replacement; then the MFA step, or signed in."""
    csrf_cookie, csrf = _csrf(state, request)
    pending_id = request.form.get("pending", "")
    pending = state.pending_signins.get(pending_id)
    if (
        pending is None
        or pending.expires_at < time.time()
        or not _csrf_valid(state, request)
        or hostedsteps.step_kind(state, pending_id) != "new_password"
    ):
        state.pending_signins.pop(pending_id, None)
        raise ErrorPage("session_expired")
    args = MultiDict(parse_qsl(pending.query, keep_blank_values=True))
    authorize_request = parse_authorize(state, args, query=pending.query)
    branding.select(state, authorize_request.client_id)
    user = state.pool._get_user(pending.username)
    if user is None or user.status != UserStatus.FORCE_CHANGE_PASSWORD:
        raise ErrorPage("session_expired")
    password = request.form.get("password", "")
    try:
        passwords.check_policy(state.pool, password)
        risk.check_password(
            state,
            client_id=authorize_request.client_id,
            username=user.username,
            password=password,
            event="PASSWORD_CHANGE",
        )
    except CognitoError as error:
        page = hostedsteps.new_password_page(
            state, csrf=csrf, pending=pending_id, error=error.message
        )
        return _with_csrf_cookie(page, csrf_cookie)
    passwords.set_password(state, user, password)
    user.status = UserStatus.CONFIRMED
    with state.lock:
        state.pending_signins.pop(pending_id, None)
        state.flows.hosted_steps.pop(pending_id, None)
    passkey_ready = hostedpasskeys.take_ready_browser(state, pending_id)
    next_step = hostedsteps.start_mfa(state, user=user, query=pending.query)
    if next_step is None:
        risk.signed_in(state, user.username)
        return login.signed_in(state, request, authorize_request, user.username, passkey_ready)
    if passkey_ready:
        hostedpasskeys.remember_ready_browser(state, next_step)
    page = hostedsteps.code_page(state, csrf=csrf, pending=next_step)
    return _with_csrf_cookie(page, csrf_cookie)


def _authorize(
    state: EmulatorState, request: Request
) -> tuple[str, AuthorizeRequest, CognitoIdpUserPoolClient]:
    """The authorize request these pages serve (checked as /login checks it), and its client."""
    query = request.query_string.decode("utf-8", "replace")
    authorize_request = parse_authorize(state, request.args, query=query)
    branding.select(state, authorize_request.client_id)
    client = state.client(authorize_request.client_id)
    assert client is not None  # parse_authorize has checked it
    return query, authorize_request, client


# Pages.


def _form(action: str, csrf: str, fields: str, button: str) -> str:
    return (
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="_csrf" value="{escape(csrf)}">'
        f'{fields}<button type="submit" data-testid="submit">{escape(button)}</button></form>'
    )


def _input(name: str, label: str, *, value: str = "", kind: str = "text", extra: str = "") -> str:
    return (
        f'<label for="{name}">{escape(label)}</label>'
        f'<input id="{name}" name="{name}" type="{kind}" data-testid="{name}"'
        f' value="{escape(value)}" required {extra}>'
    )


def _hidden_username(username: str) -> str:
    return f'<input type="hidden" name="username" value="{escape(username)}">'


def _error(message: str | None) -> str:
    return f'<p class="error" data-testid="error">{escape(message)}</p>' if message else ""


def _note(text: str) -> str:
    return f'<p class="note" data-testid="note">{escape(text)}</p>' if text else ""


def _back_to_sign_in(query: str) -> str:
    href = escape(f"/login?{query}")
    return f'<p class="note"><a href="{href}" data-testid="signin-link">Back to sign in</a></p>'


def _signup_page(
    query: str,
    csrf: str,
    username: str = "",
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    fields = (
        _input("username", "Username", value=username, extra='autocomplete="username" autofocus')
        + _input("email", "Email", value=email, kind="email", extra='autocomplete="email"')
        + _input("password", "Password", kind="password", extra='autocomplete="new-password"')
    )
    body = _error(error) + _form(f"/signup?{query}", csrf, fields, "Sign up")
    return pages.page("Sign up", body + _back_to_sign_in(query), status=status)


def _confirm_page(
    query: str,
    csrf: str,
    username: str,
    destination: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    sent = f"We sent a code to {destination}." if destination else ""
    fields = _hidden_username(username) + _input(
        "code", "Confirmation code", extra='inputmode="numeric" autocomplete="one-time-code"'
    )
    resend = (
        f'<form method="post" action="{escape(f"/resendCode?{query}")}">'
        f'<input type="hidden" name="_csrf" value="{escape(csrf)}">{_hidden_username(username)}'
        '<button type="submit" data-testid="resend">Send a new code</button></form>'
    )
    body = (
        _error(error)
        + _note(sent)
        + _form(f"/confirmUser?{query}", csrf, fields, "Confirm account")
        + resend
    )
    return pages.page("Confirm your account", body, status=status)


def _forgot_page(
    query: str, csrf: str, username: str = "", error: str | None = None, status: int = 200
) -> Response:
    fields = _input("username", "Username", value=username, extra='autocomplete="username"')
    body = _error(error) + _form(f"/forgotPassword?{query}", csrf, fields, "Reset my password")
    return pages.page("Forgot your password?", body + _back_to_sign_in(query), status=status)


def _reset_page(
    query: str,
    csrf: str,
    username: str,
    destination: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    sent = f"We sent a code to {destination}." if destination else ""
    fields = (
        _hidden_username(username)
        + _input("code", "Code", extra='inputmode="numeric" autocomplete="one-time-code"')
        + _input("password", "New password", kind="password", extra='autocomplete="new-password"')
    )
    body = (
        _error(error)
        + _note(sent)
        + _form(f"/confirmForgotPassword?{query}", csrf, fields, "Change password")
    )
    return pages.page("Reset your password", body, status=status)


ACCOUNT_RULES = [
    Rule("/signup", endpoint=signup, methods=["GET", "POST"]),
    Rule("/confirmUser", endpoint=confirm_user, methods=["POST"]),
    Rule("/resendCode", endpoint=resend_code, methods=["POST"]),
    Rule("/forgotPassword", endpoint=forgot_password, methods=["GET", "POST"]),
    Rule("/confirmForgotPassword", endpoint=confirm_forgot_password, methods=["POST"]),
    Rule("/newPassword", endpoint=new_password, methods=["POST"]),
]
