"""Managed login (version 2) adds passkeys: the offer after a password sign-in, and /passkeys/add.

After a sign-in with a password (and its MFA step, if any), managed login offers a user without
a passkey to add one before it sends the browser back to the app; the code is issued only once
the offer is answered. Apps can also send a signed-in user to `/passkeys/add?client_id=&
redirect_uri=` (developer guide, "User-interactive managed login endpoints": the one path that
is managed login's only, not the classic hosted UI's); managed login registers a passkey with
the browser's managed-login session and redirects back to the redirect URI.

The offer is made only to a browser that can make a passkey: the sign-in page's script reports
`isUserVerifyingPlatformAuthenticatorAvailable()`, so clients without one (curl, a form parser,
a browser without a platform authenticator) never see a prompt they could not answer.
"""

from __future__ import annotations

import json
import time
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from emulator import branding, challenges, pages, webauthn
from emulator import csrf as form_csrf
from emulator.authorize import parse_authorize, sign_in_redirect, signed_in_user
from emulator.errors import CognitoError, ErrorPage
from emulator.responses import redirect
from emulator.state import PENDING_SIGNIN_SECONDS, PendingSignIn
from emulator.stores import HostedStep, on_pool
from emulator.tokens import new_opaque_token

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.authorize import AuthorizeRequest
    from emulator.state import EmulatorState

READY_FIELD = "passkey_ready"
OFFER = "passkey_offer"
OFFER_TITLE = "Sign in faster next time with a passkey"
ADD_TITLE = "Add a passkey"
ABOUT = (
    "A passkey lets you sign in with your fingerprint, your face or your device's screen lock"
    " instead of a password. It stays on your device (or in your password manager) and works"
    " only on this site, so it cannot be guessed, phished or leaked."
)
NOT_ADDED = "Your passkey was not added."
NO_PASSKEY = (
    "Your browser did not make one: it was cancelled, it timed out, or this device cannot make"
    " passkeys."
)
EXPIRED_FORM = "This page expired. Please try again."
NOT_AVAILABLE = (
    "This user pool does not let its users sign in with passkeys here (passkey sign-in is off,"
    " or it has no relying party ID for this site), so no passkey can be added."
)
SIGN_IN_FIRST = (
    "You are not signed in on these pages (or your sign-in here has ended). Go back to the app,"
    " sign in, then add your passkey from there."
)
# Cognito's refusals, in plain words (the others' messages already are).
_REASONS = {
    "WebAuthnChallengeNotFoundException": "The request to make it expired or was already used.",
    "WebAuthnRelyingPartyMismatchException": "The passkey was made for another website.",
    "WebAuthnClientMismatchException": "It was started for another app.",
    "InvalidParameterException": "The browser's answer was not a passkey.",
}
_SCRIPT = """
const form = document.getElementById("passkey-add-form");
const button = document.getElementById("passkey-create");
button.addEventListener("click", async (event) => {
  event.preventDefault();
  button.disabled = true;
  try {
    const options = JSON.parse(document.getElementById("passkey-creation-options").textContent);
    const credential = await navigator.credentials.create(
      {publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)});
    form.elements.credential.value = JSON.stringify(credential.toJSON());
  } catch (error) {
    form.elements.credential.value = "";
  }
  button.disabled = false;
  form.requestSubmit(button);
});
"""


# The offer after a password sign-in (emulator/login.py calls these).


def browser_can_make_one(request: Request) -> bool:
    """The sign-in page's script found a platform authenticator that verifies its user."""
    return request.form.get(READY_FIELD) == "1"


def remember_ready_browser(state: EmulatorState, pending: str) -> None:
    """The sign-in waiting for its MFA step came from a browser that can make a passkey."""
    with state.lock:
        ready = _ready_sign_ins(state)
        ready.intersection_update(state.pending_signins)  # forget abandoned sign-ins
        ready.add(pending)


def take_ready_browser(state: EmulatorState, pending: str) -> bool:
    """Whether the sign-in came from such a browser; forget it (its step is over)."""
    with state.lock:
        ready = _ready_sign_ins(state)
        found = pending in ready
        ready.discard(pending)
    return found


def offer(
    state: EmulatorState, request: Request, authorize_request: AuthorizeRequest, *, username: str
) -> Response | None:
    """The offer of a passkey when it is due, as a pending step; None when it is not."""
    user = state.pool._get_user(username)
    if user is None or not _offer_due(state, request, user):
        return None
    try:
        options = webauthn.registration_options(state, user, client_id=authorize_request.client_id)
    except CognitoError:
        return None
    pending = new_opaque_token()
    with state.lock:
        state.pending_signins[pending] = PendingSignIn(
            username=user.username,
            query=authorize_request.query,
            expires_at=time.time() + PENDING_SIGNIN_SECONDS,
        )
        state.flows.hosted_steps[pending] = HostedStep(kind=OFFER)
    cookie, token = form_csrf.pair(state, request)
    return form_csrf.with_cookie(_offer_page(token, pending, options), cookie)


def offer_answer(state: EmulatorState, request: Request) -> Response:
    """POST: "Add a passkey" (the browser's new passkey) or "Not now"; then back to the app."""
    cookie, token = form_csrf.pair(state, request)
    pending_id = request.form.get("pending", "")
    pending = state.pending_signins.get(pending_id)
    step = state.flows.hosted_steps.get(pending_id)
    if step is None or step.kind != OFFER:
        # Another step's pending sign-in is not this one's to end (nor to skip its MFA).
        raise ErrorPage("session_expired")
    user = state.pool._get_user(pending.username) if pending else None
    if (
        pending is None
        or pending.expires_at < time.time()
        or not form_csrf.valid(state, request)
        or user is None
        or not user.enabled
    ):
        _drop(state, pending_id)
        raise ErrorPage("session_expired")
    args = MultiDict(parse_qsl(pending.query, keep_blank_values=True))
    authorize_request = parse_authorize(state, args, query=pending.query)
    branding.select(state, authorize_request.client_id)
    if request.form.get("answer") == "add":
        try:
            _add(state, user, client_id=authorize_request.client_id, request=request)
        except CognitoError as refusal:
            retry = _retry_options(state, user, client_id=authorize_request.client_id)
            if retry is not None:
                page = _offer_page(token, pending_id, retry, error=_refusal_text(refusal))
                return form_csrf.with_cookie(page, cookie)
    if not _drop(state, pending_id):
        raise ErrorPage("session_expired")  # answered twice at once: the first one won
    return sign_in_redirect(state, authorize_request, username=user.username)


# /passkeys/add: an app sends a signed-in user here.


def add(state: EmulatorState, request: Request) -> Response:
    """GET: the add-a-passkey page. POST: keep the browser's new passkey; back to redirect_uri."""
    client_id, redirect_uri = _return_address(state, request.args)
    branding.select(state, client_id)
    if not webauthn.usable_at(state, _origin(request)):
        return _notice("Passkeys are not available", NOT_AVAILABLE, redirect_uri, status=400)
    signed_in = signed_in_user(state, request)
    if signed_in is None:
        return _notice("Sign in to add a passkey", SIGN_IN_FIRST, redirect_uri, status=403)
    user, _ = signed_in
    cookie, token = form_csrf.pair(state, request)
    error = None
    if request.method == "POST":
        if not form_csrf.valid(state, request):
            error = EXPIRED_FORM
        else:
            try:
                _add(state, user, client_id=client_id, request=request)
                return redirect(redirect_uri)
            except CognitoError as refusal:
                error = _refusal_text(refusal)
    try:
        options = webauthn.registration_options(state, user, client_id=client_id)
    except CognitoError as refusal:  # the most passkeys a user may have
        return _notice("No more passkeys", refusal.message, redirect_uri, status=400)
    page = _add_page(
        token, request.full_path, options, username=user.username, back=redirect_uri, error=error
    )
    return form_csrf.with_cookie(page, cookie)


PASSKEY_RULES = [
    Rule("/passkeys/add", endpoint=add, methods=["GET", "POST"]),
    Rule("/passkeys/offer", endpoint=offer_answer, methods=["POST"]),
]


# Helpers.


def _ready_sign_ins(state: EmulatorState) -> set[str]:
    # Kept on moto's pool object, so a reset forgets it with the pending sign-ins.
    return on_pool(state.pool, "passkey_ready_sign_ins", set)


def _offer_due(state: EmulatorState, request: Request, user: CognitoIdpUser) -> bool:
    """No passkey yet, passkeys on for this page's origin, and one could sign the user in."""
    if webauthn.passkeys_of(state, user.username):
        return False
    if not webauthn.usable_at(state, _origin(request)):
        return False
    # As emulator.userauth offers WEB_AUTHN: with MFA, only a passkey that counts as MFA signs in.
    has_mfa = bool(challenges.mfa_factors(state, user)) or state.pool.mfa_config == "ON"
    return not has_mfa or webauthn.counts_as_mfa(state)


def _origin(request: Request) -> str:
    """The origin of the managed-login page the browser is on."""
    return request.host_url.rstrip("/")


def _add(state: EmulatorState, user: CognitoIdpUser, *, client_id: str, request: Request) -> None:
    credential = request.form.get("credential", "").strip()
    if not credential:
        raise _NoPasskey(NO_PASSKEY)
    webauthn.register(state, user, client_id=client_id, credential=credential)


class _NoPasskey(CognitoError):
    """The browser posted no passkey (no script, the dialog cancelled, no authenticator)."""

    code = "NoPasskey"


def _refusal_text(refusal: CognitoError) -> str:
    return f"{NOT_ADDED} {_REASONS.get(refusal.code, refusal.message)}"


def _retry_options(
    state: EmulatorState, user: CognitoIdpUser, *, client_id: str
) -> dict[str, Any] | None:
    try:
        return webauthn.registration_options(state, user, client_id=client_id)
    except CognitoError:  # passkeys were turned off meanwhile: the offer is over
        return None


def _drop(state: EmulatorState, pending_id: str) -> bool:
    with state.lock:
        state.flows.hosted_steps.pop(pending_id, None)
        return state.pending_signins.pop(pending_id, None) is not None


def _return_address(state: EmulatorState, args: MultiDict[str, str]) -> tuple[str, str]:
    """The client and its redirect_uri, checked as /oauth2/authorize checks them."""
    client_id = args.get("client_id", "")
    client = state.client(client_id) if client_id else None
    if client is None or len(args.getlist("client_id")) > 1:
        raise ErrorPage("invalid_client")
    redirect_uri = args.get("redirect_uri", "")
    # Never a redirect or a link to an address the client did not register (cognito-facts 1.2).
    if (
        redirect_uri not in (client.extended_config.get("CallbackURLs") or [])
        or len(args.getlist("redirect_uri")) > 1
    ):
        raise ErrorPage("redirect_mismatch", client_id=client_id, redirect=True)
    return client_id, redirect_uri


def _options_script(options: dict[str, Any]) -> str:
    # JSON inside <script>: "<" escaped so no "</script>" can close the element early.
    embedded = json.dumps(options).replace("<", "\\u003c")
    return f'<script type="application/json" id="passkey-creation-options">{embedded}</script>'


def _error(error: str | None) -> str:
    return f'<p class="error" data-testid="error">{escape(error)}</p>' if error else ""


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def _create_button() -> str:
    return (
        '<button type="submit" name="answer" value="add" id="passkey-create"'
        ' data-testid="passkey-create">Add a passkey</button>'
    )


def _offer_page(
    csrf: str, pending: str, options: dict[str, Any], *, error: str | None = None
) -> Response:
    body = (
        f'{_error(error)}<p data-testid="passkey-offer">{escape(ABOUT)}</p>'
        f"{_options_script(options)}"
        '<form method="post" action="/passkeys/offer" id="passkey-add-form">'
        f"{_hidden('_csrf', csrf)}{_hidden('pending', pending)}"
        '<input type="hidden" name="credential" data-testid="passkey-credential">'
        f"{_create_button()}"
        '<button type="submit" name="answer" value="skip" class="secondary"'
        ' data-testid="passkey-not-now">Not now</button></form>'
        f"<script>{_SCRIPT}</script>"
    )
    return pages.page(OFFER_TITLE, body)


def _add_page(
    csrf: str,
    action: str,
    options: dict[str, Any],
    *,
    username: str,
    back: str,
    error: str | None = None,
) -> Response:
    body = (
        f'{_error(error)}<p data-testid="passkey-offer">{escape(ABOUT)}</p>'
        f'<p class="note">For <strong>{escape(username)}</strong>.</p>'
        f"{_options_script(options)}"
        f'<form method="post" action="{escape(action)}" id="passkey-add-form">'
        f"{_hidden('_csrf', csrf)}"
        '<input type="hidden" name="credential" data-testid="passkey-credential">'
        f"{_create_button()}</form>"
        f'<p><a href="{escape(back)}" data-testid="passkey-not-now">Not now</a></p>'
        f"<script>{_SCRIPT}</script>"
    )
    return pages.page(ADD_TITLE, body)


def _notice(title: str, text: str, back: str, *, status: int) -> Response:
    body = (
        f"{_error(text)}"
        f'<p><a href="{escape(back)}" data-testid="back-to-app">Back to the app</a></p>'
    )
    return pages.page(title, body, status=status)
