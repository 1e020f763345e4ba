"""Managed login's checks: where to go after signing in, and the authorization response."""

from __future__ import annotations

from typing import Any, NoReturn

from django import forms
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_variables

from accounts.errors import BoundaryError, status_of
from accounts.services import PendingLogin, login_complete
from accounts.session import pending_login_expired, pending_login_pop
from accounts.tokens import Tokens

TRY_AGAIN_LATER = "The sign-in service is not answering right now. Please try again in a moment."


class FailureMixin:
    """A form that fails with one coded non-field error: its message (`error_messages` by code,
    else `fallback`'s), and the code and HTTP status the view reads back."""

    error_messages: dict[str, str]

    def fail(self, code: str, *, fallback: str = "unexpected", **params: str) -> NoReturn:
        raise ValidationError(self.message(code, fallback=fallback), code=code, params=params)

    @classmethod
    def message(cls, code: str, *, fallback: str = "unexpected") -> str:
        """What this form tells the user when it fails for `code`."""
        return cls.error_messages.get(code) or cls.error_messages[fallback]

    @property
    def failure_code(self) -> str:
        errors = self.non_field_errors().as_data()  # type: ignore[attr-defined]
        return errors[0].code if errors else "invalid"

    @property
    def failure_status(self) -> int:
        return status_of(self.failure_code)


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


class CallbackForm(FailureMixin, forms.Form):
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
        # The pool's or the network's fault (timeout, unreachable, token endpoint, keys).
        "unexpected": TRY_AGAIN_LATER,
    }

    def __init__(self, data: Any, *, session: SessionBase) -> None:
        super().__init__(data)
        self.session = session
        self.pending: PendingLogin | None = None
        self.tokens: Tokens | None = None

    @sensitive_variables("code", "pending")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        state, code, error = cleaned.get("state"), cleaned.get("code"), cleaned.get("error")
        if not state:
            self.fail("state_missing")
        # Popped first, whatever follows: a state is good for one attempt only.
        pending = pending_login_pop(self.session, state)
        if pending is None:
            self.fail("state_unknown")
        if pending_login_expired(pending):
            self.fail("state_expired")
        # Before the error and the code are read (RFC 9207 section 2.4): `?iss=` sent empty or
        # too long counts as present, and is not our issuer.
        if "iss" in self.data and cleaned.get("iss") != settings.COGNITO_ISSUER:
            self.fail("issuer_mismatch")
        if error:
            code = "idp_error" if cleaned.get("error_description") else "authorize_error"
            self.fail(code, error=error)
        if not code:
            self.fail("code_missing")
        try:
            self.tokens = login_complete(code=code, pending=pending)
        except BoundaryError as failure:  # the token endpoint's, or the validator's
            self.fail(failure.code, fallback=failure.fallback)
        self.pending = pending
        return cleaned

    @property
    def failure_message(self) -> str:
        errors = self.non_field_errors()
        return errors[0] if errors else self.error_messages["state_missing"]
