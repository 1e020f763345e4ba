"""Managed login's passwordless sign-in: an emailed one-time code, or a passkey.

Managed login (version 2) offers the pool's other first factors beside the password; each is the
USER_AUTH factor of the same name, under the same rule: only a user who may choose it (no MFA,
a verified email, a registered passkey) gets a real code or challenge. Anyone else gets the same
pages and a step no answer passes, so the pages never tell who has an account.
"""

from __future__ import annotations

import json
import time
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from emulator import branding, hostedpasskeys, login, pages, risk, userauth, webauthn
from emulator.authorize import parse_authorize, sign_in_redirect
from emulator.errors import CognitoError, ErrorPage
from emulator.hostedsteps import code_page, pend
from emulator.state import PENDING_SIGNIN_SECONDS, PendingSignIn
from emulator.stores import HostedStep
from emulator.tokens import new_opaque_token

if TYPE_CHECKING:
    from emulator.state import EmulatorState

PASSKEY_FAILED = "The passkey could not be verified. Please try again."
_SCRIPT = """
document.getElementById("passkey-submit").addEventListener("click", async (event) => {
  event.preventDefault();
  const options = JSON.parse(document.getElementById("passkey-options").textContent);
  const credential = await navigator.credentials.get(
    {publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
  const form = document.getElementById("passkey-form");
  form.elements.credential.value = JSON.stringify(credential.toJSON());
  form.submit();
});
"""


def code_sign_in(state: EmulatorState, request: Request) -> Response:
    """GET: ask for the username. POST: email a sign-in code, then the code page (/mfa)."""
    query = request.query_string.decode("utf-8", "replace")
    authorize_request = parse_authorize(state, request.args, query=query)
    branding.select(state, authorize_request.client_id)
    csrf_cookie, csrf = login.csrf_pair(state, request)
    username = request.form.get("username", "").strip()
    if request.method == "GET" or not login.csrf_valid(state, request) or not username:
        page = _username_page(
            "Sign in with a one-time code",
            f"/login/code?{query}",
            csrf,
            "Email me a code",
            passkey_ready=True,  # after the code, the offer of a passkey (as after a password)
        )
        return login.with_csrf_cookie(page, csrf_cookie)
    user = state.pool._get_user(username)
    if user is not None and "EMAIL_OTP" in userauth.available_challenges(state, user):
        pending = pend(state, user=user, query=query, kind="email")
        if hostedpasskeys.browser_can_make_one(request):
            hostedpasskeys.remember_ready_browser(state, pending)
    else:
        pending = _decoy(state, username=username, query=query, kind="email")
    return login.with_csrf_cookie(code_page(state, csrf=csrf, pending=pending), csrf_cookie)


def passkey_sign_in(state: EmulatorState, request: Request) -> Response:
    """GET: ask for the username. POST: the passkey page, with the pool's request options."""
    query = request.query_string.decode("utf-8", "replace")
    authorize_request = parse_authorize(state, request.args, query=query)
    branding.select(state, authorize_request.client_id)
    csrf_cookie, csrf = login.csrf_pair(state, request)
    username = request.form.get("username", "").strip()
    action = f"/login/passkey?{query}"
    if request.method == "GET" or not login.csrf_valid(state, request) or not username:
        page = _username_page("Sign in with a passkey", action, csrf, "Continue")
        return login.with_csrf_cookie(page, csrf_cookie)
    user = state.pool._get_user(username)
    known = user is not None and "WEB_AUTHN" in userauth.available_challenges(state, user)
    challenge, options = webauthn.request_options(state, user if known else None)
    pending = _decoy(state, username=username, query=query, kind="passkey")
    if known:
        with state.lock:
            state.flows.hosted_steps[pending] = HostedStep(
                kind="passkey",
                code=webauthn.encode_challenge(challenge),
                code_expires_at=time.time() + webauthn.CHALLENGE_SECONDS,
            )
    return login.with_csrf_cookie(_passkey_page(csrf, pending, options), csrf_cookie)


def passkey_verify(state: EmulatorState, request: Request) -> Response:
    """POST: check the browser's assertion for the pending sign-in; then back to the app."""
    csrf_cookie, csrf = login.csrf_pair(state, request)
    pending_id = request.form.get("pending", "")
    with state.lock:
        pending = state.pending_signins.pop(pending_id, None)
        step = state.flows.hosted_steps.pop(pending_id, None)
    if pending is None or pending.expires_at < time.time() or not login.csrf_valid(state, request):
        raise ErrorPage("session_expired")
    args = MultiDict(parse_qsl(pending.query, keep_blank_values=True))
    authorize_request = parse_authorize(state, args, query=pending.query)
    branding.select(state, authorize_request.client_id)
    user = state.pool._get_user(pending.username)
    verified = False
    if user is not None and step is not None and step.code and step.code_expires_at >= time.time():
        try:
            webauthn.verify_assertion(
                state,
                user,
                challenge=webauthn.decode_challenge(step.code),
                credential=request.form.get("credential", ""),
            )
            verified = True
        except CognitoError:
            verified = False
    if not verified or user is None:
        page = _username_page(
            "Sign in with a passkey",
            f"/login/passkey?{pending.query}",
            csrf,
            "Continue",
            error=PASSKEY_FAILED,
        )
        return login.with_csrf_cookie(page, csrf_cookie)
    risk.signed_in(state, user.username)
    return sign_in_redirect(state, authorize_request, username=user.username)


PASSWORDLESS_RULES = [
    Rule("/login/code", endpoint=code_sign_in, methods=["GET", "POST"]),
    Rule("/login/passkey", endpoint=passkey_sign_in, methods=["GET", "POST"]),
    Rule("/login/passkey/verify", endpoint=passkey_verify, methods=["POST"]),
]


def _decoy(state: EmulatorState, *, username: str, query: str, kind: str) -> str:
    """A pending sign-in whose step nothing passes (no code was sent, no challenge is due)."""
    pending = new_opaque_token()
    with state.lock:
        state.pending_signins[pending] = PendingSignIn(
            username=username, query=query, expires_at=time.time() + PENDING_SIGNIN_SECONDS
        )
        state.flows.hosted_steps[pending] = HostedStep(kind=kind)
    return pending


def _username_page(
    title: str,
    action: str,
    csrf: str,
    button: str,
    *,
    error: str | None = None,
    passkey_ready: bool = False,
) -> Response:
    body = (
        (f'<p class="error" data-testid="error">{escape(error)}</p>' if error else "")
        + f'<form method="post" action="{escape(action)}">{_hidden("_csrf", csrf)}'
        '<label for="username">Username</label>'
        '<input id="username" name="username" data-testid="username" autocomplete="username"'
        " required autofocus>"
        + (pages.PASSKEY_READY_FIELD if passkey_ready else "")
        + f'<button type="submit" data-testid="submit">{escape(button)}</button></form>'
        + (pages.PASSKEY_READY_SCRIPT if passkey_ready else "")
    )
    return pages.page(title, body)


def _passkey_page(csrf: str, pending: str, options: str) -> Response:
    # JSON inside <script>: "<" escaped so no "</script>" can close the element early.
    embedded = json.dumps(json.loads(options)).replace("<", "\\u003c")
    body = (
        f'<script type="application/json" id="passkey-options">{embedded}</script>'
        '<form method="post" action="/login/passkey/verify" id="passkey-form">'
        f"{_hidden('_csrf', csrf)}{_hidden('pending', pending)}"
        '<input type="hidden" name="credential" data-testid="passkey-credential">'
        '<p class="note">Use the passkey saved on this device or a security key.</p>'
        '<button type="submit" id="passkey-submit" data-testid="passkey-submit">'
        "Sign in with a passkey</button></form>"
        f"<script>{_SCRIPT}</script>"
    )
    return pages.page("Sign in with a passkey", body)


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
