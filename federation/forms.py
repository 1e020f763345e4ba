"""The checks of federated sign-in: which IdP an email address belongs to."""

from __future__ import annotations

from typing import NoReturn

from django import forms
from django.core.exceptions import ValidationError

from federation.services import IdentityProvider, provider_for_email


class WorkEmailForm(forms.Form):
    """An email address whose domain routes to the organisation's SAML or OIDC IdP."""

    email = forms.EmailField(
        label="Work email",
        max_length=254,
        widget=forms.EmailInput(attrs={"data-testid": "work-email", "autocomplete": "email"}),
    )

    error_messages = {
        "no_provider": "No organisation signs in here with that email address's domain.",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.provider: IdentityProvider | None = None

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        self.provider = provider_for_email(email)
        if self.provider is None:
            self._fail("no_provider")
        return email

    @property
    def idp_identifier(self) -> str:
        """What authorize's idp_identifier takes: the email's domain, as Cognito matches it."""
        return self.cleaned_data["email"].rpartition("@")[2].lower()

    def _fail(self, code: str) -> NoReturn:
        raise ValidationError(self.error_messages[code], code=code)
