"""Sign-in and account pages: managed login, the app's own API sign-in with each challenge as a
step, and self-service (sign-up, passwords, profile, MFA settings, sign out everywhere)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from accounts import backends
from accounts.forms import (
    CallbackForm,
    ChallengeForm,
    ChangePasswordForm,
    CodeSigninForm,
    ConfirmSignupForm,
    CustomChallengeForm,
    ForgotPasswordForm,
    LoginStartForm,
    MfaCodeForm,
    MfaSettingsForm,
    MfaSetupForm,
    NewPasswordForm,
    ProfileForm,
    ReauthenticateForm,
    ResendCodeForm,
    ResetPasswordForm,
    SelectMfaForm,
    SigninForm,
    SignOutEverywhereForm,
    SignupForm,
    TotpEnrolForm,
    UserPoolForm,
    VerifyEmailForm,
)
from accounts.models import User
from accounts.services import (
    ManagedLoginError,
    Tokens,
    login_start,
    logout_url,
    token_revoke,
    user_sync,
)
from accounts.session import (
    CONFIRMING_USERNAME,
    FLOW_API,
    FLOW_MANAGED,
    RESETTING_USERNAME,
    TOTP_ENROLMENT,
    SigninAttempt,
    StoredTokens,
    pending_login_add,
    proof_is_recent,
    proof_record,
    session_start,
    signin_attempt_get,
    signin_attempt_pop,
    signin_attempt_save,
    tokens_get,
    tokens_pop,
)
from accounts.tokens import TokenInvalid, token_validator
from accounts.userpool import (
    Challenge,
    Profile,
    TotpSecret,
    UserPoolError,
    mfa_setup_start,
    password_policy_get,
    profile_get,
    totp_associate,
    totp_uri,
)

logger = logging.getLogger("accounts")

StepView = Callable[[HttpRequest, SigninAttempt], HttpResponse]
TokensView = Callable[[HttpRequest, StoredTokens], HttpResponse]


@never_cache
@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """Send the browser to the pool's sign-in pages, remembering state, nonce and PKCE verifier."""
    form = LoginStartForm(request.GET)
    started = login_start(next_url=form.next_url, identity_provider=form.identity_provider)
    pending_login_add(request.session, started.pending)
    return redirect(started.url)


@never_cache
@require_GET
@sensitive_variables("form")
def callback(request: HttpRequest) -> HttpResponse:
    """Finish managed login and sign the user in.

    Checked before any token request: `state` present, started in this session, unused, fresh;
    `iss`, when sent (RFC 9207), our pool;
    no `?error=`. Then the code is exchanged with the configured redirect_uri and the PKCE
    verifier, and the ID token (signature, iss, aud, token_use, exp, nonce, at_hash) and access
    token (signature, iss, client_id, token_use, exp) are verified.
    """
    form = CallbackForm(request.GET, session=request.session)
    if not form.is_valid():
        logger.warning("event=signin_failed flow=managed reason=%s", form.failure_code)
        context = {"message": form.failure_message}
        return render(request, "accounts/login_failed.html", context, status=form.failure_status)
    sign_user_in(request, form.tokens, flow=FLOW_MANAGED)
    return redirect(form.pending.next_url)


@never_cache
@require_POST
@csrf_protect
@sensitive_variables("tokens")
def logout(request: HttpRequest) -> HttpResponse:
    """Revoke the refresh token, end this session, then end the pool's managed-login session."""
    user_id = request.user.pk
    tokens = tokens_pop(request.session)
    if tokens is not None:
        try:
            token_revoke(refresh_token=tokens.refresh_token)
        except ManagedLoginError as failure:
            # Signing out locally must never depend on the pool answering.
            logger.warning("event=revoke_failed user_id=%s reason=%s", user_id, failure.code)
    auth_logout(request)
    logger.info("event=logout user_id=%s", user_id)
    return redirect(logout_url())


# --- API sign-in: the app's own form, then each challenge as a step of its own -----------------

# The step (URL name) that answers each challenge Cognito can ask for.
STEPS = {
    "SOFTWARE_TOKEN_MFA": "accounts:signin_mfa",
    "SMS_MFA": "accounts:signin_mfa",
    "EMAIL_OTP": "accounts:signin_mfa",
    "SELECT_MFA_TYPE": "accounts:signin_select_mfa",
    "MFA_SETUP": "accounts:signin_mfa_setup",
    "NEW_PASSWORD_REQUIRED": "accounts:signin_new_password",
    "CUSTOM_CHALLENGE": "accounts:signin_custom",
}


_ATTEMPT_ENDED = {
    True: "This sign-in took too long. Please sign in again.",
    False: "This account needs a sign-in step this site cannot do.",
}


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or as far up X-Forwarded-For as trusted proxies vouch."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    # Each proxy appends the address it got the request from, after whatever the client wrote
    # itself. Read from the right while the address in hand is a trusted proxy: the hop it
    # appended is true; anything further left was written by someone it does not vouch for.
    while hops and _trusted_proxy(address):
        hop = hops.pop().strip()
        if not _ip_or_none(hop):
            break
        address = hop
    return address


def _trusted_proxy(address: str) -> bool:
    ip = _ip_or_none(address)
    return ip is not None and any(ip in network for network in settings.TRUSTED_PROXIES)


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def signin_step(*challenges: str) -> Callable[[StepView], Callable[[HttpRequest], HttpResponse]]:
    """The view answers these challenges of the sign-in in progress, and only while it is fresh."""

    def decorator(view: StepView) -> Callable[[HttpRequest], HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            attempt = signin_attempt_get(request.session)
            if attempt is None or attempt.expired or attempt.challenge.name not in STEPS:
                # No sign-in, a stale one, or a challenge with no step here: start again.
                signin_attempt_pop(request.session)
                if attempt is not None:
                    messages.error(request, _ATTEMPT_ENDED[attempt.expired])
                return redirect("accounts:signin")
            if attempt.challenge.name not in challenges:
                return redirect(STEPS[attempt.challenge.name])
            return view(request, attempt)

        return wrapper

    return decorator


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signin(request: HttpRequest) -> HttpResponse:
    """Sign in with username and password on this site's own form (InitiateAuth)."""
    form = SigninForm(
        request.POST or None,
        address=client_address(request),
        initial={"next": request.GET.get("next", ""), "username": request.GET.get("username", "")},
    )
    if request.method != "POST" or not form.is_valid():
        if form.is_bound:
            logger.warning("event=signin_failed flow=api reason=%s", form.failure_code)
        if form.failure_code in ("user_not_confirmed", "password_reset_required"):
            return _to_account_step(request, form)
        return _form_page(
            request, "accounts/signin.html", form, code_form=CodeSigninForm(address="")
        )
    signin_attempt_pop(request.session)  # a new sign-in replaces one left unfinished
    return _signin_continue(request, form.result, next_url=form.next_url)


@require_POST
@csrf_protect
@never_cache
def signin_code(request: HttpRequest) -> HttpResponse:
    """Sign in with a one-time code sent by email instead of a password (CUSTOM_AUTH)."""
    form = CodeSigninForm(request.POST, address=client_address(request))
    if not form.is_valid():
        logger.warning("event=signin_failed flow=api_code reason=%s", form.failure_code)
        context = {"form": SigninForm(address=""), "code_form": form}
        return render(request, "accounts/signin.html", context, status=form.failure_status)
    signin_attempt_pop(request.session)
    return _signin_continue(request, form.result, next_url=resolve_url(settings.LOGIN_REDIRECT_URL))


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@signin_step("SOFTWARE_TOKEN_MFA", "SMS_MFA", "EMAIL_OTP")
def signin_mfa(request: HttpRequest, attempt: SigninAttempt) -> HttpResponse:
    """The MFA code: from the authenticator app, a text message or an email."""
    form = MfaCodeForm(request.POST or None, attempt=attempt, address=client_address(request))
    if request.method == "POST" and form.is_valid():
        return _signin_continue(request, form.result, attempt=attempt)
    return _step_page(request, "accounts/signin_mfa.html", form, attempt=attempt)


@csrf_protect
@never_cache
@signin_step("SELECT_MFA_TYPE")
def signin_select_mfa(request: HttpRequest, attempt: SigninAttempt) -> HttpResponse:
    """Choose which second factor to use for this sign-in."""
    form = SelectMfaForm(request.POST or None, attempt=attempt, address=client_address(request))
    if request.method == "POST" and form.is_valid():
        return _signin_continue(request, form.result, attempt=attempt)
    return _step_page(request, "accounts/signin_select_mfa.html", form, attempt=attempt)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@signin_step("MFA_SETUP")
def signin_mfa_setup(request: HttpRequest, attempt: SigninAttempt) -> HttpResponse:
    """Set up an authenticator app before the first sign-in finishes (MFA_SETUP)."""
    if not attempt.totp_secret:
        attempt = _mfa_setup_begin(request, attempt)
        if attempt is None:
            return redirect("accounts:signin")
    form = MfaSetupForm(request.POST or None, attempt=attempt, address=client_address(request))
    if request.method == "POST" and form.is_valid():
        return _signin_continue(request, form.result, attempt=attempt)
    secret = TotpSecret(
        secret=attempt.totp_secret,
        uri=totp_uri(secret=attempt.totp_secret, username=attempt.challenge.username),
    )
    return _step_page(
        request, "accounts/signin_mfa_setup.html", form, attempt=attempt, totp=_totp_context(secret)
    )


@sensitive_post_parameters("new_password")
@csrf_protect
@never_cache
@signin_step("NEW_PASSWORD_REQUIRED")
def signin_new_password(request: HttpRequest, attempt: SigninAttempt) -> HttpResponse:
    """Choose a password of your own at the first sign-in (NEW_PASSWORD_REQUIRED)."""
    if attempt.challenge.unsupported_attributes:
        # The pool requires attributes this site may not send: fail closed, say so.
        signin_attempt_pop(request.session)
        return _error_page(request, "This account needs details this site cannot collect.", 400)
    form = NewPasswordForm(request.POST or None, attempt=attempt, address=client_address(request))
    if request.method == "POST" and form.is_valid():
        return _signin_continue(request, form.result, attempt=attempt)
    policy = password_policy_get()
    return _step_page(
        request, "accounts/signin_new_password.html", form, attempt=attempt, policy=policy
    )


@sensitive_post_parameters("answer_text")
@csrf_protect
@never_cache
@signin_step("CUSTOM_CHALLENGE")
def signin_custom(request: HttpRequest, attempt: SigninAttempt) -> HttpResponse:
    """The pool's own challenge (CUSTOM_CHALLENGE): here, the code it sent by email."""
    form = CustomChallengeForm(
        request.POST or None, attempt=attempt, address=client_address(request)
    )
    if request.method == "POST" and form.is_valid():
        return _signin_continue(request, form.result, attempt=attempt)
    return _step_page(request, "accounts/signin_custom.html", form, attempt=attempt)


def sign_user_in(request: HttpRequest, tokens: Tokens, *, flow: str) -> User:
    """Sign the site user in the same way for every flow: verified claims, a new session key."""
    user = user_sync(claims=tokens.claims)
    auth_login(request, user, backend=backends.PATH)  # a new session key
    session_start(request.session, tokens, flow=flow)
    logger.info("event=signin flow=%s user_id=%s sub=%s", flow, user.pk, user.cognito_sub)
    return user


def _signin_continue(
    request: HttpRequest,
    result: Tokens | Challenge,
    *,
    attempt: SigninAttempt | None = None,
    next_url: str = "",
) -> HttpResponse:
    """Tokens: sign in and go on. A challenge: keep it for this attempt and show its step."""
    next_url = attempt.next_url if attempt else next_url
    if isinstance(result, Tokens):
        signin_attempt_pop(request.session)
        sign_user_in(request, result, flow=FLOW_API)
        return redirect(next_url)
    signin_attempt_save(
        request.session, result, next_url=next_url, attempt_id=attempt.id if attempt else None
    )
    return redirect(STEPS[result.name])


def _step_page(
    request: HttpRequest,
    template: str,
    form: ChallengeForm,
    *,
    attempt: SigninAttempt,
    **context: Any,
) -> HttpResponse:
    """The step's page; a failure that ends the attempt (stale, expired) restarts the sign-in."""
    if form.is_bound and form.errors:
        logger.warning(
            "event=challenge_failed challenge=%s reason=%s",
            attempt.challenge.name,
            form.failure_code,
        )
        if form.restart:
            signin_attempt_pop(request.session)
            messages.error(request, form.non_field_errors()[0])
            return redirect("accounts:signin")
    context |= {"challenge": attempt.challenge}
    return _form_page(request, template, form, **context)


def _mfa_setup_begin(request: HttpRequest, attempt: SigninAttempt) -> SigninAttempt | None:
    """A new authenticator secret for this sign-in, kept with the attempt until verified."""
    if "SOFTWARE_TOKEN_MFA" not in attempt.challenge.parameters.get("MFAS_CAN_SETUP", ""):
        messages.error(request, "This account needs an MFA setup this site cannot do.")
        signin_attempt_pop(request.session)
        return None
    try:
        secret = mfa_setup_start(challenge=attempt.challenge)
    except UserPoolError:
        messages.error(request, "We could not start the authenticator setup. Please sign in again.")
        signin_attempt_pop(request.session)
        return None
    challenge = replace(attempt.challenge, session=secret.session or attempt.challenge.session)
    return signin_attempt_save(
        request.session,
        challenge,
        next_url=attempt.next_url,
        attempt_id=attempt.id,
        totp_secret=secret.secret,
    )


def _to_account_step(request: HttpRequest, form: SigninForm) -> HttpResponse:
    """Cognito wants the account confirmed or its password reset first: go to that step."""
    username = form.cleaned_data["username"]
    messages.info(request, form.non_field_errors()[0])
    if form.failure_code == "user_not_confirmed":
        request.session[CONFIRMING_USERNAME] = username
        return redirect("accounts:signup_confirm")
    request.session[RESETTING_USERNAME] = username
    return redirect("accounts:password_forgot")


# --- self-service: sign-up, passwords, profile, MFA settings, sign out everywhere -----------------


def api_tokens_required(view: TokensView) -> Callable[[HttpRequest], HttpResponse]:
    """Signed in, with an access token that may call the user pools API for its own user."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest) -> HttpResponse:
        tokens = tokens_get(request.session)
        if tokens is None:
            return redirect_to_login(request.get_full_path(), "accounts:signin")
        if not _may_manage_account(tokens):
            return _error_page(request, _NO_ACCOUNT_SCOPE, 403)
        return view(request, tokens)

    return wrapper


# GetUser, ChangePassword and the like accept an access token only with this scope. API sign-in
# tokens always carry it; managed login's carry it only when COGNITO_SCOPES asks for it.
ACCOUNT_SCOPE = "aws.cognito.signin.user.admin"
_NO_ACCOUNT_SCOPE = (
    "Account settings need a sign-in on this site's own form: managed login was not asked for "
    "the scope that lets this site change your account."
)


def _may_manage_account(tokens: StoredTokens) -> bool:
    try:
        claims = token_validator().validate_access_token(tokens.access_token)
    except TokenInvalid:
        return False
    return ACCOUNT_SCOPE in str(claims.get("scope", "")).split()


def recent_proof_required(view: TokensView) -> TokensView:
    """Every POST needs a proof from the last REAUTHENTICATION_SECONDS, else the password first.

    For changes that could lock the owner out if a session were stolen: turning MFA off,
    replacing the authenticator, changing the email, adding a passkey.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
        if request.method == "POST" and not proof_is_recent(request.session):
            return _proof_ask(request)
        return view(request, tokens)

    return wrapper


def _proof_ask(request: HttpRequest) -> HttpResponse:
    """Off to the password page, which comes back to this page (the POST is not replayed)."""
    messages.info(request, "Please enter your password again to make this change.")
    return redirect(f"{reverse('accounts:reauthenticate')}?{urlencode({'next': request.path})}")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@api_tokens_required
def reauthenticate(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Enter the password again (checked by the pool), then go back to what you were doing."""
    form = ReauthenticateForm(
        request.POST or None,
        tokens=tokens,
        address=client_address(request),
        initial={"next": request.GET.get("next", "")},
    )
    if request.method == "POST" and form.is_valid():
        proof_record(request.session)
        logger.info("event=reauthenticated user_id=%s", request.user.pk)
        return redirect(form.next_url)
    if form.is_bound:
        logger.warning("event=reauthenticate_failed reason=%s", form.failure_code)
    return _form_page(request, "accounts/reauthenticate.html", form)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account (SignUp); the pool sends a confirmation code."""
    form = SignupForm(request.POST or None, address=client_address(request))
    if request.method == "POST" and form.is_valid():
        request.session[CONFIRMING_USERNAME] = form.cleaned_data["username"]
        if form.result is None:
            messages.success(request, "Your account is ready. Please sign in.")
            return redirect("accounts:signin")
        messages.info(
            request, f"We sent a code by {form.result.medium} to {form.result.destination}."
        )
        return redirect("accounts:signup_confirm")
    return _form_page(request, "accounts/signup.html", form, policy=password_policy_get())


@csrf_protect
@never_cache
def signup_confirm(request: HttpRequest) -> HttpResponse:
    """Enter the sign-up confirmation code (ConfirmSignUp)."""
    username = request.session.get(CONFIRMING_USERNAME)
    if not username:
        return redirect("accounts:signup")
    form = ConfirmSignupForm(
        request.POST or None, username=username, address=client_address(request)
    )
    if request.method == "POST" and form.is_valid():
        request.session.pop(CONFIRMING_USERNAME, None)
        messages.success(request, "Your account is confirmed. Please sign in.")
        return redirect(f"{reverse('accounts:signin')}?{urlencode({'username': username})}")
    return _form_page(request, "accounts/signup_confirm.html", form, username=username)


@require_POST
@csrf_protect
@never_cache
def signup_resend(request: HttpRequest) -> HttpResponse:
    """Send the confirmation code again (ResendConfirmationCode)."""
    username = request.session.get(CONFIRMING_USERNAME)
    if not username:
        return redirect("accounts:signup")
    form = ResendCodeForm(request.POST, username=username, address=client_address(request))
    if form.is_valid():
        messages.info(request, "We sent you a new code.")
    else:
        messages.error(request, form.non_field_errors()[0])
    return redirect("accounts:signup_confirm")


@csrf_protect
@never_cache
def password_forgot(request: HttpRequest) -> HttpResponse:
    """Ask for a reset code (ForgotPassword); the answer never says if the account exists."""
    initial = {"username": request.session.get(RESETTING_USERNAME, "")}
    form = ForgotPasswordForm(
        request.POST or None, address=client_address(request), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        request.session[RESETTING_USERNAME] = form.cleaned_data["username"]
        messages.info(request, "If that account exists, we sent it a code to reset its password.")
        return redirect("accounts:password_reset")
    return _form_page(request, "accounts/password_forgot.html", form)


@sensitive_post_parameters("code", "new_password")
@csrf_protect
@never_cache
def password_reset(request: HttpRequest) -> HttpResponse:
    """Set a new password with the reset code (ConfirmForgotPassword)."""
    username = request.session.get(RESETTING_USERNAME)
    if not username:
        return redirect("accounts:password_forgot")
    form = ResetPasswordForm(
        request.POST or None, username=username, address=client_address(request)
    )
    if request.method == "POST" and form.is_valid():
        request.session.pop(RESETTING_USERNAME, None)
        messages.success(request, "Your password is changed. Please sign in with it.")
        return redirect(f"{reverse('accounts:signin')}?{urlencode({'username': username})}")
    return _form_page(request, "accounts/password_reset.html", form, policy=password_policy_get())


@sensitive_post_parameters("old_password", "new_password")
@csrf_protect
@never_cache
@api_tokens_required
def password_change(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Change the password of the signed-in user (ChangePassword)."""
    form = ChangePasswordForm(request.POST or None, tokens=tokens, address=client_address(request))
    if request.method == "POST" and form.is_valid():
        messages.success(request, "Your password is changed.")
        return redirect("accounts:profile")
    return _form_page(request, "accounts/password_change.html", form, policy=password_policy_get())


@csrf_protect
@never_cache
@api_tokens_required
def profile(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Your details as the user pool keeps them (GetUser, UpdateUserAttributes)."""
    current = _profile_or_none(tokens)
    if current is None:
        return _error_page(request, _SESSION_ENDED, 401)
    form = ProfileForm(
        request.POST or None,
        tokens=tokens,
        address=client_address(request),
        initial=current.attributes,
    )
    if form.changes_email and not proof_is_recent(request.session):
        return _proof_ask(request)
    if request.method == "POST" and form.is_valid():
        if form.result is not None:  # a new email address: it counts once its code is entered
            messages.info(request, f"We sent a code to {form.result.destination}.")
            return redirect("accounts:profile_verify")
        messages.success(request, "Your details are saved.")
        return redirect("accounts:profile")
    return _form_page(request, "accounts/profile.html", form, profile=current)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@api_tokens_required
def profile_verify(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Enter the code sent to a new email address (VerifyUserAttribute)."""
    form = VerifyEmailForm(request.POST or None, tokens=tokens, address=client_address(request))
    if request.method == "POST" and form.is_valid():
        _email_sync(request, tokens)
        messages.success(request, "Your email address is verified.")
        return redirect("accounts:profile")
    return _form_page(request, "accounts/profile_verify.html", form)


@csrf_protect
@never_cache
@api_tokens_required
def mfa(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Turn second factors on or off and pick the preferred one (SetUserMFAPreference)."""
    current = _profile_or_none(tokens)
    if current is None:
        return _error_page(request, _SESSION_ENDED, 401)
    form = MfaSettingsForm(
        request.POST or None,
        profile=current,
        tokens=tokens,
        address=client_address(request),
    )
    if form.turns_factor_off and not proof_is_recent(request.session):
        return _proof_ask(request)
    if request.method == "POST" and form.is_valid():
        messages.success(request, "Your sign-in settings are saved.")
        return redirect("accounts:mfa")
    return _form_page(request, "accounts/mfa.html", form, profile=current)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@api_tokens_required
@recent_proof_required
def mfa_totp(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Set up (or replace) the authenticator app: a new secret on POST, a QR code, a first code."""
    if request.method == "POST" and "start" in request.POST:
        if _totp_enrolment_start(request, tokens) is None:
            return _error_page(request, _SESSION_ENDED, 401)
        return redirect("accounts:mfa_totp")
    stored = request.session.get(TOTP_ENROLMENT)
    if not stored:
        # A new secret is asked for with the button on the MFA page: a GET changes nothing.
        return redirect("accounts:mfa")
    secret = TotpSecret(**stored)
    form = TotpEnrolForm(request.POST or None, tokens=tokens, address=client_address(request))
    if request.method == "POST" and form.is_valid():
        request.session.pop(TOTP_ENROLMENT, None)
        messages.success(request, "Your authenticator app is set up. Turn it on below.")
        return redirect("accounts:mfa")
    return _form_page(request, "accounts/mfa_totp.html", form, totp=_totp_context(secret))


@require_POST
@csrf_protect
@never_cache
@api_tokens_required
def signout_everywhere(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Sign out on every device: the pool's tokens (GlobalSignOut), every session on this site,
    then this browser's managed-login session at the pool's /logout."""
    form = SignOutEverywhereForm(request.POST, tokens=tokens, address=client_address(request))
    if not form.is_valid() and form.failure_code != "not_authorized":
        return _error_page(request, form.non_field_errors()[0], form.failure_status)
    user = request.user
    user.sessions_end_everywhere()
    tokens_pop(request.session)
    auth_logout(request)
    logger.info("event=logout_everywhere user_id=%s", user.pk)
    messages.info(request, "You are signed out on every device.")
    return redirect(logout_url())


_SESSION_ENDED = "Your session has ended or cannot change account settings. Please sign in again."


def _form_page(
    request: HttpRequest, template: str, form: UserPoolForm, **context: Any
) -> HttpResponse:
    """The form's page; a bound form with errors answers with its failure's status."""
    if form.is_bound and form.errors and form.failure_code == "unexpected":
        return _error_page(request, form.non_field_errors()[0], form.failure_status)
    status = form.failure_status if form.is_bound and form.errors else 200
    return render(request, template, {"form": form, **context}, status=status)


def _error_page(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "accounts/error.html", {"message": message}, status=status)


def _profile_or_none(tokens: StoredTokens) -> Profile | None:
    try:
        return profile_get(access_token=tokens.access_token)
    except UserPoolError:
        return None


def _totp_enrolment_start(request: HttpRequest, tokens: StoredTokens) -> TotpSecret | None:
    """A new secret (AssociateSoftwareToken), kept server-side until its first code is checked."""
    try:
        secret = totp_associate(access_token=tokens.access_token, username=tokens.username)
    except UserPoolError:
        return None
    request.session[TOTP_ENROLMENT] = asdict(secret)
    return secret


def _totp_context(secret: TotpSecret) -> dict[str, Any]:
    """The QR code, drawn here as inline SVG (no third party sees the secret), and the secret."""
    qr = segno.make(secret.uri, error="m")
    # segno's SVG holds only the path of the code's modules: safe to inline.
    svg = mark_safe(qr.svg_inline(scale=4, title="QR code for your authenticator app"))  # noqa: S308
    grouped = " ".join(secret.secret[i : i + 4] for i in range(0, len(secret.secret), 4))
    return {"qr_svg": svg, "secret": grouped}


def _email_sync(request: HttpRequest, tokens: StoredTokens) -> None:
    """A verified email is an identity: the site user takes it now, not at the next refresh."""
    current = _profile_or_none(tokens)
    if current is not None and current.email_verified:
        User.objects.filter(pk=request.user.pk).update(email=current.attributes.get("email", ""))
