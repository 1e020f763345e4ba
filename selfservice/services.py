"""Account self-service through the user pools API: sign-up, passwords, profile, MFA settings.

Calls go through signin.services' `call`, so failures leave as the same `UserPoolError` codes.
"""

from __future__ import annotations

from dataclasses import dataclass
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


# --- sign-up and passwords ----------------------------------------------------------------------


@sensitive_variables("password")
def signup_create(
    *, username: str, password: str, attributes: dict[str, str], address: str
) -> CodeDelivery | None:
    """Register a user; the pool sends a confirmation code (None when it confirmed them itself)."""
    response = call(
        "sign_up",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        Password=password,
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes_allowed(attributes).items()],
        UserContextData={"IpAddress": address},
        **secret_hash_param(username),
    )
    return None if response.get("UserConfirmed") else _delivery(response)


# Cognito's symbols for RequireSymbols (the user pools developer guide, "Password policies").
_SYMBOLS = frozenset("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")
_RULES = (
    ("RequireUppercase", "an upper-case letter", str.isupper),
    ("RequireLowercase", "a lower-case letter", str.islower),
    ("RequireNumbers", "a number", lambda char: char in "0123456789"),
    ("RequireSymbols", "a symbol", lambda char: char in _SYMBOLS),
)


@sensitive_variables("password")
def password_rules_broken(*, password: str) -> tuple[str, ...]:
    """The pool's password rules this password breaks, in words; () when the policy is unknown.

    Cognito's InvalidPasswordException names only the first broken rule: this names them all.
    """
    try:
        pool = call("describe_user_pool", UserPoolId=settings.COGNITO_USER_POOL_ID)["UserPool"]
        policy = pool["Policies"]["PasswordPolicy"]
    except (UserPoolError, KeyError):
        return ()
    minimum = int(policy.get("MinimumLength", 8))
    broken = [f"at least {minimum} characters"] if len(password) < minimum else []
    broken += [
        text
        for key, text, test in _RULES
        if policy.get(key) and not any(test(char) for char in password)
    ]
    return tuple(broken)


@sensitive_variables("code")
def signup_confirm(*, username: str, code: str, address: str) -> None:
    """Confirm a sign-up with the code the user received."""
    call(
        "confirm_sign_up",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        ConfirmationCode=code,
        UserContextData={"IpAddress": address},
        **secret_hash_param(username),
    )


def signup_code_resend(*, username: str, address: str) -> CodeDelivery | None:
    """Send the sign-up confirmation code again."""
    response = call(
        "resend_confirmation_code",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        UserContextData={"IpAddress": address},
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
            UserContextData={"IpAddress": address},
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
        UserContextData={"IpAddress": address},
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


def _delivery(response: dict[str, Any]) -> CodeDelivery | None:
    details = response.get("CodeDeliveryDetails") or {}
    if not details:
        return None
    return CodeDelivery(
        destination=str(details.get("Destination", "")),
        medium=str(details.get("DeliveryMedium", "")).lower(),
    )
