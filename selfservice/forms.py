"""Self-service checks: each form's `clean()` makes its one user pools API call."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from accounts.errors import BoundaryError
from accounts.forms import LoginStartForm
from accounts.services import ManagedLoginError, token_revoke
from accounts.session import StoredTokens
from accounts.tokens import Tokens
from selfservice import services
from selfservice.services import Profile
from signin import ratelimit
from signin import services as signin_services
from signin.forms import (
    EXPIRED_CODE,
    FACTOR_LABELS,
    USERPOOL_ERRORS,
    WRONG_CODE,
    PasswordRulesNamed,
    UserPoolForm,
    browser_of,
    code_field,
    new_password_field,
    widget,
)

logger = logging.getLogger("accounts")


class SignedInForm(UserPoolForm):
    """A form about the signed-in user's own account: its call carries their access token."""

    def __init__(
        self, data: Any = None, *, tokens: StoredTokens, request: HttpRequest, **kwargs: Any
    ) -> None:
        super().__init__(data, request=request, **kwargs)
        self.access_token = tokens.access_token
        self.account = tokens.username


class PendingUsernameForm(UserPoolForm):
    """A step of sign-up or password reset, for the username the session keeps meanwhile."""

    def __init__(self, data: Any = None, *, username: str, request: HttpRequest) -> None:
        super().__init__(data, request=request)
        self.username = username


class SignupForm(PasswordRulesNamed):
    """A new account: `result` (services.Signup) says where the confirmation code went."""

    password_field = "password"

    username = forms.CharField(max_length=128, widget=widget("username", autocomplete="username"))
    email = forms.EmailField(max_length=254, widget=widget("email", autocomplete="email"))
    given_name = forms.CharField(
        required=False, max_length=256, widget=widget("given-name", autocomplete="given-name")
    )
    family_name = forms.CharField(
        required=False, max_length=256, widget=widget("family-name", autocomplete="family-name")
    )
    password = forms.CharField(
        max_length=256,
        strip=False,
        widget=widget("password", kind=forms.PasswordInput, autocomplete="new-password"),
    )

    error_messages = {
        **USERPOOL_ERRORS,
        "username_exists": "That username is taken. Please choose another.",
        "invalid_password": "That password does not meet the password rules under the fields.",
        "not_authorized": "Sign-up is not open for this site.",
    }

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            self.result = self.call(
                services.signup_create,
                limit=ratelimit.SEND,
                account=cleaned["username"],
                username=cleaned["username"],
                password=cleaned["password"],
                attributes={name: cleaned[name] for name in ("email", "given_name", "family_name")},
                address=self.address,
            )
        return cleaned


class ConfirmSignupForm(PendingUsernameForm):
    """The sign-up confirmation code, for the username kept in the session.

    With the sign-up's Session (`signup_session`, kept server-side since sign-up), `result` is
    the sign-in the confirmation earns: tokens or the first MFA step; None when there is none.
    """

    code = code_field()

    def __init__(
        self, data: Any = None, *, username: str, request: HttpRequest, signup_session: str = ""
    ) -> None:
        super().__init__(data, username=username, request=request)
        self.signup_session = signup_session

    error_messages = {
        **USERPOOL_ERRORS,
        "code_mismatch": WRONG_CODE,
        "expired_code": EXPIRED_CODE,
        "too_many_failed_attempts": "Too many wrong codes. Please ask for a new code.",
        "alias_exists": "An account with this email address already exists.",
        "not_authorized": "This account cannot be confirmed. It may be confirmed already.",
    }

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if code := cleaned.get("code"):
            session = self.call(
                services.signup_confirm,
                limit=ratelimit.CODE,
                account=self.username,
                username=self.username,
                code=code,
                address=self.address,
                session=self.signup_session,
            )
            if session:
                self.result = self._signed_in(session)
        return cleaned

    @sensitive_variables("session")
    def _signed_in(self, session: str) -> Tokens | signin_services.Challenge | None:
        """Sign in with the confirmation's Session; a refusal only means signing in as usual."""
        try:
            with signin_services.browser_context(browser_of(self.request)):
                return signin_services.signup_signin(
                    username=self.username, session=session, address=self.address
                )
        except BoundaryError as error:
            logger.info("event=signup_signin_failed reason=%s", error.code)
            return None


class ResendCodeForm(PendingUsernameForm):
    """Send the sign-up confirmation code again."""

    error_messages = {
        **USERPOOL_ERRORS,
        "not_authorized": "This account is already confirmed. Please sign in.",
        "invalid_parameter": "This account is already confirmed. Please sign in.",
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.result = self.call(
            services.signup_code_resend,
            limit=ratelimit.SEND,
            account=self.username,
            username=self.username,
            address=self.address,
        )
        return cleaned


class ForgotPasswordForm(UserPoolForm):
    """Ask for a reset code; the answer is the same whether or not the account exists."""

    username = forms.CharField(max_length=128, widget=widget("username", autocomplete="username"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if username := cleaned.get("username"):
            self.result = self.call(
                services.password_forgot,
                limit=ratelimit.SEND,
                account=username,
                username=username,
                address=self.address,
            )
        return cleaned


class ResetPasswordForm(PasswordRulesNamed, PendingUsernameForm):
    """The reset code and a new password, for the username kept in the session."""

    code = code_field()
    new_password = new_password_field()

    error_messages = {
        **USERPOOL_ERRORS,
        "code_mismatch": WRONG_CODE,
        "expired_code": EXPIRED_CODE,
        "too_many_failed_attempts": "Too many wrong codes. Please ask for a new code.",
        "invalid_password": "That password does not meet the password rules under the fields.",
        # Unknown users get the same answer as a wrong code (PreventUserExistenceErrors).
        "not_authorized": WRONG_CODE,
        "user_not_confirmed": "Please confirm your account first.",
    }

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            self.call(
                services.password_reset,
                limit=ratelimit.CODE,
                account=self.username,
                username=self.username,
                code=cleaned["code"],
                password=cleaned["new_password"],
                address=self.address,
            )
        return cleaned


class ChangePasswordForm(PasswordRulesNamed, SignedInForm):
    """The signed-in user's current password and a new one."""

    old_password = forms.CharField(
        label="Current password",
        max_length=256,
        strip=False,
        widget=widget("password", kind=forms.PasswordInput, autocomplete="current-password"),
    )
    new_password = new_password_field()

    error_messages = {
        **USERPOOL_ERRORS,
        "not_authorized": "Your current password is not right.",
        "invalid_password": "That password does not meet the password rules under the fields.",
        "locked_out": "Too many failed attempts. Please wait a few minutes and try again.",
    }

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            self.call(
                services.password_change,
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
        widget=widget(
            "password", kind=forms.PasswordInput, autocomplete="current-password", autofocus=""
        ),
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    error_messages = {
        **USERPOOL_ERRORS,
        "not_authorized": "That password is not right.",
        "password_reset_required": "You must choose a new password: sign out and reset it.",
        "password_compromised": (
            "Your password appeared in a data breach on another site, so it can no longer be "
            "used: sign out and reset it."
        ),
    }

    @sensitive_variables("cleaned", "password", "result")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if password := cleaned.get("password"):
            # The pool checks the password by signing in again, as this user only. An MFA
            # challenge comes only after the password was accepted, so it proves the password.
            result = self.call(
                signin_services.signin_start,
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
        required=False, max_length=256, widget=widget("given-name", autocomplete="given-name")
    )
    family_name = forms.CharField(
        required=False, max_length=256, widget=widget("family-name", autocomplete="family-name")
    )
    email = forms.EmailField(max_length=254, widget=widget("email", autocomplete="email"))

    error_messages = {
        **USERPOOL_ERRORS,
        "alias_exists": "An account with this email address already exists.",
        "not_authorized": "Your session has ended. Please sign in again.",
    }

    def __init__(
        self, data: Any = None, *, kept_by_idp: tuple[str, ...] = (), **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        # A federated user's IdP overwrites these at every sign-in: shown, never sent.
        for name in kept_by_idp:
            if name in self.fields:
                self.fields[name].disabled = True

    @property
    def editable(self) -> bool:
        """Whether anything here is this site's to change."""
        return any(not field.disabled for field in self.fields.values())

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
                    services.profile_update,
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


class SignedInCodeForm(SignedInForm):
    """A code, checked by one rate-limited call with the access token (`verify`, `limit`)."""

    code = code_field()
    verify: Callable[..., Any]
    limit: str

    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if code := cleaned.get("code"):
            self.call(
                type(self).verify,
                limit=self.limit,
                account=self.account,
                access_token=self.access_token,
                code=code,
            )
        return cleaned


class VerifyEmailForm(SignedInCodeForm):
    """The code sent to a new email address."""

    verify, limit = services.email_verify, ratelimit.CODE

    error_messages = {
        **USERPOOL_ERRORS,
        "code_mismatch": WRONG_CODE,
        "expired_code": EXPIRED_CODE,
        "not_authorized": "Your session has ended. Please sign in again.",
    }


class MfaSettingsForm(SignedInForm):
    """Which second factors are on, and which one Cognito asks for first."""

    LABELS = FACTOR_LABELS
    enabled = forms.MultipleChoiceField(
        label="Second factors that are on",
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"data-testid": "mfa-enabled"}),
    )
    preferred = forms.ChoiceField(
        label="Which one to ask for first",
        required=False,
        widget=forms.RadioSelect(attrs={"data-testid": "mfa-preferred"}),
    )

    error_messages = {
        **USERPOOL_ERRORS,
        "preferred_not_enabled": "The preferred method must be one you turn on.",
        "mfa_not_set_up": "Set up an authenticator app first.",
        "invalid_parameter": "That method cannot be turned on for your account.",
        "not_authorized": "Your session has ended. Please sign in again.",
    }

    def __init__(
        self, data: Any = None, *, profile: Profile, tokens: StoredTokens, request: HttpRequest
    ) -> None:
        initial = {"enabled": list(profile.mfa_enabled), "preferred": profile.mfa_preferred}
        super().__init__(data, tokens=tokens, request=request, initial=initial)
        self.kinds = [kind for kind in self.LABELS if kind != "sms" or "sms" in profile.mfa_enabled]
        choices = [(kind, self.LABELS[kind]) for kind in self.kinds]
        self.fields["enabled"].choices = choices
        self.fields["preferred"].choices = [("", "No preference"), *choices]

    @property
    def factors_on(self) -> list[str]:
        """The factors on now, in words: `Authenticator app (preferred)`."""
        preferred = self.initial["preferred"]
        return [
            f"{self.LABELS.get(kind, kind)}{' (preferred)' if kind == preferred else ''}"
            for kind in self.initial["enabled"]
        ]

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
            services.mfa_update,
            access_token=self.access_token,
            kinds=set(self.kinds),
            enabled=enabled,
            preferred=preferred,
        )
        return cleaned


class TotpEnrolForm(SignedInCodeForm):
    """The first code of a new authenticator secret, which then replaces the old one."""

    code = code_field("mfa-code")
    verify, limit = services.totp_verify, ratelimit.MFA

    error_messages = {
        **USERPOOL_ERRORS,
        "code_mismatch": WRONG_CODE,
        "not_authorized": "Your session has ended. Please sign in again.",
    }


class SignOutEverywhereForm(SignedInForm):
    """End every refresh token of this user at the pool, on every device (GlobalSignOut)."""

    error_messages = {**USERPOOL_ERRORS, "not_authorized": "Your session has already ended."}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.call(services.signout_everywhere, access_token=self.access_token)
        return cleaned


class AuthEventFeedbackForm(SignedInForm):
    """ "This was me" or "This wasn't me" on one of the signed-in user's own auth events."""

    event = forms.CharField(max_length=64, widget=forms.HiddenInput)
    feedback = forms.ChoiceField(choices=[(v, v) for v in services.FEEDBACK_VALUES])

    error_messages = {
        **USERPOOL_ERRORS,
        # Another user's event id is "not found" too: the pool looks it up under this user only.
        "not_found": "That sign-in is not in your recent activity.",
        "threat_protection_off": "Sign-in activity is not recorded for this site.",
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            self.call(
                services.auth_event_feedback_update,
                username=self.account,
                event_id=cleaned["event"],
                value=cleaned["feedback"],
            )
        return cleaned


PASSKEY_ERRORS = {
    **USERPOOL_ERRORS,
    "not_authorized": "Your session has ended. Please sign in again.",
    "passkey_expired": "This passkey request took too long or was already used. Please try again.",
    "passkey_wrong_site": (
        "Your browser made this passkey for another site name. Passkeys work when this site is "
        "opened on a host name such as localhost, not an IP address."
    ),
    "passkey_not_supported": "This passkey is already registered, or cannot be used here.",
    "passkeys_off": "Passkeys are not turned on for this site's user pool.",
    "invalid_parameter": "Your browser's passkey answer was not accepted. Please try again.",
    "not_found": "That passkey is not on your account (it may be removed already).",
}


class PasskeyAddForm(SignedInForm):
    """Add a passkey: no answer yet, the pool's creation options; the browser's answer, the passkey.

    `result` is the options (JSON) for navigator.credentials.create(), or None once added.
    """

    credential = forms.CharField(
        required=False,
        max_length=20000,
        widget=forms.HiddenInput(attrs={"data-webauthn-result": ""}),
    )

    error_messages = PASSKEY_ERRORS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if credential := cleaned.get("credential"):
            self.call(
                services.passkey_registration_finish,
                access_token=self.access_token,
                credential=credential,
            )
        else:
            self.result = self.call(
                services.passkey_registration_start, access_token=self.access_token
            )
        return cleaned


class PasskeyRemoveForm(SignedInForm):
    """Remove one of the user's passkeys, by its credential id."""

    credential_id = forms.CharField(max_length=1024, widget=forms.HiddenInput)

    error_messages = PASSKEY_ERRORS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if credential_id := cleaned.get("credential_id"):
            self.call(
                services.passkey_delete,
                access_token=self.access_token,
                credential_id=credential_id,
            )
        return cleaned


class DeviceForgetForm(SignedInForm):
    """Forget one of the user's remembered devices, by its key."""

    device_key = forms.CharField(max_length=128, widget=forms.HiddenInput)

    error_messages = {
        **USERPOOL_ERRORS,
        "not_authorized": "Your session has ended. Please sign in again.",
        "not_found": "That device is not on your account (it may be forgotten already).",
        "invalid_parameter": "That device is not on your account (it may be forgotten already).",
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if device_key := cleaned.get("device_key"):
            self.call(services.device_forget, access_token=self.access_token, device_key=device_key)
        return cleaned
