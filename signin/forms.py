"""API sign-in's checks: the sign-in forms and one form per challenge step (`STEP_FORMS`).

Each form's `clean()` makes its one call; the base `UserPoolForm` is shared with selfservice.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

import segno
from django import forms
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils.safestring import mark_safe
from django.views.decorators.debug import sensitive_variables

from accounts.errors import BoundaryError
from accounts.forms import TRY_AGAIN_LATER, FailureMixin, LoginStartForm
from accounts.services import ManagedLoginError, token_revoke
from accounts.tokens import Tokens
from signin import devices, ratelimit, services
from signin.ratelimit import client_address
from signin.session import SigninAttempt, signin_attempt_save

# The request headers the pool may see (ContextData.HttpHeaders): never Cookie or Authorization.
_CONTEXT_HEADERS = {"User-Agent": "HTTP_USER_AGENT", "Accept-Language": "HTTP_ACCEPT_LANGUAGE"}

# Second factors by the kind signin.services.STEPS names them.
FACTOR_LABELS = {"totp": "Authenticator app", "sms": "Text message", "email": "Email"}
# First factors of choice-based sign-in (signin.services.FIRST_FACTORS), as the buttons say them.
FIRST_FACTOR_LABELS = {
    "email": "Email me a code",
    "sms": "Text me a code",
    "passkey": "Sign in with a passkey",
}


# Failures that count against the app-side rate limits: wrong passwords and wrong codes.
COUNTED_FAILURES = {"not_authorized", "code_mismatch", "expired_code", "locked_out"}

# The outcomes every user-pools form can meet, whatever it does; each form adds its own.
USERPOOL_ERRORS = {
    "rate_limited": "Too many attempts. Please wait a few minutes and try again.",
    "throttled": "Too many requests right now. Please wait a moment and try again.",
    "locked_out": "Too many failed attempts. Please wait a few minutes and try again.",
    "too_many_failed_attempts": "Too many wrong codes. Please start again in a few minutes.",
    "unavailable": TRY_AGAIN_LATER,
    "jwks_unavailable": TRY_AGAIN_LATER,
    "code_delivery_failed": "We could not send you a code just now. Please try again later.",
    "invalid_parameter": "Some of what you entered was not accepted. Please check it.",
    "rejected": "This request was refused. Please check what you entered.",
    "token_invalid": "We could not verify your sign-in. Please sign in again.",
    "incomplete_token_response": "We could not verify your sign-in. Please sign in again.",
    "token_revoked": "Your session has ended. Please sign in again.",
    "unexpected": "Something went wrong on our side. Please try again later.",
    # Threat protection (cognito-facts: the pool's risk configuration).
    "blocked_by_risk": (
        "This sign-in was blocked for security reasons: it came from a network or device that "
        "looks risky. If this was you, try again from a network you usually use. If it was not "
        "you, reset your password now."
    ),
    "password_compromised": (
        "Your password appeared in a data breach on another site, so it can no longer be used "
        "here. Please choose a new password with a reset code we send you."
    ),
    "password_leaked": (
        "This password is known to have been leaked in a data breach elsewhere, so it cannot be "
        "used. Please choose a different password."
    ),
}
WRONG_CODE = "That code is not right. Please check it and try again."
EXPIRED_CODE = "That code has expired. Please ask for a new one."
NO_CODE_SENT = (
    "We could not send a sign-in code for this account. Accounts with two-step sign-in use "
    "their password and second factor."
)


def widget(
    testid: str, *, kind: type[forms.Widget] = forms.TextInput, **attrs: str
) -> forms.Widget:
    return kind(attrs={"data-testid": testid, **attrs})


def code_field(testid: str = "confirmation-code") -> forms.CharField:
    return forms.CharField(
        label="Code",
        max_length=64,
        strip=True,
        widget=widget(testid, autocomplete="one-time-code", inputmode="numeric"),
    )


def new_password_field(label: str = "New password") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=256,
        strip=False,
        widget=widget("new-password", kind=forms.PasswordInput, autocomplete="new-password"),
    )


class UserPoolForm(FailureMixin, forms.Form):
    """A form whose `clean()` makes one user pools API call: `result` on success, else a failure.

    The failure's code (the app's, from signin.services) picks this form's message; its status
    comes from accounts.errors. The form takes the request, as Django's AuthenticationForm does,
    for the client's address (rate limits, and the pool's UserContextData).
    """

    error_messages: dict[str, str] = USERPOOL_ERRORS

    def __init__(self, data: Any = None, *, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.request = request
        self.address = client_address(request)
        self.result: Any = None

    def call(
        self,
        service: Callable[..., Any],
        *,
        limit: str | None = None,
        account: str = "",
        **params: Any,
    ) -> Any:
        """Run the service; with `limit`, count it against the account and address, or refuse."""
        # Taken before the call, so parallel attempts cannot all pass a check made earlier.
        slot = (
            ratelimit.slot_take(scope=limit, account=account, address=self.address)
            if limit
            else ratelimit.Slot()
        )
        if slot is None:
            self.fail("rate_limited")
        try:
            with services.browser_context(browser_of(self.request)):
                return service(**params)
        except BoundaryError as error:  # the pool's (UserPoolError), or the validator's
            if error.code in COUNTED_FAILURES:
                slot.keep()
            self.fail(error.code, fallback=error.fallback)
        finally:
            slot.release()


def browser_of(request: HttpRequest) -> services.Browser:
    """The browser as the pool's threat protection sees it: safe headers and the page's path."""
    headers = tuple(
        (name, request.META[key][:256])
        for name, key in _CONTEXT_HEADERS.items()
        if key in request.META
    )
    return services.Browser(headers=headers, path=request.path)


class SigninForm(UserPoolForm):
    """Username and password: `result` is the user's tokens or the first challenge."""

    username = forms.CharField(
        max_length=128, widget=widget("username", autocomplete="username", autofocus="")
    )
    password = forms.CharField(
        max_length=256,
        strip=False,
        widget=widget("password", kind=forms.PasswordInput, autocomplete="current-password"),
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    error_messages = {
        **USERPOOL_ERRORS,
        # One message for "no such user" and "wrong password": accounts cannot be enumerated.
        "not_authorized": "Incorrect username or password.",
        "locked_out": "Too many failed attempts. Please wait a few minutes and try again.",
        "user_not_confirmed": "Please confirm your account first.",
        "password_reset_required": "You must choose a new password before you can sign in.",
        "unsupported_challenge": "This account needs a sign-in step this site cannot do.",
    }

    @sensitive_variables("cleaned", "password")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        username, password = cleaned.get("username"), cleaned.get("password")
        if username and password:
            self.result = self.call(
                services.signin_start,
                limit=ratelimit.SIGNIN,
                account=username,
                username=username,
                password=password,
                address=self.address,
                devices=devices.devices_for(browser=devices.browser_id(self.request)),
            )
            if getattr(self.result, "device_refused", "") == services.DEVICE_FORGOTTEN:
                devices.device_forgotten(
                    browser=devices.browser_id(self.request), username=_user_of(self.result)
                )
        return cleaned

    @property
    def next_url(self) -> str:
        return LoginStartForm({"next": self.data.get("next", "")}).next_url


class CodeSigninForm(UserPoolForm):
    """Sign in without a password (USER_AUTH): a code by email or text, a passkey, or a choice."""

    prefix = "code"  # shares the sign-in page with SigninForm
    username = forms.CharField(
        max_length=128, widget=widget("code-username", autocomplete="username webauthn")
    )
    # The button pressed; none (an older page) asks for an emailed code, as before USER_AUTH.
    # Hidden, never a field of its own: the button's value comes after it, and QueryDict.get
    # takes the last value.
    factor = forms.ChoiceField(
        required=False,
        choices=[(kind, kind) for kind in (*FIRST_FACTOR_LABELS, "choose")],
        widget=forms.HiddenInput,
    )

    error_messages = {
        **USERPOOL_ERRORS,
        # Also the answer for accounts with MFA, which the pool's trigger refuses: a code never
        # replaces their second factor. No password was given: saying more would tell anyone
        # which accounts exist and how they stand. The password form leads such accounts on.
        "not_authorized": NO_CODE_SENT,
        "user_not_confirmed": NO_CODE_SENT,
        "password_reset_required": NO_CODE_SENT,
        "unsupported_challenge": "This account needs a sign-in step this site cannot do.",
    }

    def __init__(self, data: Any = None, *, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(data, request=request, **kwargs)
        self.offered = services.first_factors_offered()
        self.fields["factor"].choices = [(k, k) for k in (*self.offered, "choose", "")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        factor = cleaned.get("factor") or "email"
        if (username := cleaned.get("username")) and not self.errors:
            self.result = self.call(
                services.first_factor_start,
                limit=ratelimit.SIGNIN if factor == "passkey" else ratelimit.SEND,
                account=username,
                username=username,
                factor="" if factor == "choose" else factor,
                address=self.address,
            )
        return cleaned


class ChallengeForm(UserPoolForm):
    """One challenge step, valid only for the sign-in attempt the page was drawn for."""

    step: ClassVar[str]  # the step it answers (signin.services.STEPS): URL name and template
    route: ClassVar[str]  # its URL path under accounts/

    attempt = forms.CharField(max_length=64, widget=forms.HiddenInput)

    error_messages = {
        **USERPOOL_ERRORS,
        "attempt_mismatch": "This sign-in page is out of date. Please sign in again.",
        "session_expired": "This sign-in took too long. Please sign in again.",
        "not_authorized": "This sign-in can no longer continue. Please sign in again.",
        "code_mismatch": WRONG_CODE,
        "expired_code": EXPIRED_CODE,
        "invalid_password": "That password does not meet the password policy below.",
        "unsupported_challenge": "This account needs a sign-in step this site cannot do.",
        "unsupported_attributes": "This account needs details this site cannot collect.",
        "mfa_not_set_up": "This sign-in method is not set up for your account.",
        "mfa_required": (
            "This account has two-step sign-in: please sign in with your password and your "
            "second factor."
        ),
    }

    def __init__(self, data: Any = None, *, attempt: SigninAttempt, request: HttpRequest) -> None:
        super().__init__(data, request=request, initial={"attempt": attempt.id})
        self.attempt = attempt

    @classmethod
    def prepare(cls, attempt: SigninAttempt, *, session: SessionBase) -> SigninAttempt:
        """Ready the attempt for this step before its page is drawn; UserPoolError ends it."""
        return attempt

    def context(self) -> dict[str, Any]:
        """What the step's template shows besides the form."""
        return {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
        given = str(cleaned.get("attempt", "")).encode()
        if not hmac.compare_digest(given, self.attempt.id.encode()):
            self.fail("attempt_mismatch")
        if self.errors:
            return cleaned
        self.result = self.answer(cleaned)
        return cleaned

    def answer(self, cleaned: dict[str, Any]) -> Any:
        raise NotImplementedError

    @sensitive_variables("params")
    def respond(
        self, service: Callable[..., Any], *, limit: str | None = None, **params: Any
    ) -> Any:
        """Call `service` on this attempt's challenge; `limit` counts it against the account."""
        challenge = self.attempt.challenge
        return self.call(
            service,
            limit=limit,
            account=challenge.username,
            challenge=challenge,
            address=self.address,
            **params,
        )

    @property
    def restart(self) -> bool:
        """Whether this failure ends the attempt: only a wrong or expired code keeps it open."""
        return self.failure_code in {
            "attempt_mismatch",
            "session_expired",
            "not_authorized",
            "unsupported_challenge",
            "mfa_required",
        }


class MfaCodeForm(ChallengeForm):
    """The code of a second factor: from the authenticator app, a text message or an email."""

    step, route = "mfa_code", "signin/mfa/"

    code = code_field("mfa-code")
    remember = forms.BooleanField(
        required=False,
        label="Remember this device (skip this step here next time)",
        widget=forms.CheckboxInput(attrs={"data-testid": "remember-device"}),
    )

    def __init__(self, data: Any = None, *, attempt: SigninAttempt, request: HttpRequest) -> None:
        super().__init__(data, attempt=attempt, request=request)
        self.browser_id = ""  # set when this answer remembered the device: the view sets the cookie
        if not services.remember_device_offered():
            del self.fields["remember"]  # the pool would ask for the second factor all the same

    @sensitive_variables("cleaned", "result", "secret")
    def answer(self, cleaned: dict[str, Any]) -> Any:
        challenge = self.attempt.challenge
        result = self.respond(
            services.challenge_answer, limit=ratelimit.MFA, answer=cleaned["code"]
        )
        if cleaned.get("remember") and isinstance(result, services.SignedIn) and result.new_device:
            browser = devices.browser_id(self.request) or devices.browser_id_new()
            secret = self.call(
                services.device_remember,
                access_token=result.access_token,
                new_device=result.new_device,
                name=_device_name(self.request),
            )
            username = str(result.claims.get("cognito:username") or challenge.username)
            devices.device_save(browser=browser, username=username, secret=secret)
            self.browser_id = browser
            result = replace(result, device_key=secret.key)
        return result


def _user_of(result: Tokens | services.Challenge) -> str:
    """The pool's internal username of a sign-in's result (not the name as typed)."""
    if isinstance(result, services.Challenge):
        return result.username
    return str(result.claims.get("cognito:username") or "")


def _device_name(request: HttpRequest) -> str:
    """The device's name in the account's list: the browser, as its User-Agent says."""
    agent = request.headers.get("User-Agent", "")[:80]
    return f"Web browser ({agent})" if agent else "Web browser"


class ChooseFactorForm(ChallengeForm):
    """Which of the user's second factors to use this time."""

    step, route = "choose_factor", "signin/mfa/select/"
    choice = forms.ChoiceField(widget=forms.RadioSelect(attrs={"data-testid": "mfa-choice"}))

    def __init__(self, data: Any = None, *, attempt: SigninAttempt, request: HttpRequest) -> None:
        super().__init__(data, attempt=attempt, request=request)
        self.fields["choice"].choices = [
            (factor, FACTOR_LABELS[factor]) for factor in attempt.challenge.factor_choices
        ]

    def answer(self, cleaned: dict[str, Any]) -> Any:
        return self.respond(services.challenge_answer, answer=cleaned["choice"])


class MfaSetupForm(ChallengeForm):
    """Set up an authenticator app before the first sign-in finishes: its first code."""

    step, route = "mfa_setup", "signin/mfa/setup/"
    code = code_field("mfa-code")

    @classmethod
    def prepare(cls, attempt: SigninAttempt, *, session: SessionBase) -> SigninAttempt:
        """A new authenticator secret for this sign-in, kept with the attempt until verified."""
        if attempt.totp_secret:
            return attempt
        secret = services.mfa_setup_start(challenge=attempt.challenge)
        challenge = replace(attempt.challenge, session=secret.session or attempt.challenge.session)
        return signin_attempt_save(
            session,
            challenge,
            next_url=attempt.next_url,
            attempt_id=attempt.id,
            totp_secret=secret.secret,
        )

    def context(self) -> dict[str, Any]:
        secret, username = self.attempt.totp_secret, self.attempt.challenge.username
        return {"totp": totp_context(secret, services.totp_uri(secret=secret, username=username))}

    @sensitive_variables("cleaned")
    def answer(self, cleaned: dict[str, Any]) -> Any:
        return self.respond(services.mfa_setup_finish, limit=ratelimit.MFA, code=cleaned["code"])


class PasswordRulesNamed(UserPoolForm):
    """A form that sets a password: when the pool refuses it, the error says which rules failed."""

    password_field = "new_password"

    @sensitive_variables("password")
    def _post_clean(self) -> None:
        super()._post_clean()
        if self.failure_code != "invalid_password":
            return
        password = str(self.data.get(self.add_prefix(self.password_field), ""))
        broken = services.password_rules_broken(password=password)
        if broken:
            message = (
                f"That password needs {_listed(broken)}: see the password rules under the fields."
            )
            error = forms.ValidationError(message, code="invalid_password")
            self._errors[forms.forms.NON_FIELD_ERRORS] = self.error_class(
                [error], error_class="nonfield", renderer=self.renderer
            )


def _listed(items: tuple[str, ...]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


class NewPasswordForm(PasswordRulesNamed, ChallengeForm):
    """A password of the user's own at the first sign-in, and any attribute the pool requires."""

    step, route = "new_password", "signin/new-password/"
    new_password = new_password_field()

    @classmethod
    def prepare(cls, attempt: SigninAttempt, *, session: SessionBase) -> SigninAttempt:
        if attempt.challenge.unsupported_attributes:
            # The pool requires attributes this site may not send: fail closed, say so.
            raise services.UserPoolError("unsupported_attributes")
        return attempt

    def context(self) -> dict[str, Any]:
        return {"policy": services.password_policy_get()}

    def __init__(self, data: Any = None, *, attempt: SigninAttempt, request: HttpRequest) -> None:
        super().__init__(data, attempt=attempt, request=request)
        # Only allow-listed attributes get a field; others cannot be sent (see `prepare`).
        for name in attempt.challenge.required_attributes:
            self.fields[name] = forms.CharField(
                label=name.replace("_", " ").capitalize(),
                max_length=2048,
                widget=widget(name.replace("_", "-")),
            )

    @sensitive_variables("cleaned")
    def answer(self, cleaned: dict[str, Any]) -> Any:
        names = self.attempt.challenge.required_attributes
        return self.respond(
            services.challenge_answer,
            answer=cleaned["new_password"],
            attributes={name: cleaned[name] for name in names},
        )


class FirstFactorCodeForm(ChallengeForm):
    """A sign-in code the pool emailed or texted instead of a password (USER_AUTH)."""

    code = code_field("mfa-code")

    @sensitive_variables("cleaned")
    def answer(self, cleaned: dict[str, Any]) -> Any:
        return code_answer(self, services.first_factor_answer, cleaned["code"])


class EmailCodeForm(FirstFactorCodeForm):
    step, route = "email_code", "signin/code/email/"


class SmsCodeForm(FirstFactorCodeForm):
    step, route = "sms_code", "signin/code/sms/"


class PasskeyForm(ChallengeForm):
    """The passkey's answer (navigator.credentials.get, by static/webauthn.js) to WEB_AUTHN."""

    step, route = "passkey", "signin/passkey/"
    credential = forms.CharField(
        max_length=20000, widget=forms.HiddenInput(attrs={"data-webauthn-result": ""})
    )

    error_messages = {
        **ChallengeForm.error_messages,
        "not_authorized": (
            "That passkey could not sign you in. Please try again, or sign in another way."
        ),
        "invalid_parameter": "Your browser's passkey answer was not accepted. Please try again.",
        "required": "Your browser sent no passkey. Please try again, or sign in another way.",
    }

    def context(self) -> dict[str, Any]:
        return {"options": self.attempt.challenge.request_options}

    def clean(self) -> dict[str, Any]:
        if not self.data.get("credential"):
            self.fail("required")
        return super().clean()

    def answer(self, cleaned: dict[str, Any]) -> Any:
        return self.respond(
            services.first_factor_answer, limit=ratelimit.MFA, answer=cleaned["credential"]
        )


class ChooseFirstFactorForm(ChallengeForm):
    """How to sign in (SELECT_CHALLENGE): every factor the pool offers, whatever the account.

    The pool's AvailableChallenges tell which the account may use; showing only those would
    tell anyone which accounts exist or have MFA, so an unusable choice leads to a decoy step.
    """

    step, route = "choose_first_factor", "signin/choose/"
    choice = forms.ChoiceField(widget=forms.RadioSelect(attrs={"data-testid": "first-factor"}))

    def __init__(self, data: Any = None, *, attempt: SigninAttempt, request: HttpRequest) -> None:
        super().__init__(data, attempt=attempt, request=request)
        self.fields["choice"].choices = [
            (kind, FIRST_FACTOR_LABELS[kind]) for kind in services.first_factors_offered()
        ]

    def context(self) -> dict[str, Any]:
        return {"username": self.attempt.challenge.username}

    def answer(self, cleaned: dict[str, Any]) -> Any:
        return self.respond(
            services.first_factor_answer, limit=ratelimit.SEND, answer=cleaned["choice"]
        )


class CustomChallengeForm(ChallengeForm):
    """The answer the pool's own challenge asks for (here, an emailed code)."""

    step, route = "custom_challenge", "signin/challenge/"

    answer_text = forms.CharField(
        label="Sign-in code",
        max_length=128,
        widget=widget("mfa-code", autocomplete="one-time-code"),
    )

    @sensitive_variables("cleaned")
    def answer(self, cleaned: dict[str, Any]) -> Any:
        return code_answer(self, services.challenge_answer, cleaned["answer_text"])


@sensitive_variables("code", "result")
def code_answer(form: ChallengeForm, service: Callable[..., Any], code: str) -> Any:
    """Answer the challenge with a code (limited as MFA codes are), then check the second factor."""
    result = form.respond(service, limit=ratelimit.MFA, answer=code)
    if isinstance(result, Tokens):
        second_factor_check(form, result)
    return result


@sensitive_variables("tokens")
def second_factor_check(form: ChallengeForm, tokens: Tokens) -> None:
    """Refuse tokens that a code alone won for an account with MFA on.

    A code sign-in gives no password, so the code was the only factor. Cognito offers codes only
    to accounts without MFA (USER_AUTH) and leaves custom auth to the pool's triggers; this
    check holds even when a pool does not.
    """
    if not form.call(services.mfa_enabled, access_token=tokens.access_token):
        return
    # Dropped here either way (never shown to anyone); revoked too, if the pool answers.
    with contextlib.suppress(ManagedLoginError):
        token_revoke(refresh_token=tokens.refresh_token)
    form.fail("mfa_required")


# The form of each step, by step name: the view, URL and template follow from it.
STEP_FORMS: dict[str, type[ChallengeForm]] = {
    form.step: form
    for form in (
        MfaCodeForm,
        ChooseFactorForm,
        MfaSetupForm,
        NewPasswordForm,
        CustomChallengeForm,
        ChooseFirstFactorForm,
        EmailCodeForm,
        SmsCodeForm,
        PasskeyForm,
    )
}


def totp_context(secret: str, uri: str) -> dict[str, Any]:
    """The QR code, drawn here as inline SVG (no third party sees the secret), and the secret."""
    qr = segno.make(uri, error="m")
    # segno's SVG holds only the path of the code's modules: safe to inline.
    svg = mark_safe(qr.svg_inline(scale=4, title="QR code for your authenticator app"))  # noqa: S308
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return {"qr_svg": svg, "secret": grouped}
