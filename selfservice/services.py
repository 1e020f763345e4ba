"""Account self-service through the user pools API: sign-up, passwords, profile, MFA settings.

Calls go through signin.services' `call`, so failures leave as the same `UserPoolError` codes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from signin.services import (
    FACTORS,
    TotpSecret,
    UserPoolError,
    attributes_allowed,
    call,
    secret_hash_param,
    totp_secret,
    user_context_data,
)

# The factor kinds (signin.services.STEPS) as GetUser names them, and SetUserMFAPreference's keys.
_FACTOR_OF = {name: factor for factor, name in FACTORS.items()}
_MFA_SETTINGS = {
    "totp": "SoftwareTokenMfaSettings",
    "sms": "SMSMfaSettings",
    "email": "EmailMfaSettings",
}


@dataclass(frozen=True)
class CodeDelivery:
    """Where Cognito sent a code, masked as Cognito masks it (`b***@e***`)."""

    destination: str
    medium: str


@dataclass(frozen=True)
class Profile:
    """The signed-in user as the pool sees them: allow-listed attributes and MFA settings."""

    username: str
    attributes: dict[str, str]
    email_verified: bool
    mfa_enabled: tuple[str, ...]
    mfa_preferred: str | None


@dataclass(frozen=True)
class AuthEvent:
    """One sign-in (or sign-up, password change) as the pool's threat protection recorded it."""

    id: str
    kind: str  # SignIn, SignUp, PasswordChange, ForgotPassword
    created: datetime
    address: str
    device: str  # the browser's user agent, when the app told the pool
    risk: str  # Low, Medium, High, or "" when the pool saw no risk
    decision: str  # NoRisk, AccountTakeover, Block
    outcome: str  # Pass, Fail, InProgress
    compromised: bool  # the password was on a list of leaked ones
    feedback: str  # Valid or Invalid once someone answered, else ""


@dataclass(frozen=True)
class Signup:
    """A new account: where its code went (None: the pool confirmed it itself), and the pool's
    Session that lets its confirmation sign the user in (server-side only; "" when none)."""

    delivery: CodeDelivery | None
    session: str


# The answers "This was me" and "This wasn't me" (AdminUpdateAuthEventFeedback's values).
FEEDBACK_VALUES = {"valid": "Valid", "invalid": "Invalid"}


# --- sign-up and passwords ----------------------------------------------------------------------


@sensitive_variables("password", "response")
def signup_create(
    *, username: str, password: str, attributes: dict[str, str], address: str
) -> Signup:
    """Register a user; the pool sends a confirmation code (unless it confirmed them itself)."""
    response = call(
        "sign_up",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        Password=password,
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes_allowed(attributes).items()],
        UserContextData=user_context_data(address),
        **secret_hash_param(username),
    )
    delivery = None if response.get("UserConfirmed") else _delivery(response)
    return Signup(delivery=delivery, session=str(response.get("Session") or ""))


@sensitive_variables("code", "session", "response")
def signup_confirm(*, username: str, code: str, address: str, session: str = "") -> str:
    """Confirm a sign-up with the code the user received.

    With SignUp's `session`, the pool answers a Session that signs the user in at once
    (signin.services.signup_signin); "" when it gives none.
    """
    response = call(
        "confirm_sign_up",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        ConfirmationCode=code,
        UserContextData=user_context_data(address),
        **({"Session": session} if session else {}),
        **secret_hash_param(username),
    )
    return str(response.get("Session") or "")


def signup_code_resend(*, username: str, address: str) -> CodeDelivery | None:
    """Send the sign-up confirmation code again."""
    response = call(
        "resend_confirmation_code",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        UserContextData=user_context_data(address),
        **secret_hash_param(username),
    )
    return _delivery(response)


def password_forgot(*, username: str, address: str) -> CodeDelivery | None:
    """Send a reset code; an unknown user looks the same from outside (no enumeration)."""
    try:
        response = call(
            "forgot_password",
            ClientId=settings.COGNITO_CLIENT_ID,
            Username=username,
            UserContextData=user_context_data(address),
            **secret_hash_param(username),
        )
    except UserPoolError as error:
        # A pool with LEGACY existence errors says "no such user"; the page must not.
        if error.code == "not_authorized":
            return None
        raise
    return _delivery(response)


@sensitive_variables("code", "password")
def password_reset(*, username: str, code: str, password: str, address: str) -> None:
    """Set a new password with the reset code."""
    call(
        "confirm_forgot_password",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        ConfirmationCode=code,
        Password=password,
        UserContextData=user_context_data(address),
        **secret_hash_param(username),
    )


@sensitive_variables("access_token", "old_password", "new_password")
def password_change(*, access_token: str, old_password: str, new_password: str) -> None:
    """Change the signed-in user's password."""
    call(
        "change_password",
        AccessToken=access_token,
        PreviousPassword=old_password,
        ProposedPassword=new_password,
    )


# --- profile and MFA ----------------------------------------------------------------------------


@sensitive_variables("access_token")
def profile_get(*, access_token: str) -> Profile:
    """The signed-in user's allow-listed attributes and MFA settings (GetUser)."""
    response = call("get_user", AccessToken=access_token)
    attributes = {a["Name"]: a["Value"] for a in response.get("UserAttributes", [])}
    return Profile(
        username=response["Username"],
        attributes=attributes_allowed(attributes),
        email_verified=attributes.get("email_verified") == "true",
        mfa_enabled=tuple(
            _FACTOR_OF[m] for m in response.get("UserMFASettingList") or [] if m in _FACTOR_OF
        ),
        mfa_preferred=_FACTOR_OF.get(response.get("PreferredMfaSetting") or ""),
    )


@sensitive_variables("access_token")
def profile_update(*, access_token: str, attributes: dict[str, str]) -> CodeDelivery | None:
    """Update allow-listed attributes; a new email needs its code before it counts."""
    response = call(
        "update_user_attributes",
        AccessToken=access_token,
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes_allowed(attributes).items()],
    )
    deliveries = response.get("CodeDeliveryDetailsList") or []
    return _delivery({"CodeDeliveryDetails": deliveries[0]}) if deliveries else None


@sensitive_variables("access_token", "code")
def email_verify(*, access_token: str, code: str) -> None:
    """Verify the email address with the code the pool sent to it."""
    call("verify_user_attribute", AccessToken=access_token, AttributeName="email", Code=code)


@sensitive_variables("access_token")
def mfa_update(
    *, access_token: str, kinds: set[str], enabled: set[str], preferred: str | None
) -> None:
    """Turn each MFA type of `kinds` (`totp`, `sms`, `email`) on or off; choose the preferred."""
    params = {
        _MFA_SETTINGS[kind]: {"Enabled": kind in enabled, "PreferredMfa": kind == preferred}
        for kind in kinds
    }
    call("set_user_mfa_preference", AccessToken=access_token, **params)


@sensitive_variables("access_token")
def totp_associate(*, access_token: str, username: str) -> TotpSecret:
    """A new authenticator secret for the signed-in user, in use once verified."""
    return totp_secret(
        call("associate_software_token", AccessToken=access_token), username=username
    )


@sensitive_variables("access_token", "code")
def totp_verify(*, access_token: str, code: str) -> None:
    """Check the first code of the new secret; the pool then uses it for TOTP."""
    response = call(
        "verify_software_token",
        AccessToken=access_token,
        UserCode=code,
        FriendlyDeviceName="Authenticator app",
    )
    if response.get("Status") != "SUCCESS":
        raise UserPoolError("code_mismatch")


@sensitive_variables("access_token")
def signout_everywhere(*, access_token: str) -> None:
    """End every session of this user (GlobalSignOut): all refresh tokens stop working."""
    call("global_sign_out", AccessToken=access_token)


# --- sign-in activity (threat protection) -------------------------------------------------------


def auth_events_list(*, username: str, limit: int = 20) -> list[AuthEvent]:
    """The user's newest auth events (AdminListUserAuthEvents, with the app's AWS credentials).

    `username` must come from the session's verified tokens, never from the request.
    """
    response = call(
        "admin_list_user_auth_events",
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=username,
        MaxResults=limit,
    )
    return [_auth_event(event) for event in response.get("AuthEvents") or []]


def auth_event_feedback_update(*, username: str, event_id: str, value: str) -> None:
    """Record "this was me" (valid) or "this wasn't me" (invalid) on one of the user's events."""
    call(
        "admin_update_auth_event_feedback",
        UserPoolId=settings.COGNITO_USER_POOL_ID,
        Username=username,
        EventId=event_id,
        FeedbackValue=FEEDBACK_VALUES[value],
    )


def _auth_event(event: dict[str, Any]) -> AuthEvent:
    risk = event.get("EventRisk") or {}
    context = event.get("EventContextData") or {}
    return AuthEvent(
        id=str(event.get("EventId", "")),
        kind=str(event.get("EventType", "")),
        created=event["CreationDate"],
        address=str(context.get("IpAddress", "")),
        device=str(context.get("DeviceName", "")),
        risk=str(risk.get("RiskLevel", "")),
        decision=str(risk.get("RiskDecision", "")),
        outcome=str(event.get("EventResponse", "")),
        compromised=bool(risk.get("CompromisedCredentialsDetected")),
        feedback=str((event.get("EventFeedback") or {}).get("FeedbackValue", "")),
    )


def _delivery(response: dict[str, Any]) -> CodeDelivery | None:
    details = response.get("CodeDeliveryDetails") or {}
    if not details:
        return None
    return CodeDelivery(
        destination=str(details.get("Destination", "")),
        medium=str(details.get("DeliveryMedium", "")).lower(),
    )


# --- passkeys -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Passkey:
    """One of the user's passkeys as ListWebAuthnCredentials describes it."""

    id: str
    name: str
    created_at: datetime
    attachment: str


@sensitive_variables("access_token")
def passkeys_list(*, access_token: str) -> list[Passkey]:
    """The user's passkeys, oldest first (ListWebAuthnCredentials, every page)."""
    passkeys: list[Passkey] = []
    params: dict[str, Any] = {"AccessToken": access_token, "MaxResults": 20}
    while True:
        response = call("list_web_authn_credentials", **params)
        for item in response.get("Credentials") or []:
            created = item.get("CreatedAt")
            passkeys.append(
                Passkey(
                    id=str(item.get("CredentialId", "")),
                    name=str(item.get("FriendlyCredentialName") or "Passkey"),
                    created_at=created if isinstance(created, datetime) else datetime.now(UTC),
                    attachment=str(item.get("AuthenticatorAttachment") or ""),
                )
            )
        if not response.get("NextToken"):
            return passkeys
        params["NextToken"] = response["NextToken"]


@sensitive_variables("access_token")
def passkey_registration_start(*, access_token: str) -> str:
    """The options for navigator.credentials.create(), as JSON (StartWebAuthnRegistration)."""
    response = call("start_web_authn_registration", AccessToken=access_token)
    return json.dumps(response["CredentialCreationOptions"])


@sensitive_variables("access_token")
def passkey_registration_finish(*, access_token: str, credential: str) -> None:
    """Hand the new passkey to the pool, which verifies it (CompleteWebAuthnRegistration)."""
    try:
        document = json.loads(credential)
    except ValueError:
        raise UserPoolError("invalid_parameter") from None
    if not isinstance(document, dict):
        raise UserPoolError("invalid_parameter")
    call("complete_web_authn_registration", AccessToken=access_token, Credential=document)


@sensitive_variables("access_token")
def passkey_delete(*, access_token: str, credential_id: str) -> None:
    """Remove one of the user's passkeys (DeleteWebAuthnCredential)."""
    call("delete_web_authn_credential", AccessToken=access_token, CredentialId=credential_id)


# --- remembered devices -------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    """One of the user's devices as ListDevices describes it."""

    key: str
    name: str
    remembered: bool
    created_at: datetime | None
    last_used_at: datetime | None


@sensitive_variables("access_token")
def devices_list(*, access_token: str) -> list[Device]:
    """The user's remembered devices (ListDevices, every page); others are not shown."""
    found: list[Device] = []
    params: dict[str, Any] = {"AccessToken": access_token, "Limit": 60}
    while True:
        response = call("list_devices", **params)
        for item in response.get("Devices") or []:
            attributes = {a["Name"]: a.get("Value", "") for a in item.get("DeviceAttributes", [])}
            device = Device(
                key=str(item.get("DeviceKey", "")),
                name=attributes.get("device_name") or "Unnamed device",
                remembered=attributes.get("dev:device_remembered_status") == "remembered",
                created_at=item.get("DeviceCreateDate"),
                last_used_at=item.get("DeviceLastAuthenticatedDate"),
            )
            if device.remembered:
                found.append(device)
        if not response.get("PaginationToken"):
            return found
        params["PaginationToken"] = response["PaginationToken"]


@sensitive_variables("access_token")
def device_forget(*, access_token: str, device_key: str) -> None:
    """Forget one of the user's devices (ForgetDevice): its next sign-in asks for MFA again."""
    call("forget_device", AccessToken=access_token, DeviceKey=device_key)
