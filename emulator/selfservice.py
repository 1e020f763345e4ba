"""Account self-service: sign-up, password reset and change, attributes, TOTP, refresh, sign-out.

moto's SignUp confirms with any code (or none), has no ResendConfirmationCode, sends nothing,
never checks ForgotPassword codes, shares one TOTP secret, and lacks GetTokensFromRefreshToken;
here codes go to the inbox and are checked, and each user gets a TOTP secret of their own.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pyotp
from moto.cognitoidp.models import UserStatus

from emulator import challenges, codes, devices, passwords, pretoken, risk, userauth
from emulator.errors import (
    CodeMismatch,
    EnableSoftwareTokenMFA,
    ExpiredCode,
    InvalidParameter,
    NotAuthorized,
    RefreshTokenReuse,
    ResourceNotFound,
    UsernameExists,
    UserNotFound,
)
from emulator.mfa import TOTP_STEP_SECONDS
from emulator.native import (
    INCORRECT_CREDENTIALS,
    access_user,
    check_secret_hash,
    client_of,
    find_user,
    prevents_existence_errors,
    refresh_token_entry,
    rotate_out,
    rotated_out,
    rotating,
    session_tokens,
    sign_out_everywhere,
    text,
)
from emulator.tokens import new_opaque_token

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient

    from emulator.state import EmulatorState

NOT_FOUND_FOR_CLIENT = "Username/client id combination not found."
READ_ONLY_ATTRIBUTES = {"sub", "email_verified", "phone_number_verified"}


# Sign-up.


def sign_up(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """SignUp: an UNCONFIRMED user and a confirmation code in the inbox."""
    client = client_of(state, params)
    username = text(params, "Username")
    password = text(params, "Password")
    check_secret_hash(client, username=username, given=params.get("SecretHash"))
    attributes = {
        str(a.get("Name")): str(a.get("Value")) for a in params.get("UserAttributes") or []
    }
    result = register(state, client, username=username, password=password, attributes=attributes)
    user = find_user(state, username)
    if user is not None:
        # For ConfirmSignUp, whose own Session then signs the user in (USER_AUTH).
        result["Session"] = userauth.sign_up_session(state, client, user)
    return result


def register(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    *,
    username: str,
    password: str,
    attributes: dict[str, str],
) -> dict[str, Any]:
    """A new UNCONFIRMED user and a confirmation code (SignUp and the managed sign-up page)."""
    if find_user(state, username) is not None:
        raise UsernameExists("User already exists")
    passwords.check_policy(state.pool, password)
    risk.check_password(
        state, client_id=client.id, username=username, password=password, event="SIGN_UP"
    )
    user_attributes = [
        {"Name": name, "Value": value}
        for name, value in attributes.items()
        if name not in READ_ONLY_ATTRIBUTES
    ]
    user, _ = state.backend.sign_up(client.id, username, password, user_attributes)
    passwords.set_password(state, user, password)
    details = _send_confirmation(state, user)
    result: dict[str, Any] = {"UserConfirmed": False, "UserSub": user.id}
    if details:
        result["CodeDeliveryDetails"] = details
    return result


def confirm_sign_up(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """ConfirmSignUp: the code confirms the user; with SignUp's Session, a Session to sign in."""
    client = client_of(state, params)
    username = text(params, "Username")
    code = text(params, "ConfirmationCode")
    check_secret_hash(client, username=username, given=params.get("SecretHash"))
    user = confirm_registration(state, client, username=username, code=code)
    session = userauth.confirmed_session(
        state, client, user, text(params, "Session", required=False)
    )
    return {"Session": session} if session else {}


def confirm_registration(
    state: EmulatorState, client: CognitoIdpUserPoolClient, *, username: str, code: str
) -> CognitoIdpUser:
    """Check a sign-up code and confirm the user (ConfirmSignUp and the managed page)."""
    user = find_user(state, username)
    if user is None:
        if prevents_existence_errors(client):
            raise CodeMismatch(codes.CODE_MISMATCH)
        raise UserNotFound(NOT_FOUND_FOR_CLIENT)
    if user.status != UserStatus.UNCONFIRMED:
        raise NotAuthorized(f"User cannot be confirmed. Current status is {user.status.value}")
    issued = codes.redeem(state, purpose="signup", user=user, code=code)
    user.status = UserStatus.CONFIRMED
    verified = "email_verified" if "@" in issued.destination else "phone_number_verified"
    user.update_attributes([{"Name": verified, "Value": "true"}])
    return user


def resend_confirmation_code(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """ResendConfirmationCode: a new code replaces the old one."""
    client = client_of(state, params)
    username = text(params, "Username")
    check_secret_hash(client, username=username, given=params.get("SecretHash"))
    return resend_code(state, client, username=username)


def resend_code(
    state: EmulatorState, client: CognitoIdpUserPoolClient, *, username: str
) -> dict[str, Any]:
    """A new sign-up code replacing the old one (ResendConfirmationCode and the managed page)."""
    user = find_user(state, username)
    if user is None or not user.enabled:
        if prevents_existence_errors(client):
            return {"CodeDeliveryDetails": _simulated_delivery(username)}
        raise UserNotFound(NOT_FOUND_FOR_CLIENT)
    if user.status != UserStatus.UNCONFIRMED:
        raise InvalidParameter("User is already confirmed.")
    details = _send_confirmation(state, user)
    if details is None:
        raise InvalidParameter("No email or phone number to send the code to.")
    return {"CodeDeliveryDetails": details}


def _send_confirmation(state: EmulatorState, user: CognitoIdpUser) -> dict[str, str] | None:
    attributes = user.attribute_lookup
    destination = attributes.get("email") or attributes.get("phone_number")
    if not destination:
        return None
    return codes.issue(state, purpose="signup", user=user, to=destination)


def _simulated_delivery(username: str) -> dict[str, str]:
    """What an unknown user gets when the client hides which users exist."""
    return {
        "Destination": f"{username[:1] or 'u'}***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }


# Password reset and change.


def forgot_password(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """ForgotPassword: a reset code to the verified email (or phone)."""
    client = client_of(state, params)
    username = text(params, "Username")
    check_secret_hash(client, username=username, given=params.get("SecretHash"))
    return request_password_reset(state, client, username=username)


def request_password_reset(
    state: EmulatorState, client: CognitoIdpUserPoolClient, *, username: str
) -> dict[str, Any]:
    """A reset code to the verified address (ForgotPassword and the managed page)."""
    user = find_user(state, username)
    destination = _verified_destination(user) if user is not None and user.enabled else None
    if destination is None or user is None:
        if prevents_existence_errors(client):
            return {"CodeDeliveryDetails": _simulated_delivery(username)}
        if user is None:
            raise UserNotFound(NOT_FOUND_FOR_CLIENT)
        if not user.enabled:
            raise NotAuthorized("User is disabled.")
        raise InvalidParameter(
            "Cannot reset password for the user as there is no registered/verified email or"
            " phone_number"
        )
    return {
        "CodeDeliveryDetails": codes.issue(
            state, purpose="forgot_password", user=user, to=destination
        )
    }


def confirm_forgot_password(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """ConfirmForgotPassword: the code and a new password that meets the policy."""
    client = client_of(state, params)
    username = text(params, "Username")
    code = text(params, "ConfirmationCode")
    password = text(params, "Password")
    check_secret_hash(client, username=username, given=params.get("SecretHash"))
    reset_password(state, client, username=username, code=code, password=password)
    return {}


def reset_password(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    *,
    username: str,
    code: str,
    password: str,
) -> None:
    """Check a reset code and set the new password (ConfirmForgotPassword and the managed page)."""
    user = find_user(state, username)
    if user is None or not user.enabled:
        if prevents_existence_errors(client):
            raise CodeMismatch(codes.CODE_MISMATCH)
        raise UserNotFound(NOT_FOUND_FOR_CLIENT)
    passwords.check_policy(state.pool, password)
    risk.check_password(
        state,
        client_id=client.id,
        username=user.username,
        password=password,
        event="PASSWORD_CHANGE",
        kind="ForgotPassword",
    )
    codes.redeem(state, purpose="forgot_password", user=user, code=code)
    passwords.set_password(state, user, password)
    if user.status in (UserStatus.RESET_REQUIRED, UserStatus.FORCE_CHANGE_PASSWORD):
        user.status = UserStatus.CONFIRMED
    with state.lock:
        state.flows.lockouts.pop(user.username, None)


def change_password(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """ChangePassword: the previous password, then a new one that meets the policy."""
    user = access_user(state, text(params, "AccessToken"))
    previous = text(params, "PreviousPassword")
    proposed = text(params, "ProposedPassword")
    if not hmac.compare_digest((user.password or "").encode(), previous.encode()):
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    passwords.check_policy(state.pool, proposed)
    # ChangePassword names no app client: the pool's configuration applies.
    risk.check_password(
        state, client_id=None, username=user.username, password=proposed, event="PASSWORD_CHANGE"
    )
    passwords.set_password(state, user, proposed)
    return {}


def _verified_destination(user: CognitoIdpUser) -> str | None:
    attributes = user.attribute_lookup
    if attributes.get("email") and attributes.get("email_verified") == "true":
        return attributes["email"]
    if attributes.get("phone_number") and attributes.get("phone_number_verified") == "true":
        return attributes["phone_number"]
    return None


# The user's attributes.


def get_user(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """GetUser, with Cognito's messages for revoked and expired access tokens."""
    user = access_user(state, text(params, "AccessToken"))
    settings = challenges.mfa_factors(state, user)
    result: dict[str, Any] = {
        "Username": user.username,
        "UserAttributes": user.attributes,
        "UserMFASettingList": settings,
    }
    if user.preferred_mfa_setting:
        result["PreferredMfaSetting"] = user.preferred_mfa_setting
    return result


def update_user_attributes(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateUserAttributes: a new email must be verified with a code before it counts."""
    user = access_user(state, text(params, "AccessToken"))
    changes = {
        str(a.get("Name")): str(a.get("Value", "")) for a in params.get("UserAttributes") or []
    }
    forbidden = sorted(set(changes) & READ_ONLY_ATTRIBUTES)
    if forbidden:
        raise NotAuthorized(f"A client attempted to write unauthorized attribute {forbidden[0]}")
    deliveries = []
    for name, verified in (("email", "email_verified"), ("phone_number", "phone_number_verified")):
        new_value = changes.pop(name, None)
        if new_value is None or new_value == user.attribute_lookup.get(name):
            continue
        if name in _verify_before_update(state) and user.attribute_lookup.get(verified) == "true":
            # "Keep original attribute value active": the old address stays until the new one
            # is verified.
            with state.lock:
                state.flows.pending_attributes.setdefault(user.username, {})[name] = new_value
        else:
            user.update_attributes(
                [{"Name": name, "Value": new_value}, {"Name": verified, "Value": "false"}]
            )
        deliveries.append(
            codes.issue(state, purpose="attribute_verification", user=user, to=new_value)
        )
    if changes:
        user.update_attributes([{"Name": k, "Value": v} for k, v in changes.items()])
    return {"CodeDeliveryDetailsList": deliveries} if deliveries else {}


def get_user_attribute_verification_code(
    state: EmulatorState, params: dict[str, Any]
) -> dict[str, Any]:
    """GetUserAttributeVerificationCode: a code to the pending or current address."""
    user = access_user(state, text(params, "AccessToken"))
    name = text(params, "AttributeName")
    if name not in ("email", "phone_number"):
        raise InvalidParameter(f"Invalid attribute name: {name}")
    pending = state.flows.pending_attributes.get(user.username, {})
    destination = pending.get(name) or user.attribute_lookup.get(name)
    if not destination:
        raise InvalidParameter(f"The user has no {name} to verify.")
    details = codes.issue(state, purpose="attribute_verification", user=user, to=destination)
    return {"CodeDeliveryDetails": details}


def verify_user_attribute(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """VerifyUserAttribute: the code makes the (pending) address the verified one."""
    user = access_user(state, text(params, "AccessToken"))
    name = text(params, "AttributeName")
    code = text(params, "Code")
    if name not in ("email", "phone_number"):
        raise InvalidParameter(f"Invalid attribute name: {name}")
    pending = state.flows.pending_attributes.get(user.username, {})
    expected = pending.get(name) or user.attribute_lookup.get(name)
    issued = state.flows.codes.get(("attribute_verification", user.username))
    if issued is not None and issued.destination != expected:
        raise ExpiredCode(codes.CODE_EXPIRED)
    codes.redeem(state, purpose="attribute_verification", user=user, code=code)
    with state.lock:
        new_value = pending.pop(name, None)
    updates = [{"Name": f"{name}_verified", "Value": "true"}]
    if new_value is not None:
        updates.append({"Name": name, "Value": new_value})
    user.update_attributes(updates)
    return {}


def _verify_before_update(state: EmulatorState) -> list[str]:
    settings = state.pool.extended_config.get("UserAttributeUpdateSettings") or {}
    return list(settings.get("AttributesRequireVerificationBeforeUpdate") or [])


# TOTP.


def associate_software_token(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AssociateSoftwareToken: a new secret for this user alone, by AccessToken or Session."""
    secret = pyotp.random_base32()
    session_token, access_token = _session_or_access_token(params)
    if session_token:
        session = challenges.session_for_setup(state, session_token)
        new_session = challenges.replace_session(
            state, session_token, replace(session, totp_secret=secret, totp_verified=False)
        )
        return {"SecretCode": secret, "Session": new_session}
    user = access_user(state, access_token)
    with state.lock:
        state.flows.pending_totp[user.username] = secret
    return {"SecretCode": secret}


def verify_software_token(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """VerifySoftwareToken: a code of the associated secret makes it the user's."""
    code = text(params, "UserCode")
    session_token, access_token = _session_or_access_token(params)
    if session_token:
        session = challenges.session_for_setup(state, session_token)
        user = find_user(state, session.username)
        secret = session.totp_secret
    else:
        user = access_user(state, access_token)
        secret = state.flows.pending_totp.get(user.username)
    if user is None or not secret:
        raise InvalidParameter("Call AssociateSoftwareToken first.")
    step = _totp_step(secret, code)
    if step is None:
        raise EnableSoftwareTokenMFA("Code mismatch and fail enable Software Token MFA")
    with state.lock:
        state.totp_secrets[user.username] = secret
        state.totp_last_steps[user.username] = step
        state.flows.pending_totp.pop(user.username, None)
    user.token_verified = True
    if not session_token:
        return {"Status": "SUCCESS"}
    # Enrolment during sign-in turns the factor on, and the new Session answers MFA_SETUP.
    user.software_token_mfa_enabled = True
    user.preferred_mfa_setting = "SOFTWARE_TOKEN_MFA"
    new_session = challenges.replace_session(
        state, session_token, replace(session, totp_verified=True)
    )
    return {"Status": "SUCCESS", "Session": new_session}


def _session_or_access_token(params: dict[str, Any]) -> tuple[str, str]:
    """The sign-in Session or the AccessToken of a TOTP setup: exactly one of them is given."""
    session_token = text(params, "Session", required=False)
    access_token = text(params, "AccessToken", required=False)
    if bool(session_token) == bool(access_token):
        raise InvalidParameter("Exactly one of AccessToken and Session is required.")
    return session_token, access_token


def _totp_step(secret: str, code: str) -> int | None:
    code = code.strip()
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // TOTP_STEP_SECONDS
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS).encode(), code.encode()):
            return step
    return None


def set_user_mfa_preference(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """SetUserMFAPreference, with email MFA (which moto does not know)."""
    user = access_user(state, text(params, "AccessToken"))
    _set_mfa_preference(state, user, params)
    return {}


def admin_set_user_mfa_preference(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminSetUserMFAPreference, with email MFA."""
    user = _admin_user(state, params)
    _set_mfa_preference(state, user, params)
    return {}


def _set_mfa_preference(state: EmulatorState, user: CognitoIdpUser, params: dict[str, Any]) -> None:
    settings = (
        ("SoftwareTokenMfaSettings", "SOFTWARE_TOKEN_MFA"),
        ("SMSMfaSettings", "SMS_MFA"),
        ("EmailMfaSettings", "EMAIL_OTP"),
    )
    for key, factor in settings:
        setting = params.get(key)
        if not isinstance(setting, dict):
            continue
        enabled = bool(setting.get("Enabled"))
        if factor == "SOFTWARE_TOKEN_MFA":
            if enabled and not user.token_verified:
                raise InvalidParameter("User has not verified software token mfa")
            user.software_token_mfa_enabled = enabled
        elif factor == "SMS_MFA":
            user.sms_mfa_enabled = enabled
        elif enabled:
            state.flows.email_mfa.add(user.username)
        else:
            state.flows.email_mfa.discard(user.username)
        if enabled and setting.get("PreferredMfa"):
            user.preferred_mfa_setting = factor
        elif user.preferred_mfa_setting == factor and (
            not enabled or setting.get("PreferredMfa") is False
        ):
            user.preferred_mfa_setting = ""


# Tokens and sign-out.


def get_tokens_from_refresh_token(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """GetTokensFromRefreshToken, with refresh-token rotation when the client turns it on."""
    client = client_of(state, params)
    refresh_token = text(params, "RefreshToken")
    _check_client_secret(client, params.get("ClientSecret"))
    pool = state.pool
    if rotated_out(state, refresh_token):
        raise RefreshTokenReuse("Refresh token has already been used.")
    client_id, username, origin_jti = refresh_token_entry(state, refresh_token)
    session = state.refresh_sessions.get(refresh_token)
    if client_id != client.id or (session and session.expires_at < time.time()):
        raise NotAuthorized("Invalid Refresh Token.")
    devices.check_refresh(state, refresh_token, text(params, "DeviceKey", required=False))
    user = find_user(state, username)
    if user is None or not user.enabled:
        raise NotAuthorized("User is disabled.")
    result = session_tokens(
        state,
        client=client,
        username=username,
        origin_jti=origin_jti,
        source=pretoken.REFRESH_TOKENS,
    )
    if rotating(client):
        new_refresh_token = new_opaque_token()
        rotate_out(state, client, refresh_token)
        with state.lock:
            pool.refresh_tokens[new_refresh_token] = (client.id, username, origin_jti)
            if session is not None:
                state.refresh_sessions[new_refresh_token] = session
        devices.refresh_rotated(state, refresh_token, new_refresh_token)
        result["RefreshToken"] = new_refresh_token
    return {"AuthenticationResult": result}


def _check_client_secret(client: CognitoIdpUserPoolClient, given: object) -> None:
    if not client.generate_secret:
        return
    if not given:
        raise NotAuthorized(
            f"Client {client.id} is configured for secret but secret was not received"
        )
    if not hmac.compare_digest(str(given).encode(), client.secret.encode()):
        raise NotAuthorized(f"Unable to verify secret hash for client {client.id}")


def global_sign_out(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """GlobalSignOut: every refresh token of the user ends, and the access tokens with them."""
    user = access_user(state, text(params, "AccessToken"))
    sign_out_everywhere(state, user.username)
    return {}


def admin_user_global_sign_out(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminUserGlobalSignOut."""
    user = _admin_user(state, params)
    sign_out_everywhere(state, user.username)
    return {}


def _admin_user(state: EmulatorState, params: dict[str, Any]) -> CognitoIdpUser:
    """The user an admin operation names by UserPoolId and Username."""
    if text(params, "UserPoolId") != state.pool.id:
        raise ResourceNotFound("User pool does not exist.")
    user = find_user(state, text(params, "Username"))
    if user is None:
        raise UserNotFound("User does not exist.")
    return user
