"""The managed-login pages: /login (username and password) and /mfa (TOTP)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from moto.cognitoidp.models import UserStatus
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from emulator import branding, federation, hostedpasskeys, pages, risk, webauthn
from emulator import csrf as form_csrf
from emulator.authorize import AuthorizeRequest, parse_authorize, sign_in_redirect
from emulator.challenges import password_locked, password_matches
from emulator.errors import ErrorPage, NotAuthorized
from emulator.hostedsteps import (
    ATTEMPTS_EXCEEDED,
    code_accept,
    code_page,
    new_password_page,
    pend,
    start_mfa,
)

if TYPE_CHECKING:
    from emulator.state import EmulatorState

CSRF_COOKIE = form_csrf.CSRF_COOKIE
MAX_MFA_ATTEMPTS = 5
# One message for "no such user" and "wrong password", so accounts cannot be enumerated.
INCORRECT_CREDENTIALS = "Incorrect username or password."
USER_NOT_CONFIRMED = "User is not confirmed."
PASSWORD_RESET_REQUIRED = "Password reset required for the user."
INVALID_CODE = "Invalid code or auth state for the user."
EXPIRED_FORM = "Your sign-in form expired. Please try again."


def login(state: EmulatorState, request: Request) -> Response:
    """GET: the sign-in form. POST: check the password, then finish or ask for the TOTP code."""
    query = request.query_string.decode("utf-8", "replace")
    authorize_request = parse_authorize(state, request.args, query=query)
    branding.select(state, authorize_request.client_id)
    action = f"/login?{query}"
    csrf_cookie, csrf = _csrf(state, request)

    def form_page(username: str, error: str | None = None) -> Response:
        response = pages.login_page(
            action=action,
            csrf=csrf,
            username=username,
            error=error,
            providers=federation.login_buttons(state, authorize_request),
            query=query,
            first_factors=webauthn.first_factors(state),
        )
        return _with_csrf_cookie(response, csrf_cookie)

    if request.method == "GET":
        return form_page(authorize_request.login_hint or "")

    username = request.form.get("username", "").strip()
    if not _csrf_valid(state, request):
        response = form_page(username, EXPIRED_FORM)
        response.status_code = 400
        return response
    user = state.pool._get_user(username) if username else None
    password = request.form.get("password", "")
    assessment = risk.Assessment()
    if user is not None and password_locked(state, user):
        error: str | None = ATTEMPTS_EXCEEDED
    elif user is None or not password_matches(state, user, password):
        error = INCORRECT_CREDENTIALS
    elif not user.enabled:
        error = "User is disabled."
    elif user.status == UserStatus.UNCONFIRMED:
        error = USER_NOT_CONFIRMED
    elif (
        assessment := risk.assess_sign_in(
            state,
            client_id=authorize_request.client_id,
            user=user,
            context=risk.browser_context(request),
        )
    ).blocked:
        error = risk.BLOCKED
    elif user.status == UserStatus.FORCE_CHANGE_PASSWORD:
        pending = pend(state, user=user, query=query, kind="new_password")
        if hostedpasskeys.browser_can_make_one(request):
            hostedpasskeys.remember_ready_browser(state, pending)
        return _with_csrf_cookie(new_password_page(state, csrf=csrf, pending=pending), csrf_cookie)
    elif user.status != UserStatus.CONFIRMED:
        error = PASSWORD_RESET_REQUIRED
    else:
        error = None
    if error:
        return form_page(username, error)

    try:
        pending = start_mfa(state, user=user, query=query, assessment=assessment)
    except NotAuthorized as refusal:  # MFA_REQUIRED for a user with nothing to send a code to
        return form_page(username, refusal.message)
    passkey_ready = hostedpasskeys.browser_can_make_one(request)
    if pending is None:
        risk.signed_in(state, user.username)
        return signed_in(state, request, authorize_request, user.username, passkey_ready)
    if passkey_ready:
        hostedpasskeys.remember_ready_browser(state, pending)
    return _with_csrf_cookie(code_page(state, csrf=csrf, pending=pending), csrf_cookie)


def mfa(state: EmulatorState, request: Request) -> Response:
    """POST: check the TOTP code of a pending sign-in; a wrong code lets the user retry."""
    csrf_cookie, csrf = _csrf(state, request)
    pending_id = request.form.get("pending", "")
    pending = state.pending_signins.get(pending_id)
    if pending is None or pending.expires_at < time.time() or not _csrf_valid(state, request):
        state.pending_signins.pop(pending_id, None)
        hostedpasskeys.take_ready_browser(state, pending_id)
        raise ErrorPage("session_expired")
    args = MultiDict(parse_qsl(pending.query, keep_blank_values=True))
    authorize_request = parse_authorize(state, args, query=pending.query)
    branding.select(state, authorize_request.client_id)
    code = request.form.get("code", "")
    if not code_accept(state, pending_id=pending_id, username=pending.username, code=code):
        if pending.attempts + 1 >= MAX_MFA_ATTEMPTS:
            state.pending_signins.pop(pending_id, None)
            hostedpasskeys.take_ready_browser(state, pending_id)
            raise ErrorPage("too_many_attempts")
        state.pending_signins[pending_id] = replace(pending, attempts=pending.attempts + 1)
        risk.mfa_failed(state, pending.username)
        response = code_page(state, csrf=csrf, pending=pending_id, error=INVALID_CODE)
        return _with_csrf_cookie(response, csrf_cookie)
    state.pending_signins.pop(pending_id, None)
    passkey_ready = hostedpasskeys.take_ready_browser(state, pending_id)
    risk.signed_in(state, pending.username)
    return signed_in(state, request, authorize_request, pending.username, passkey_ready)


def signed_in(
    state: EmulatorState,
    request: Request,
    authorize_request: AuthorizeRequest,
    username: str,
    passkey_ready: bool,
) -> Response:
    """A sign-in (a password, a new one, or an emailed code) is done: the passkey offer when due,
    else back to the app."""
    if passkey_ready:
        offer = hostedpasskeys.offer(state, request, authorize_request, username=username)
        if offer is not None:
            return offer
    return sign_in_redirect(state, authorize_request, username=username)


# The CSRF check of every managed-login form (emulator/csrf.py), under the names the other
# managed-login modules import from here.
_csrf = csrf_pair = form_csrf.pair
_csrf_valid = csrf_valid = form_csrf.valid
_with_csrf_cookie = with_csrf_cookie = form_csrf.with_cookie
