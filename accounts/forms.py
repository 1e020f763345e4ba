"""The checks of managed login: a safe `next`, and everything the callback must verify."""

from __future__ import annotations

from typing import Any, NoReturn

from django import forms
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from accounts.services import ManagedLoginError, PendingLogin, Tokens, login_complete, user_sync
from accounts.session import pending_login_expired, pending_login_pop

_TRY_AGAIN_LATER = "The sign-in service is not answering right now. Please try again in a moment."


class LoginStartForm(forms.Form):
    """Where to go after signing in: a same-site path, or home."""

    next = forms.CharField(required=False, max_length=2000)

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

    error_messages = {
        "state_missing": "This sign-in link is incomplete. Please sign in again.",
        "state_unknown": (
            "This sign-in was not started in this browser, or it was already finished. "
            "Please sign in again."
        ),
        "state_expired": "This sign-in took too long. Please sign in again.",
        "authorize_error": "The sign-in page reported a problem (%(error)s). Please sign in again.",
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
        if error:
            self._fail("authorize_error", error=error)
        if not code:
            self._fail("code_missing")
        try:
            self.tokens = login_complete(code=code, pending=pending)
        except ManagedLoginError as failure:
            self.failure_status = failure.status
            self._fail(failure.code)
        self.pending = pending
        return cleaned

    def get_user(self) -> User:
        """The site user for the verified ID token."""
        return user_sync(claims=self.tokens.claims)

    @property
    def failure_code(self) -> str:
        return self.non_field_errors().as_data()[0].code if self.non_field_errors() else "invalid"

    @property
    def failure_message(self) -> str:
        errors = self.non_field_errors()
        return errors[0] if errors else self.error_messages["state_missing"]

    def _fail(self, code: str, **params: str) -> NoReturn:
        raise ValidationError(self.error_messages[code], code=code, params=params or None)
