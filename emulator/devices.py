"""Remembered devices: NewDeviceMetadata, ConfirmDevice's SRP verifier, device SRP, the device ops.

As Cognito does it (cognito-facts 3.5; DeviceConfigurationType, ConfirmDevice and the device
operations in botocore's model; the developer guide's "Working with user devices"):
- with a `DeviceConfiguration`, a sign-in without a known DEVICE_KEY answers `NewDeviceMetadata`
  (DeviceKey, DeviceGroupKey); ConfirmDevice stores the device's verifier, and remembers the device
  at once unless `DeviceOnlyRememberedOnUserPrompt` (then UpdateDeviceStatus does);
- a sign-in with a remembered device's DEVICE_KEY is challenged with DEVICE_SRP_AUTH and
  DEVICE_PASSWORD_VERIFIER (SRP where the pool name is the DeviceGroupKey, the user id the
  DeviceKey and the password the device's random password), and with
  `ChallengeRequiredOnNewDevice` that device "can sign in with device authentication instead of"
  MFA; devices neither confirmed nor remembered still need MFA; a DEVICE_KEY that names none of
  the user's devices (forgotten) is refused with "Device does not exist." (`remembered`);
- a refresh token issued to a confirmed device refreshes only with that DEVICE_KEY, through
  REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken alike (`check_refresh`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from emulator import challenges, srp
from emulator.errors import (
    CognitoError,
    InvalidParameter,
    NotAuthorized,
    ResourceNotFound,
)
from emulator.native import (
    INCORRECT_CREDENTIALS,
    access_user,
    admin_user,
    find_user,
    issue_tokens,
    text,
)
from emulator.stores import AuthSession, Device

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient

    from emulator.state import EmulatorState

DEVICE_NOT_FOUND = "Device does not exist."
INVALID_REFRESH_TOKEN = "Invalid Refresh Token."


class DeviceKeyExists(CognitoError):
    code = "DeviceKeyExistsException"


def configuration(state: EmulatorState) -> dict[str, Any]:
    """The pool's DeviceConfiguration; empty when the pool does not track devices."""
    return dict(state.pool.extended_config.get("DeviceConfiguration") or {})


# Sign-in.


def after_sign_in(state: EmulatorState, result: dict[str, Any], *, device_key: str) -> None:
    """Add NewDeviceMetadata to a sign-in's tokens (unless it came from a known device)."""
    tokens = result.get("AuthenticationResult") or {}
    refresh_token = tokens.get("RefreshToken")
    if not refresh_token or not configuration(state):
        return
    entry = state.pool.refresh_tokens.get(refresh_token)
    if entry is None:
        return
    username = entry[1]
    now = time.time()
    with state.lock:
        device = state.flows.devices.get(device_key)
        if device is not None and device.username == username and device.confirmed:
            state.flows.devices[device.key] = replace(device, last_authenticated=now)
        else:
            device = Device(
                key=f"{state.pool.id.split('_')[0]}_{uuid.uuid4()}",
                group_key=_group_key(state, username),
                username=username,
                created_at=now,
                last_modified=now,
                last_authenticated=now,
            )
            state.flows.devices[device.key] = device
            tokens["NewDeviceMetadata"] = {
                "DeviceKey": device.key,
                "DeviceGroupKey": device.group_key,
            }
        state.flows.refresh_devices[refresh_token] = device.key


def remembered(state: EmulatorState, user: CognitoIdpUser, device_key: str) -> Device | None:
    """The user's remembered device this DEVICE_KEY names, when device tracking is on.

    A key that names none of the user's devices (forgotten, or never theirs) is refused with
    ResourceNotFoundException "Device does not exist.": Amplify's sign-in catches exactly that,
    drops its stored device and answers the same PASSWORD_VERIFIER again without it
    (retryOnResourceNotFoundException), so the sign-in's session survives (challenges._respond).
    """
    if not device_key or not configuration(state):
        return None
    device = state.flows.devices.get(device_key)
    if device is None or device.username != user.username:
        raise ResourceNotFound(DEVICE_NOT_FOUND)
    return device if device.confirmed and device.remembered else None


def device_challenge(state: EmulatorState, session: AuthSession, device: Device) -> dict[str, Any]:
    """The DEVICE_SRP_AUTH step: the client answers with the device's SRP_A."""
    session = replace(session, challenge="DEVICE_SRP_AUTH", device_key=device.key)
    return challenges.ask(state, session, {"USERNAME": session.username})


def session_token(state: EmulatorState, username: str, device_key: str) -> str:
    """The DEVICE_SRP_AUTH session of this user and device (pycognito answers without Session)."""
    for token, session in state.flows.auth_sessions.items():
        if (
            session.challenge == "DEVICE_SRP_AUTH"
            and session.device_key
            and session.username == username
            and hmac.compare_digest(session.device_key.encode(), device_key.encode())
        ):
            return token
    return ""


def check_refresh(state: EmulatorState, refresh_token: str, device_key: str) -> None:
    """A refresh token issued to a confirmed device needs that device's key (and the device).

    REFRESH_TOKEN_AUTH's DEVICE_KEY and GetTokensFromRefreshToken's DeviceKey alike: "with
    device tracking, these tokens are linked to a single device. If a refresh token is used on
    any other device, the call fails" and after ForgetDevice "all future calls to revalidate
    that device's refresh tokens will fail" (AWS mobile blog, "Tracking and remembering devices
    using Amazon Cognito Your User Pools"); the failure seen is NotAuthorizedException
    "Invalid Refresh Token." (aws-sdk-java#2841, aws-sdk-net-extensions-cognito#85).
    """
    bound = state.flows.refresh_devices.get(refresh_token)
    if not bound:
        return
    device = state.flows.devices.get(bound)
    if device is None:  # forgotten
        raise NotAuthorized(INVALID_REFRESH_TOKEN)
    if device.confirmed and not hmac.compare_digest(bound.encode(), device_key.encode()):
        raise NotAuthorized(INVALID_REFRESH_TOKEN)


def refresh_rotated(state: EmulatorState, old: str, new: str) -> None:
    """A rotated refresh token stays tied to its predecessor's device."""
    with state.lock:
        bound = state.flows.refresh_devices.get(old)
        if bound:
            state.flows.refresh_devices[new] = bound


def respond(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    session: AuthSession,
    responses: dict[str, Any],
) -> dict[str, Any]:
    """DEVICE_SRP_AUTH (SRP_A in, B out) and DEVICE_PASSWORD_VERIFIER (the device's proof)."""
    user = find_user(state, session.username)
    device = state.flows.devices.get(session.device_key)
    if user is None or device is None or device.username != user.username:
        raise ResourceNotFound(DEVICE_NOT_FOUND)
    given = str(responses.get("DEVICE_KEY") or "")
    if not hmac.compare_digest(given.encode(), device.key.encode()):
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    if session.challenge == "DEVICE_SRP_AUTH":
        try:
            big_a = int(str(responses.get("SRP_A") or ""), 16)
        except ValueError:
            raise InvalidParameter("Missing or invalid SRP_A.") from None
        exchange = srp.start(
            pool_id=state.pool.id,
            user_id=device.key,
            salt=device.salt,
            verifier_value=device.verifier,
            big_a=big_a,
        )
        next_session = replace(
            session,
            challenge="DEVICE_PASSWORD_VERIFIER",
            srp=exchange,
            expires_at=time.time() + challenges.AUTH_SESSION_SECONDS,
        )
        return challenges.ask(
            state,
            next_session,
            {
                "SRP_B": format(exchange.big_b, "x"),
                "SALT": device.salt,
                "SECRET_BLOCK": exchange.secret_block,
                "USERNAME": user.username,
            },
        )
    exchange = session.srp
    assert exchange is not None
    signature, secret_block, timestamp = challenges.password_claim(responses)
    if not _device_claim_valid(device, exchange, secret_block, timestamp, signature):
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    with state.lock:
        state.flows.devices[device.key] = replace(device, last_authenticated=time.time())
    if configuration(state).get("ChallengeRequiredOnNewDevice"):
        # The remembered device stands in for MFA.
        return issue_tokens(state, client=client, user=user)
    return challenges.mfa_or_tokens(state, client, user, admin=session.admin)


def _device_claim_valid(
    device: Device, exchange: Any, secret_block: str, timestamp: str, signature: str
) -> bool:
    """As the user's password claim, with DeviceGroupKey for the pool name (cognito-facts 3.5)."""
    if not srp.timestamp_acceptable(timestamp):
        return False
    if not hmac.compare_digest(secret_block.encode(), exchange.secret_block.encode()):
        return False
    key = srp.server_key(
        big_a=exchange.big_a,
        big_b=exchange.big_b,
        small_b=exchange.small_b,
        verifier_value=exchange.verifier,
    )
    try:
        message = (
            device.group_key.encode()
            + device.key.encode()
            + base64.b64decode(secret_block)
            + timestamp.encode()
        )
    except binascii.Error:
        return False
    expected = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), signature.encode())


# Operations.


def confirm_device(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """ConfirmDevice: keep the device's SRP verifier; remember it now or on the user's word."""
    user = access_user(state, text(params, "AccessToken"))
    device = _device_of(state, user, text(params, "DeviceKey"))
    if device.confirmed:
        raise DeviceKeyExists("Device key already exists.")
    config = params.get("DeviceSecretVerifierConfig") or {}
    try:
        verifier = int.from_bytes(base64.b64decode(str(config["PasswordVerifier"])), "big")
        salt = base64.b64decode(str(config["Salt"])).hex()
    except (KeyError, TypeError, binascii.Error):
        raise InvalidParameter(
            "DeviceSecretVerifierConfig needs a base64 PasswordVerifier and Salt."
        ) from None
    if not verifier or not salt:
        raise InvalidParameter("DeviceSecretVerifierConfig needs a PasswordVerifier and Salt.")
    prompt = bool(configuration(state).get("DeviceOnlyRememberedOnUserPrompt"))
    with state.lock:
        state.flows.devices[device.key] = replace(
            device,
            confirmed=True,
            remembered=not prompt,
            name=text(params, "DeviceName", required=False),
            salt=salt,
            verifier=verifier,
            last_modified=time.time(),
        )
    return {"UserConfirmationNecessary": prompt}


def update_device_status(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateDeviceStatus: remembered or not_remembered."""
    user = access_user(state, text(params, "AccessToken"))
    _set_status(state, _device_of(state, user, text(params, "DeviceKey")), params)
    return {}


def admin_update_device_status(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminUpdateDeviceStatus."""
    user = admin_user(state, params)
    _set_status(state, _device_of(state, user, text(params, "DeviceKey")), params)
    return {}


def list_devices(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """ListDevices: the signed-in user's confirmed devices."""
    user = access_user(state, text(params, "AccessToken"))
    return _page(state, user, params)


def admin_list_devices(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminListDevices."""
    return _page(state, admin_user(state, params), params)


def get_device(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """GetDevice."""
    user = access_user(state, text(params, "AccessToken"))
    return {"Device": _to_json(_device_of(state, user, text(params, "DeviceKey")))}


def admin_get_device(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminGetDevice."""
    user = admin_user(state, params)
    return {"Device": _to_json(_device_of(state, user, text(params, "DeviceKey")))}


def forget_device(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """ForgetDevice: the device is gone, with its refresh tokens."""
    user = access_user(state, text(params, "AccessToken"))
    _forget(state, _device_of(state, user, text(params, "DeviceKey")))
    return {}


def admin_forget_device(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminForgetDevice."""
    user = admin_user(state, params)
    _forget(state, _device_of(state, user, text(params, "DeviceKey")))
    return {}


OPERATIONS = {
    "ConfirmDevice": confirm_device,
    "UpdateDeviceStatus": update_device_status,
    "AdminUpdateDeviceStatus": admin_update_device_status,
    "ListDevices": list_devices,
    "AdminListDevices": admin_list_devices,
    "GetDevice": get_device,
    "AdminGetDevice": admin_get_device,
    "ForgetDevice": forget_device,
    "AdminForgetDevice": admin_forget_device,
}


# Helpers.


def _group_key(state: EmulatorState, username: str) -> str:
    """One DeviceGroupKey per user, stable within a run."""
    digest = hmac.new(state.csrf_secret, f"device-group/{username}".encode(), hashlib.sha256)
    return "-" + base64.urlsafe_b64encode(digest.digest()[:6]).decode().rstrip("=")


def _device_of(state: EmulatorState, user: CognitoIdpUser, device_key: str) -> Device:
    device = state.flows.devices.get(device_key)
    if device is None or device.username != user.username:
        raise ResourceNotFound(DEVICE_NOT_FOUND)
    return device


def _set_status(state: EmulatorState, device: Device, params: dict[str, Any]) -> None:
    status = text(params, "DeviceRememberedStatus", required=False) or "not_remembered"
    if status not in ("remembered", "not_remembered"):
        raise InvalidParameter("DeviceRememberedStatus must be remembered or not_remembered.")
    if not device.confirmed:
        raise ResourceNotFound(DEVICE_NOT_FOUND)
    with state.lock:
        state.flows.devices[device.key] = replace(
            device, remembered=status == "remembered", last_modified=time.time()
        )


def _forget(state: EmulatorState, device: Device) -> None:
    with state.lock:
        state.flows.devices.pop(device.key, None)


def _page(state: EmulatorState, user: CognitoIdpUser, params: dict[str, Any]) -> dict[str, Any]:
    limit = int(params.get("Limit") or 60)
    if not 0 <= limit <= 60:
        raise InvalidParameter("Limit must be between 0 and 60.")
    devices = sorted(
        (d for d in state.flows.devices.values() if d.username == user.username and d.confirmed),
        key=lambda d: d.created_at,
    )
    token = str(params.get("PaginationToken") or "0")
    start = int(token) if token.isdigit() else 0
    result: dict[str, Any] = {"Devices": [_to_json(d) for d in devices[start : start + limit]]}
    if start + limit < len(devices):
        result["PaginationToken"] = str(start + limit)
    return result


def _to_json(device: Device) -> dict[str, Any]:
    attributes = [
        {"Name": "device_status", "Value": "valid"},
        {
            "Name": "dev:device_remembered_status",
            "Value": "remembered" if device.remembered else "not_remembered",
        },
    ]
    if device.name:
        attributes.append({"Name": "device_name", "Value": device.name})
    return {
        "DeviceKey": device.key,
        "DeviceAttributes": attributes,
        "DeviceCreateDate": device.created_at,
        "DeviceLastModifiedDate": device.last_modified,
        "DeviceLastAuthenticatedDate": device.last_authenticated,
    }
