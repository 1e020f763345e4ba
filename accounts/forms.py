"""The checks of every sign-in and account page: each form's `clean()` makes its one call."""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable
from typing import Any, NoReturn

from django import forms
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_variables

from accounts import ratelimit, userpool
from accounts.services import (
    ManagedLoginError,
    PendingLogin,
    Tokens,
    login_complete,
    token_revoke,
)
from accounts.session import (
    SigninAttempt,
    StoredTokens,
    pending_login_expired,
    pending_login_pop,
)
from accounts.userpool import Profile, UserPoolError

_TRY_AGAIN_LATER = "The sign-in service is not answering right now. Please try again in a moment."


class LoginStartForm(forms.Form):
    """Where to go after signing in: a same-site path, or home."""

    next = forms.CharField(required=False, max_length=2000)
    # `?idp=<name>`: straight to that identity provider (a Cognito ProviderName).
    idp = forms.RegexField(regex=r"^[^_\s]{1,32}$", required=False)

    def clean_next(self) -> str:
        next_url = self.cleaned_data["next"]
        # Relative paths on this site only: no host is allowed, so `//evil`, `/\evil`,
        # `https://evil` and `javascript:` all fall back to home.
        if next_url.startswith("/") and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts=set(), require_https=False
        ):
            return next_url
        return resolve_url(settings.LOGIN_REDIRECT_URL)

    @property
    def identity_provider(self) -> str:
        return self.cleaned_data["idp"] if self.is_valid() else ""

    @property
    def next_url(self) -> str:
        return (
            self.cleaned_data["next"]
            if self.is_valid()
            else resolve_url(settings.LOGIN_REDIRECT_URL)
        )


class CallbackForm(forms.Form):
    """The authorization response: valid when its state is ours and its code gives good tokens."""

    state = forms.CharField(required=False, max_length=200)
    code = forms.CharField(required=False, max_length=2000)
    error = forms.CharField(required=False, max_length=200)
    error_description = forms.CharField(required=False, max_length=2000)
    # RFC 9207: the server that answered. Cognito does not send it today; when it is sent, it
    # must be our pool, or a response from another server is being passed off as the pool's.
    iss = forms.CharField(required=False, max_length=2000, strip=False)

    error_messages = {
        "state_missing": "This sign-in link is incomplete. Please sign in again.",
        "state_unknown": (
            "This sign-in was not started in this browser, or it was already finished. "
            "Please sign in again."
        ),
        "state_expired": "This sign-in took too long. Please sign in again.",
        "issuer_mismatch": (
            "This sign-in answer did not come from our sign-in service. Please sign in again."
        ),
        "authorize_error": "The sign-in page reported a problem (%(error)s). Please sign in again.",
        # Cognito reports a third-party IdP's refusal, or a cancel, with an error_description.
        "idp_error": (
            "Your identity provider did not sign you in: the sign-in was cancelled or refused. "
            "You can try again, or choose another way to sign in."
        ),
        "code_missing": "The sign-in page sent no authorization code. Please sign in again.",
        "invalid_grant": (
            "This sign-in link was already used or has expired. Please sign in again."
        ),
        "token_invalid": "We could not verify your sign-in. Please sign in again.",
        "incomplete_token_response": "We could not verify your sign-in. Please sign in again.",
        "token_endpoint_error": _TRY_AGAIN_LATER,
        "timeout": _TRY_AGAIN_LATER,
        "unreachable": _TRY_AGAIN_LATER,
        "jwks_unavailable": _TRY_AGAIN_LATER,
    }

    def __init__(self, data: Any, *, session: SessionBase) -> None:
        super().__init__(data)
        self.session = session
        self.pending: PendingLogin | None = None
        self.tokens: Tokens | None = None
        self.failure_status = 400

    @sensitive_variables("code", "pending")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        state, code, error = cleaned.get("state"), cleaned.get("code"), cleaned.get("error")
        if not state:
            self._fail("state_missing")
        # Popped first, whatever follows: a state is good for one attempt only.
        pending = pending_login_pop(self.session, state)
        if pending is None:
            self._fail("state_unknown")
        if pending_login_expired(pending):
            self._fail("state_expired")
        # Before the error and the code are read (RFC 9207 section 2.4): `?iss=` sent empty or
        # too long counts as present, and is not our issuer.
        if "iss" in self.data and cleaned.get("iss") != settings.COGNITO_ISSUER:
            self._fail("issuer_mismatch")
        if error:
            code = "idp_error" if cleaned.get("error_description") else "authorize_error"
            self._fail(code, error=error)
        if not code:
            self._fail("code_missing")
        try:
            self.tokens = login_complete(code=code, pending=pending)
        except ManagedLoginError as failure:
            self.failure_status = failure.status
            self._fail(failure.code)
        self.pending = pending
        return cleaned

    @property
    def failure_code(self) -> str:
        return self.non_field_errors().as_data()[0].code if self.non_field_errors() else "invalid"

    @property
    def failure_message(self) -> str:
        errors = self.non_field_errors()
        return errors[0] if errors else self.error_messages["state_missing"]

    def _fail(self, code: str, **params: str) -> NoReturn:
        raise ValidationError(self.error_messages[code], code=code, params=params or None)


# --- API sign-in and self-service ---------------------------------------------------------------

# Failures that count against the app-side rate limits: wrong passwords and wrong codes.
_COUNTED_FAILURES = {"not_authorized", "code_mismatch", "expired_code", "locked_out"}

# The outcomes every user-pools form can meet, whatever it does; each form adds its own.
_USERPOOL_ERRORS = {
    "rate_limited": "Too many attempts. Please wait a few minutes and try again.",
    "throttled": "Too many requests right now. Please wait a moment and try again.",
    "locked_out": "Too many failed attempts. Please wait a few minutes and try again.",
    "too_many_failed_attempts": "Too many wrong codes. Please start again in a few minutes.",
    "unavailable": _TRY_AGAIN_LATER,
    "jwks_unavailable": _TRY_AGAIN_LATER,
    "code_delivery_failed": "We could not send you a code just now. Please try again later.",
    "invalid_parameter": "Some of what you entered was not accepted. Please check it.",
    "rejected": "This request was refused. Please check what you entered.",
    "token_invalid": "We could not verify your sign-in. Please sign in again.",
    "incomplete_token_response": "We could not verify your sign-in. Please sign in again.",
    "token_revoked": "Your session has ended. Please sign in again.",
    "unexpected": "Something went wrong on our side. Please try again later.",
}
_WRONG_CODE = "That code is not right. Please check it and try again."
_EXPIRED_CODE = "That code has expired. Please ask for a new one."
_NO_CODE_SENT = (
    "We could not send a sign-in code for this account. Accounts with two-step sign-in use "
    "their password and second factor."
)


def _widget(
    testid: str, *, kind: type[forms.Widget] = forms.TextInput, **attrs: str
) -> forms.Widget:
    return kind(attrs={"data-testid": testid, **attrs})


def _code_field(testid: str = "confirmation-code") -> forms.CharField:
    return forms.CharField(
        label="Code",
        max_length=64,
        strip=True,
        widget=_widget(testid, autocomplete="one-time-code", inputmode="numeric"),
    )


def _new_password_field(label: str = "New password") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=256,
        strip=False,
        widget=_widget("new-password", kind=forms.PasswordInput, autocomplete="new-password"),
    )


class UserPoolForm(forms.Form):
    """A form whose `clean()` makes one user pools API call: `result` on success, else a failure.

    The failure's code (the app's, from `accounts.userpool`) picks this form's message and status.
    """

    error_messages: dict[str, str] = _USERPOOL_ERRORS

    def __init__(self, data: Any = None, *, address: str, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.address = address
        self.result: Any = None
        self.failure_status = 400

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
            self.fail("rate_limited", status=429)
        try:
            return service(**params)
        except UserPoolError as error:
            if error.code in _COUNTED_FAILURES:
                slot.keep()
            self.fail(error.code, status=error.status)
        finally:
            slot.release()

    def fail(self, code: str, *, status: int = 400) -> NoReturn:
        self.failure_status = status
        message = self.error_messages.get(code, self.error_messages["unexpected"])
        raise ValidationError(message, code=code)

    @property
    def failure_code(self) -> str:
        errors = self.non_field_errors().as_data()
        return errors[0].code if errors else "invalid"


class SignedInForm(UserPoolForm):
    """A form about the signed-in user's own account: its call carries their access token."""

    def __init__(
        self, data: Any = None, *, tokens: StoredTokens, address: str, **kwargs: Any
    ) -> None:
        super().__init__(data, address=address, **kwargs)
        self.access_token = tokens.access_token
        self.account = tokens.username


class PendingUsernameForm(UserPoolForm):
    """A step of sign-up or password reset, for the username the session keeps meanwhile."""

    def __init__(self, data: Any = None, *, username: str, address: str) -> None:
        super().__init__(data, address=address)
        self.username = username


class SigninForm(UserPoolForm):
    """Username and password: `result` is the user's tokens or the first challenge."""

    username = forms.CharField(
        max_length=128, widget=_widget("username", autocomplete="username", autofocus="")
    )
    password = forms.CharField(
        max_length=256,
        strip=False,
        widget=_widget("password", kind=forms.PasswordInput, autocomplete="current-password"),
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    error_messages = {
        **_USERPOOL_ERRORS,
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
                userpool.signin_start,
                limit=ratelimit.SIGNIN,
                account=username,
                username=username,
                password=password,
                address=self.address,
            )
        return cleaned

    @property
    def next_url(self) -> str:
        return LoginStartForm({"next": self.data.get("next", "")}).next_url


class CodeSigninForm(UserPoolForm):
    """The custom challenge (CUSTOM_AUTH): a one-time sign-in code sent to the user's email."""

    prefix = "code"  # shares the sign-in page with SigninForm
    username = forms.CharField(
        max_length=128, widget=_widget("code-username", autocomplete="username")
    )

    error_messages = {
        **_USERPOOL_ERRORS,
        # Also the answer for accounts with MFA, which the pool's trigger refuses: a code never
        # replaces their second factor. No password was given: saying more would tell anyone
        # which accounts exist and how they stand. The password form leads such accounts on.
        "not_authorized": _NO_CODE_SENT,
        "user_not_confirmed": _NO_CODE_SENT,
        "password_reset_required": _NO_CODE_SENT,
        "unsupported_challenge": "This account needs a sign-in step this site cannot do.",
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if username := cleaned.get("username"):
            self.result = self.call(
                userpool.custom_signin_start,
                limit=ratelimit.SEND,
                account=username,
                username=username,
                address=self.address,
            )
        return cleaned


class ChallengeForm(UserPoolForm):
    """One challenge step, valid only for the sign-in attempt the page was drawn for."""

    attempt = forms.CharField(max_length=64, widget=forms.HiddenInput)

    error_messages = {
        **_USERPOOL_ERRORS,
        "attempt_mismatch": "This sign-in page is out of date. Please sign in again.",
        "session_expired": "This sign-in took too long. Please sign in again.",
        "not_authorized": "This sign-in can no longer continue. Please sign in again.",
        "code_mismatch": _WRONG_CODE,
        "expired_code": _EXPIRED_CODE,
        "invalid_password": "That password does not meet the password policy below.",
        "unsupported_challenge": "This account needs a sign-in step this site cannot do.",
        "mfa_not_set_up": "This sign-in method is not set up for your account.",
        "mfa_required": (
            "This account has two-step sign-in: please sign in with your password and your "
            "second factor."
        ),
    }

    def __init__(self, data: Any = None, *, attempt: SigninAttempt, address: str) -> None:
        super().__init__(data, address=address, initial={"attempt": attempt.id})
        self.attempt = attempt

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
    """SOFTWARE_TOKEN_MFA, SMS_MFA or EMAIL_OTP: the code from the app, the SMS or the email."""

    code = _code_field("mfa-code")

    @sensitive_variables("cleaned")
    def answer(self, cleaned: dict[str, Any]) -> Any:
        challenge = self.attempt.challenge
        return self.call(
            userpool.challenge_answer,
            limit=ratelimit.MFA,
            account=challenge.username,
            challenge=challenge,
            answer=cleaned["code"],
            address=self.address,
        )


class SelectMfaForm(ChallengeForm):
    """SELECT_MFA_TYPE: which of the user's factors to use this time."""

    LABELS = {
        "SOFTWARE_TOKEN_MFA": "Authenticator app",
        "SMS_MFA": "Text message",
        "EMAIL_OTP": "Email",
    }
    choice = forms.ChoiceField(widget=forms.RadioSelect(attrs={"data-testid": "mfa-choice"}))

    def __init__(self, data: Any = None, *, attempt: SigninAttempt, address: str) -> None:
        super().__init__(data, attempt=attempt, address=address)
        self.fields["choice"].choices = [
            (name, self.LABELS[name]) for name in attempt.challenge.mfa_choices
        ]

    def answer(self, cleaned: dict[str, Any]) -> Any:
        return self.call(
            userpool.challenge_answer,
            challenge=self.attempt.challenge,
            answer=cleaned["choice"],
            address=self.address,
        )


class MfaSetupForm(ChallengeForm):
    """MFA_SETUP: the first code of the new authenticator secret."""

    code = _code_field("mfa-code")

    @sensitive_variables("cleaned")
    def answer(self, cleaned: dict[str, Any]) -> Any:
        challenge = self.attempt.challenge
        return self.call(
            userpool.mfa_setup_finish,
            limit=ratelimit.MFA,
            account=challenge.username,
            challenge=challenge,
            code=cleaned["code"],
            address=self.address,
        )


class NewPasswordForm(ChallengeForm):
    """NEW_PASSWORD_REQUIRED: a password of the user's own, and any attribute the pool requires."""

    new_password = _new_password_field()

    def __init__(self, data: Any = None, *, attempt: SigninAttempt, address: str) -> None:
        super().__init__(data, attempt=attempt, address=address)
        # Only allow-listed attributes get a field; others cannot be sent (see the view).
        for name in attempt.challenge.required_attributes:
            self.fields[name] = forms.CharField(
                label=name.replace("_", " ").capitalize(),
                max_length=2048,
                widget=_widget(name.replace("_", "-")),
            )

    @sensitive_variables("cleaned")
    def answer(self, cleaned: dict[str, Any]) -> Any:
        names = self.attempt.challenge.required_attributes
        return self.call(
            userpool.challenge_answer,
            challenge=self.attempt.challenge,
            answer=cleaned["new_password"],
            attributes={name: cleaned[name] for name in names},
            address=self.address,
        )


class CustomChallengeForm(ChallengeForm):
    """CUSTOM_CHALLENGE: the answer the pool's own challenge asks for (here, an emailed code)."""

    answer_text = forms.CharField(
        label="Sign-in code",
        max_length=128,
        widget=_widget("mfa-code", autocomplete="one-time-code"),
    )

    @sensitive_variables("cleaned", "result")
    def answer(self, cleaned: dict[str, Any]) -> Any:
        challenge = self.attempt.challenge
        result = self.call(
            userpool.challenge_answer,
            limit=ratelimit.MFA,
            account=challenge.username,
            challenge=challenge,
            answer=cleaned["answer_text"],
            address=self.address,
        )
        if isinstance(result, Tokens):
            self._second_factor_check(result)
        return result

    @sensitive_variables("tokens")
    def _second_factor_check(self, tokens: Tokens) -> None:
        """Refuse tokens that a code alone won for an account with MFA on.

        This site starts CUSTOM_AUTH without a password, so the emailed code was the only factor.
        Cognito leaves custom auth to the pool's DefineAuthChallenge trigger; the sample trigger
        refuses MFA accounts, and this check holds even when a pool's trigger does not.
        """
        profile = self.call(userpool.profile_get, access_token=tokens.access_token)
        if not profile.mfa_enabled:
            return
        # Dropped here either way (never shown to anyone); revoked too, if the pool answers.
        with contextlib.suppress(ManagedLoginError):
            token_revoke(refresh_token=tokens.refresh_token)
        self.fail("mfa_required")


class SignupForm(UserPoolForm):
    """A new account: `result` says where the confirmation code went (None: no code needed)."""

    username = forms.CharField(max_length=128, widget=_widget("username", autocomplete="username"))
    email = forms.EmailField(max_length=254, widget=_widget("email", autocomplete="email"))
    given_name = forms.CharField(
        required=False, max_length=256, widget=_widget("given-name", autocomplete="given-name")
    )
    family_name = forms.CharField(
        required=False, max_length=256, widget=_widget("family-name", autocomplete="family-name")
    )
    password = forms.CharField(
        max_length=256,
        strip=False,
        widget=_widget("password", kind=forms.PasswordInput, autocomplete="new-password"),
    )

    error_messages = {
        **_USERPOOL_ERRORS,
        "username_exists": "That username is taken. Please choose another.",
        "invalid_password": "That password does not meet the password policy below.",
        "not_authorized": "Sign-up is not open for this site.",
    }

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            self.result = self.call(
                userpool.signup_create,
                limit=ratelimit.SEND,
                account=cleaned["username"],
                username=cleaned["username"],
                password=cleaned["password"],
                attributes={name: cleaned[name] for name in ("email", "given_name", "family_name")},
                address=self.address,
            )
        return cleaned


class ConfirmSignupForm(PendingUsernameForm):
    """The sign-up confirmation code, for the username kept in the session."""

    code = _code_field()

    error_messages = {
        **_USERPOOL_ERRORS,
        "code_mismatch": _WRONG_CODE,
        "expired_code": _EXPIRED_CODE,
        "too_many_failed_attempts": "Too many wrong codes. Please ask for a new code.",
        "alias_exists": "An account with this email address already exists.",
        "not_authorized": "This account cannot be confirmed. It may be confirmed already.",
    }

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if code := cleaned.get("code"):
            self.call(
                userpool.signup_confirm,
                limit=ratelimit.CODE,
                account=self.username,
                username=self.username,
                code=code,
                address=self.address,
            )
        return cleaned


class ResendCodeForm(PendingUsernameForm):
    """Send the sign-up confirmation code again."""

    error_messages = {
        **_USERPOOL_ERRORS,
        "not_authorized": "This account is already confirmed. Please sign in.",
        "invalid_parameter": "This account is already confirmed. Please sign in.",
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.result = self.call(
            userpool.signup_code_resend,
            limit=ratelimit.SEND,
            account=self.username,
            username=self.username,
            address=self.address,
        )
        return cleaned


class ForgotPasswordForm(UserPoolForm):
    """Ask for a reset code; the answer is the same whether or not the account exists."""

    username = forms.CharField(max_length=128, widget=_widget("username", autocomplete="username"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if username := cleaned.get("username"):
            self.result = self.call(
                userpool.password_forgot,
                limit=ratelimit.SEND,
                account=username,
                username=username,
                address=self.address,
            )
        return cleaned


class ResetPasswordForm(PendingUsernameForm):
    """The reset code and a new password, for the username kept in the session."""

    code = _code_field()
    new_password = _new_password_field()

    error_messages = {
        **_USERPOOL_ERRORS,
        "code_mismatch": _WRONG_CODE,
        "expired_code": _EXPIRED_CODE,
        "too_many_failed_attempts": "Too many wrong codes. Please ask for a new code.",
        "invalid_password": "That password does not meet the password policy below.",
        # Unknown users get the same answer as a wrong code (PreventUserExistenceErrors).
        "not_authorized": _WRONG_CODE,
        "user_not_confirmed": "Please confirm your account first.",
    }

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            self.call(
                userpool.password_reset,
                limit=ratelimit.CODE,
                account=self.username,
                username=self.username,
                code=cleaned["code"],
                password=cleaned["new_password"],
                address=self.address,
            )
        return cleaned


class ChangePasswordForm(SignedInForm):
    """The signed-in user's current password and a new one."""

    old_password = forms.CharField(
        label="Current password",
        max_length=256,
        strip=False,
        widget=_widget("password", kind=forms.PasswordInput, autocomplete="current-password"),
    )
    new_password = _new_password_field()

    error_messages = {
        **_USERPOOL_ERRORS,
        "not_authorized": "Your current password is not right.",
        "invalid_password": "That password does not meet the password policy below.",
        "locked_out": "Too many failed attempts. Please wait a few minutes and try again.",
    }

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            self.call(
                userpool.password_change,
                limit=ratelimit.SIGNIN,
                account=self.account,
                access_token=self.access_token,
                old_password=cleaned["old_password"],
                new_password=cleaned["new_password"],
            )
        return cleaned


class ReauthenticateForm(SignedInForm):
    """The signed-in user's password once more, checked against the pool: a fresh proof."""

    password = forms.CharField(
        max_length=256,
        strip=False,
        widget=_widget(
            "password", kind=forms.PasswordInput, autocomplete="current-password", autofocus=""
        ),
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    error_messages = {
        **_USERPOOL_ERRORS,
        "not_authorized": "That password is not right.",
        "password_reset_required": "You must choose a new password: sign out and reset it.",
    }

    @sensitive_variables("cleaned", "password", "result")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if password := cleaned.get("password"):
            # The pool checks the password by signing in again, as this user only. An MFA
            # challenge comes only after the password was accepted, so it proves the password.
            result = self.call(
                userpool.signin_start,
                limit=ratelimit.SIGNIN,
                account=self.account,
                username=self.account,
                password=password,
                address=self.address,
            )
            if isinstance(result, Tokens):
                with contextlib.suppress(ManagedLoginError):
                    token_revoke(refresh_token=result.refresh_token)  # a set nobody needs
        return cleaned

    @property
    def next_url(self) -> str:
        return LoginStartForm({"next": self.data.get("next", "")}).next_url


class ProfileForm(SignedInForm):
    """Allow-listed attributes only; a changed email address counts once its code is entered."""

    given_name = forms.CharField(
        required=False, max_length=256, widget=_widget("given-name", autocomplete="given-name")
    )
    family_name = forms.CharField(
        required=False, max_length=256, widget=_widget("family-name", autocomplete="family-name")
    )
    email = forms.EmailField(max_length=254, widget=_widget("email", autocomplete="email"))

    error_messages = {
        **_USERPOOL_ERRORS,
        "alias_exists": "An account with this email address already exists.",
        "not_authorized": "Your session has ended. Please sign in again.",
    }

    @property
    def changes_email(self) -> bool:
        """Whether this change needs a recent proof: a new email can take over the account."""
        return self.is_bound and "email" in self.changed_data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            changed = {name: cleaned[name] for name in self.changed_data}
            self.result = (
                self.call(
                    userpool.profile_update,
                    # A new email address is sent a code: limited as every send is.
                    limit=ratelimit.SEND if "email" in changed else None,
                    account=self.account,
                    access_token=self.access_token,
                    attributes=changed,
                )
                if changed
                else None
            )
        return cleaned


class VerifyEmailForm(SignedInForm):
    """The code sent to a new email address."""

    code = _code_field()

    error_messages = {
        **_USERPOOL_ERRORS,
        "code_mismatch": _WRONG_CODE,
        "expired_code": _EXPIRED_CODE,
        "not_authorized": "Your session has ended. Please sign in again.",
    }

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if code := cleaned.get("code"):
            self.call(
                userpool.email_verify,
                limit=ratelimit.CODE,
                account=self.account,
                access_token=self.access_token,
                code=code,
            )
        return cleaned


class MfaSettingsForm(SignedInForm):
    """Which second factors are on, and which one Cognito asks for first."""

    LABELS = {"totp": "Authenticator app", "sms": "Text message", "email": "Email"}
    enabled = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple(attrs={"data-testid": "mfa-enabled"})
    )
    preferred = forms.ChoiceField(
        required=False, widget=forms.RadioSelect(attrs={"data-testid": "mfa-preferred"})
    )

    error_messages = {
        **_USERPOOL_ERRORS,
        "preferred_not_enabled": "The preferred method must be one you turn on.",
        "mfa_not_set_up": "Set up an authenticator app first.",
        "invalid_parameter": "That method cannot be turned on for your account.",
        "not_authorized": "Your session has ended. Please sign in again.",
    }

    def __init__(
        self, data: Any = None, *, profile: Profile, tokens: StoredTokens, address: str
    ) -> None:
        initial = {"enabled": list(profile.mfa_enabled), "preferred": profile.mfa_preferred}
        super().__init__(data, tokens=tokens, address=address, initial=initial)
        self.kinds = [kind for kind in self.LABELS if kind != "sms" or "sms" in profile.mfa_enabled]
        choices = [(kind, self.LABELS[kind]) for kind in self.kinds]
        self.fields["enabled"].choices = choices
        self.fields["preferred"].choices = [("", "No preference"), *choices]

    @property
    def turns_factor_off(self) -> bool:
        """Whether this change turns off a factor that is on now: it needs a recent proof."""
        if not self.is_bound:
            return False
        widget = self.fields["enabled"].widget
        wanted = widget.value_from_datadict(self.data, self.files, self.add_prefix("enabled"))
        return bool(set(self.initial["enabled"]) - set(wanted or ()))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        enabled, preferred = set(cleaned["enabled"]), cleaned["preferred"] or None
        if preferred and preferred not in enabled:
            self.fail("preferred_not_enabled")
        self.call(
            userpool.mfa_update,
            access_token=self.access_token,
            kinds=set(self.kinds),
            enabled=enabled,
            preferred=preferred,
        )
        return cleaned


class TotpEnrolForm(SignedInForm):
    """The first code of a new authenticator secret, which then replaces the old one."""

    code = _code_field("mfa-code")

    error_messages = {
        **_USERPOOL_ERRORS,
        "code_mismatch": _WRONG_CODE,
        "not_authorized": "Your session has ended. Please sign in again.",
    }

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if code := cleaned.get("code"):
            self.call(
                userpool.totp_verify,
                limit=ratelimit.MFA,
                account=self.account,
                access_token=self.access_token,
                code=code,
            )
        return cleaned


class SignOutEverywhereForm(SignedInForm):
    """End every refresh token of this user at the pool, on every device (GlobalSignOut)."""

    error_messages = {**_USERPOOL_ERRORS, "not_authorized": "Your session has already ended."}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.call(userpool.signout_everywhere, access_token=self.access_token)
        return cleaned
