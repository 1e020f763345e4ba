"""Forms of the identity pages: each owns its check and keeps the outcome."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest

from accounts.session import tokens_get
from identity.services import (
    FLOW_BASIC,
    FLOW_DEVELOPER,
    FLOW_ENHANCED,
    IdentityCredentials,
    IdentityError,
    token_roles,
)
from identity.session import NoIdentity, credentials_choose

FLOW_LABELS = {
    FLOW_ENHANCED: "Enhanced flow: GetId, then GetCredentialsForIdentity",
    FLOW_BASIC: "Basic flow: GetId, GetOpenIdToken, then STS AssumeRoleWithWebIdentity",
    FLOW_DEVELOPER: "Developer-authenticated identity: the app vouches for you",
}


def role_name(role_arn: str) -> str:
    """`arn:aws:iam::123:role/path/name` -> `name`."""
    return role_arn.rsplit("/", 1)[-1]


class CredentialsForm(forms.Form):
    """New credentials for the signed-in user: which flow, and which role if there is a choice."""

    flow = forms.ChoiceField(required=False)
    role = forms.ChoiceField(required=False)

    error_messages = {
        "not_authorized": "The identity pool did not accept your sign-in. Sign in again.",
        "role_not_allowed": "That role cannot be assumed by your identity.",
        "flow_not_allowed": "The identity pool does not allow this flow.",
        "no_identity": "Sign in or continue as a guest first.",
        "unavailable": "The identity pool is not answering. Please try again shortly.",
    }

    def __init__(self, data: Any = None, *, request: HttpRequest) -> None:
        super().__init__(data)
        self.request = request
        self.result: IdentityCredentials | None = None
        self.fields["flow"].choices = [(flow, FLOW_LABELS[flow]) for flow in available_flows()]
        tokens_roles = _roles_of(request)
        self.fields["role"].choices = [("", "The pool's choice")] + [
            (arn, role_name(arn)) for arn in tokens_roles
        ]

    @property
    def has_role_choice(self) -> bool:
        return len(self.fields["role"].choices) > 2

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            self.result = credentials_choose(
                self.request, flow=data.get("flow") or None, role_arn=data.get("role") or None
            )
        except NoIdentity:
            raise forms.ValidationError(
                self.error_messages["no_identity"], code="no_identity"
            ) from None
        except IdentityError as error:
            code = error.code if error.code in self.error_messages else "unavailable"
            raise forms.ValidationError(self.error_messages[code], code=code) from None
        return data


def available_flows() -> list[str]:
    """The configured flow for signed-in users, and the developer path when configured."""
    flows = [settings.COGNITO_IDENTITY_FLOW]
    if settings.COGNITO_DEVELOPER_PROVIDER_NAME:
        flows.append(FLOW_DEVELOPER)
    return flows


def _roles_of(request: HttpRequest) -> tuple[str, ...]:
    tokens = tokens_get(request.session) if request.user.is_authenticated else None
    return token_roles(id_token=tokens.id_token) if tokens else ()
