"""Account self-service: sign-up, passwords, profile, MFA settings, sign out everywhere."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.errors import status_of
from accounts.models import User
from accounts.services import logout_url
from accounts.session import (
    PROVEN_AT,
    SIGNED_IN_WITH,
    StoredTokens,
    proof_record,
    sign_user_out,
    tokens_get,
    tokens_pop,
)
from accounts.tokens import TokenInvalid, token_validator
from federation.services import IdentityProvider, provider_named
from selfservice.forms import (
    AuthEventFeedbackForm,
    ChangePasswordForm,
    ConfirmSignupForm,
    DeviceForgetForm,
    ForgotPasswordForm,
    MfaSettingsForm,
    PasskeyAddForm,
    PasskeyRemoveForm,
    ProfileForm,
    ReauthenticateForm,
    ResendCodeForm,
    ResetPasswordForm,
    SignOutEverywhereForm,
    SignupForm,
    TotpEnrolForm,
    VerifyEmailForm,
)
from selfservice.services import (
    AuthEvent,
    Profile,
    auth_events_list,
    devices_list,
    passkeys_list,
    profile_get,
    totp_associate,
)
from signin import devices as signin_devices
from signin.forms import totp_context
from signin.services import TotpSecret, UserPoolError, password_policy_get
from signin.session import (
    CONFIRMING_USERNAME,
    RESETTING_USERNAME,
)
from signin.views import error_page, form_page, signin_continue

logger = logging.getLogger("accounts")

# A TOTP secret being enrolled from the MFA settings page, until its first code is checked.
TOTP_ENROLMENT = "selfservice.totp_enrolment"
# SignUp's Session and the username it is for, from sign-up to confirmation (server-side only).
SIGNUP_SESSION = "selfservice.signup_session"

TokensView = Callable[[HttpRequest, StoredTokens], HttpResponse]


def proof_is_recent(session: SessionBase) -> bool:
    """Whether the last proof is younger than REAUTHENTICATION_SECONDS."""
    proven_at = session.get(PROVEN_AT)
    return (
        isinstance(proven_at, float)
        and 0 <= time.time() - proven_at < settings.REAUTHENTICATION_SECONDS
    )


def api_tokens_required(view: TokensView) -> Callable[[HttpRequest], HttpResponse]:
    """Signed in, with an access token that may call the user pools API for its own user.

    Otherwise back to the account page, which says what this sign-in can and cannot change.
    """

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest) -> HttpResponse:
        tokens = tokens_get(request.session)
        if tokens is None:
            return redirect_to_login(request.get_full_path(), "signin:signin")
        if not _may_manage_account(tokens):
            messages.info(request, _NO_ACCOUNT_SCOPE)
            return redirect("selfservice:profile")
        return view(request, tokens)

    return wrapper


def password_sign_in_required(view: TokensView) -> TokensView:
    """For pages about the pool's own password and second factors, which a federated user's
    identity provider keeps instead: they are sent to the account page, which says so."""

    @wraps(view)
    def wrapper(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
        provider = federated_provider(request.session)
        if provider is not None:
            messages.info(request, _kept_by_idp(provider))
            return redirect("selfservice:profile")
        return view(request, tokens)

    return wrapper


# GetUser, ChangePassword and the like accept an access token only with this scope. API sign-in
# tokens always carry it; managed login's carry it only when COGNITO_SCOPES asks for it.
ACCOUNT_SCOPE = "aws.cognito.signin.user.admin"
_NO_ACCOUNT_SCOPE = (
    "This sign-in cannot change your account: the user pool lets a site change account "
    f"settings only with the {ACCOUNT_SCOPE} scope, and this sign-in did not get it."
)


def federated_provider(session: SessionBase) -> IdentityProvider | None:
    """The IdP a federated user signed in with (None for the pool's own users)."""
    signed_in_with = session.get(SIGNED_IN_WITH)
    return provider_named(signed_in_with["name"]) if signed_in_with else None


def _kept_by_idp(provider: IdentityProvider) -> str:
    return (
        f"You sign in with {provider.display_name}: your password and two-step verification "
        f"are kept there, not in this site's user pool."
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
    return redirect(f"{reverse('selfservice:reauthenticate')}?{urlencode({'next': request.path})}")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@api_tokens_required
@password_sign_in_required
def reauthenticate(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Enter the password again (checked by the pool), then go back to what you were doing."""
    form = ReauthenticateForm(
        request.POST or None,
        tokens=tokens,
        request=request,
        initial={"next": request.GET.get("next", "")},
    )
    if request.method == "POST" and form.is_valid():
        proof_record(request.session)
        logger.info("event=reauthenticated user_id=%s", request.user.pk)
        return redirect(form.next_url)
    if form.is_bound:
        logger.warning("event=reauthenticate_failed reason=%s", form.failure_code)
    return form_page(request, "selfservice/reauthenticate.html", form)


def signin_as(username: str) -> HttpResponse:
    """Back to the sign-in form with the account's name filled in."""
    return redirect(f"{reverse('signin:signin')}?{urlencode({'username': username})}")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account (SignUp); the pool sends a confirmation code."""
    form = SignupForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        request.session[CONFIRMING_USERNAME] = username
        if form.result.delivery is None:
            messages.success(request, "Your account is ready. Please sign in.")
            return redirect("signin:signin")
        # For the confirmation in this browser, which may then sign the user in at once.
        request.session[SIGNUP_SESSION] = {"username": username, "session": form.result.session}
        delivery = form.result.delivery
        messages.info(request, f"We sent a code by {delivery.medium} to {delivery.destination}.")
        return redirect("selfservice:signup_confirm")
    return form_page(request, "selfservice/signup.html", form, policy=password_policy_get())


@csrf_protect
@never_cache
def signup_confirm(request: HttpRequest) -> HttpResponse:
    """Enter the sign-up code (ConfirmSignUp); in the browser that signed up, it signs in too."""
    username = request.session.get(CONFIRMING_USERNAME)
    if not username:
        return redirect("selfservice:signup")
    form = ConfirmSignupForm(
        request.POST or None,
        username=username,
        request=request,
        signup_session=_signup_session(request.session, username),
    )
    if request.method == "POST" and form.is_valid():
        request.session.pop(CONFIRMING_USERNAME, None)
        request.session.pop(SIGNUP_SESSION, None)
        if form.result is None:  # another browser, a lapsed Session: sign in as usual
            messages.success(request, "Your account is confirmed. Please sign in.")
            return signin_as(username)
        messages.success(request, "Your account is confirmed.")
        return signin_continue(
            request, form.result, next_url=resolve_url(settings.LOGIN_REDIRECT_URL)
        )
    return form_page(request, "selfservice/signup_confirm.html", form, username=username)


def _signup_session(session: SessionBase, username: str) -> str:
    """The pool's Session from this browser's sign-up of `username`, if that is who confirms."""
    kept = session.get(SIGNUP_SESSION) or {}
    return str(kept.get("session") or "") if kept.get("username") == username else ""


@require_POST
@csrf_protect
@never_cache
def signup_resend(request: HttpRequest) -> HttpResponse:
    """Send the confirmation code again (ResendConfirmationCode)."""
    username = request.session.get(CONFIRMING_USERNAME)
    if not username:
        return redirect("selfservice:signup")
    form = ResendCodeForm(request.POST, username=username, request=request)
    if form.is_valid():
        messages.info(request, "We sent you a new code.")
    else:
        messages.error(request, form.non_field_errors()[0])
    return redirect("selfservice:signup_confirm")


@csrf_protect
@never_cache
def password_forgot(request: HttpRequest) -> HttpResponse:
    """Ask for a reset code (ForgotPassword); the answer never says if the account exists."""
    initial = {"username": request.session.get(RESETTING_USERNAME, "")}
    form = ForgotPasswordForm(request.POST or None, request=request, initial=initial)
    if request.method == "POST" and form.is_valid():
        request.session[RESETTING_USERNAME] = form.cleaned_data["username"]
        messages.info(request, "If that account exists, we sent it a code to reset its password.")
        return redirect("selfservice:password_reset")
    return form_page(request, "selfservice/password_forgot.html", form)


@sensitive_post_parameters("code", "new_password")
@csrf_protect
@never_cache
def password_reset(request: HttpRequest) -> HttpResponse:
    """Set a new password with the reset code (ConfirmForgotPassword)."""
    username = request.session.get(RESETTING_USERNAME)
    if not username:
        return redirect("selfservice:password_forgot")
    form = ResetPasswordForm(request.POST or None, username=username, request=request)
    if request.method == "POST" and form.is_valid():
        request.session.pop(RESETTING_USERNAME, None)
        messages.success(request, "Your password is changed. Please sign in with it.")
        return signin_as(username)
    return form_page(request, "selfservice/password_reset.html", form, policy=password_policy_get())


@sensitive_post_parameters("old_password", "new_password")
@csrf_protect
@never_cache
@api_tokens_required
@password_sign_in_required
def password_change(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Change the password of the signed-in user (ChangePassword)."""
    form = ChangePasswordForm(request.POST or None, tokens=tokens, request=request)
    if request.method == "POST" and form.is_valid():
        messages.success(request, "Your password is changed.")
        return redirect("selfservice:profile")
    policy = password_policy_get()
    return form_page(request, "selfservice/password_change.html", form, policy=policy)


@csrf_protect
@never_cache
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Your details as the user pool keeps them (GetUser, UpdateUserAttributes).

    Every sign-in gets this page: without the account scope it shows what the ID token says and
    why nothing can be changed here; a federated user's IdP-owned attributes are read-only.
    """
    tokens = tokens_get(request.session)
    if tokens is None:
        return redirect_to_login(request.get_full_path(), "signin:signin")
    provider = federated_provider(request.session)
    if not _may_manage_account(tokens):
        context = {"provider": provider, "scope": ACCOUNT_SCOPE, "claims": _id_claims(tokens)}
        return render(request, "selfservice/profile_limited.html", context)
    current = _profile_or_none(tokens)
    if current is None:
        return error_page(request, _SESSION_ENDED, 401)
    form = ProfileForm(
        request.POST or None,
        tokens=tokens,
        request=request,
        initial=current.attributes,
        kept_by_idp=_idp_owned(provider),
    )
    if form.changes_email and not proof_is_recent(request.session):
        return _proof_ask(request)
    if request.method == "POST" and form.is_valid():
        if form.result is not None:  # a new email address: it counts once its code is entered
            messages.info(request, f"We sent a code to {form.result.destination}.")
            return redirect("selfservice:profile_verify")
        messages.success(request, "Your details are saved.")
        return redirect("selfservice:profile")
    return form_page(
        request,
        "selfservice/profile.html",
        form,
        profile=current,
        provider=provider,
        kept_by_idp=provider and _kept_by_idp(provider),
    )


def _id_claims(tokens: StoredTokens) -> dict[str, object]:
    """What the ID token says about the user: all a page may show without the account scope."""
    try:
        return token_validator().validate_id_token(tokens.id_token)
    except TokenInvalid:
        return {}


def _idp_owned(provider: IdentityProvider | None) -> tuple[str, ...]:
    """The attributes the IdP overwrites at every sign-in: all, when its mapping is unknown."""
    if provider is None:
        return ()
    if provider.mapped_attributes is None:
        return tuple(settings.COGNITO_USER_ATTRIBUTES)
    return provider.mapped_attributes


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@api_tokens_required
def profile_verify(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Enter the code sent to a new email address (VerifyUserAttribute)."""
    form = VerifyEmailForm(request.POST or None, tokens=tokens, request=request)
    if request.method == "POST" and form.is_valid():
        _email_sync(request, tokens)
        messages.success(request, "Your email address is verified.")
        return redirect("selfservice:profile")
    return form_page(request, "selfservice/profile_verify.html", form)


@csrf_protect
@never_cache
@api_tokens_required
@password_sign_in_required
def mfa(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Turn second factors on or off and pick the preferred one (SetUserMFAPreference)."""
    current = _profile_or_none(tokens)
    if current is None:
        return error_page(request, _SESSION_ENDED, 401)
    form = MfaSettingsForm(
        request.POST or None,
        profile=current,
        tokens=tokens,
        request=request,
    )
    if form.turns_factor_off and not proof_is_recent(request.session):
        return _proof_ask(request)
    if request.method == "POST" and form.is_valid():
        messages.success(request, "Your sign-in settings are saved.")
        return redirect("selfservice:mfa")
    return form_page(request, "selfservice/mfa.html", form, profile=current)


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@api_tokens_required
@password_sign_in_required
@recent_proof_required
def mfa_totp(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Set up (or replace) the authenticator app: a new secret on POST, a QR code, a first code."""
    if request.method == "POST" and "start" in request.POST:
        if _totp_enrolment_start(request, tokens) is None:
            return error_page(request, _SESSION_ENDED, 401)
        return redirect("selfservice:mfa_totp")
    stored = request.session.get(TOTP_ENROLMENT)
    if not stored:
        # A new secret is asked for with the button on the MFA page: a GET changes nothing.
        return redirect("selfservice:mfa")
    secret = TotpSecret(**stored)
    form = TotpEnrolForm(request.POST or None, tokens=tokens, request=request)
    if request.method == "POST" and form.is_valid():
        request.session.pop(TOTP_ENROLMENT, None)
        current = _profile_or_none(tokens)
        if current is not None and "totp" in current.mfa_enabled:  # a replacement: still on
            messages.success(request, "Your new authenticator app is set up and on.")
        else:
            messages.success(request, "Your authenticator app is set up. Turn it on below.")
        return redirect("selfservice:mfa")
    totp = totp_context(secret.secret, secret.uri)
    return form_page(request, "selfservice/mfa_totp.html", form, totp=totp)


@require_POST
@csrf_protect
@never_cache
@api_tokens_required
def signout_everywhere(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Sign out on every device: the pool's tokens (GlobalSignOut), every session on this site,
    then this browser's managed-login session at the pool's /logout."""
    form = SignOutEverywhereForm(request.POST, tokens=tokens, request=request)
    if not form.is_valid() and form.failure_code != "not_authorized":
        return error_page(request, form.non_field_errors()[0], form.failure_status)
    user = request.user
    user.sessions_end_everywhere()
    tokens_pop(request.session)
    auth_logout(request)
    logger.info("event=logout_everywhere user_id=%s", user.pk)
    messages.info(request, "You are signed out on every device.")
    return redirect(logout_url())


@csrf_protect
@never_cache
@api_tokens_required
def activity(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Recent sign-in activity (AdminListUserAuthEvents), each with "This was me" or not."""
    form = AuthEventFeedbackForm(request.POST or None, tokens=tokens, request=request)
    if request.method == "POST" and form.is_valid():
        messages.success(request, _FEEDBACK_RECORDED[form.cleaned_data["feedback"]])
        return redirect("selfservice:activity")
    events, failure = _auth_events_or_failure(tokens)
    return form_page(
        request, "selfservice/activity.html", form, events=events, events_failure=failure
    )


_FEEDBACK_RECORDED = {
    "valid": "Thank you: that sign-in is marked as yours.",
    "invalid": (
        "That sign-in is marked as not yours. Please change your password now, then sign out "
        "on every device."
    ),
}


def _auth_events_or_failure(tokens: StoredTokens) -> tuple[list[AuthEvent], str]:
    """The session user's own events (the username comes from its tokens), or why there are none."""
    try:
        return auth_events_list(username=tokens.username), ""
    except UserPoolError as failure:
        return [], AuthEventFeedbackForm.message(failure.code)


@csrf_protect
@never_cache
@api_tokens_required
def passkeys(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Your passkeys, with their names and dates (ListWebAuthnCredentials)."""
    try:
        listed = passkeys_list(access_token=tokens.access_token)
    except UserPoolError as failure:
        return error_page(request, PasskeyAddForm.message(failure.code), status_of(failure.code))
    context = {"passkeys": listed, "host_hint": _passkey_host_hint(request)}
    return render(request, "selfservice/passkeys.html", context)


@sensitive_post_parameters("credential")
@csrf_protect
@never_cache
@api_tokens_required
@recent_proof_required
def passkey_add(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Add a passkey: the pool's options, the browser's passkey, the pool's check of it.

    StartWebAuthnRegistration, navigator.credentials.create() (static/webauthn.js), then
    CompleteWebAuthnRegistration. Behind a recent proof: a stolen session must not add a key.
    """
    if request.method != "POST":
        return redirect("selfservice:passkeys")
    form = PasskeyAddForm(request.POST, tokens=tokens, request=request)
    if not form.is_valid():
        logger.warning("event=passkey_add_failed reason=%s", form.failure_code)
        messages.error(request, _first_error(form))
        return redirect("selfservice:passkeys")
    if form.result is not None:  # the pool's options: now the browser makes the passkey
        context = {"options": form.result, "form": PasskeyAddForm(tokens=tokens, request=request)}
        return render(request, "selfservice/passkeys_add.html", context)
    messages.success(request, "Your passkey is added.")
    return redirect("selfservice:passkeys")


@require_POST
@csrf_protect
@never_cache
@api_tokens_required
def passkey_remove(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Remove one of your passkeys (DeleteWebAuthnCredential)."""
    form = PasskeyRemoveForm(request.POST, tokens=tokens, request=request)
    if form.is_valid():
        messages.success(request, "The passkey is removed.")
    else:
        messages.error(request, _first_error(form))
    return redirect("selfservice:passkeys")


@csrf_protect
@never_cache
@api_tokens_required
def devices(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Your remembered devices (ListDevices): where sign-in skips the second factor."""
    try:
        listed = devices_list(access_token=tokens.access_token)
    except UserPoolError as failure:
        return error_page(request, DeviceForgetForm.message(failure.code), status_of(failure.code))
    here = signin_devices.remembered_here(browser=signin_devices.browser_id(request))
    return render(request, "selfservice/devices.html", {"devices": listed, "here": here})


@require_POST
@csrf_protect
@never_cache
@api_tokens_required
def device_forget(request: HttpRequest, tokens: StoredTokens) -> HttpResponse:
    """Forget a device (ForgetDevice), and this site's secret for it."""
    form = DeviceForgetForm(request.POST, tokens=tokens, request=request)
    if form.is_valid():
        key = form.cleaned_data["device_key"]
        here = key in signin_devices.remembered_here(browser=signin_devices.browser_id(request))
        signin_devices.device_drop(device_key=key)
        if here:
            # This session's refresh token is tied to the device (its DEVICE_KEY): it would end
            # at the next refresh anyway, so it ends now, said plainly, not as a surprise later.
            sign_user_out(request)
            messages.success(request, _FORGOTTEN[here])
            return redirect("signin:signin")
        messages.success(request, _FORGOTTEN[here])
    else:
        messages.error(request, _first_error(form))
    return redirect("selfservice:devices")


# What forgetting a device means, said plainly: for this browser, or for another device.
_FORGOTTEN = {
    True: (
        "This browser is forgotten, and you are signed out here: your sign-in was tied to it. "
        "Your next sign-in here asks for your second factor again."
    ),
    False: "The device is forgotten: its next sign-in asks for your second factor again.",
}


def _first_error(form: PasskeyAddForm | PasskeyRemoveForm | DeviceForgetForm) -> str:
    errors = [*form.non_field_errors(), *(e for field in form.errors.values() for e in field)]
    return str(errors[0])


def _passkey_host_hint(request: HttpRequest) -> str:
    """Where passkeys work, when this page is open on an IP address (never a relying party)."""
    host = request.get_host().rsplit(":", 1)
    try:
        ipaddress.ip_address(host[0].strip("[]"))
    except ValueError:
        return ""
    port = f":{host[1]}" if len(host) > 1 else ""
    return f"{request.scheme}://localhost{port}{request.path}"


_SESSION_ENDED = "Your session has ended or cannot change account settings. Please sign in again."


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


def _email_sync(request: HttpRequest, tokens: StoredTokens) -> None:
    """A verified email is an identity: the site user takes it now, not at the next refresh."""
    current = _profile_or_none(tokens)
    if current is not None and current.email_verified:
        User.objects.filter(pk=request.user.pk).update(email=current.attributes.get("email", ""))
