"""Passkeys: WebAuthn registration, the pool's relying party, and the WEB_AUTHN sign-in check.

py_webauthn verifies attestations and assertions (challenge, RP ID hash, signature, sign count);
this module keeps what Cognito keeps around them: one pending registration per user, single-use
challenges, the allowed origins of the relying party ID, and Cognito's error for each refusal.
Sources: the API reference of StartWebAuthnRegistration, CompleteWebAuthnRegistration,
ListWebAuthnCredentials, DeleteWebAuthnCredential and WebAuthnConfigurationType (botocore's
cognito-idp model), and the developer guide's "Passkey sign-in" section
(amazon-cognito-user-pools-authentication-flow-methods.html#...-passkey).
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import webauthn
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from emulator.errors import CognitoError, InvalidParameter, NotAuthorized, ResourceNotFound
from emulator.native import access_user, check_pool, text
from emulator.stores import Passkey, PasskeyRegistration

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.state import EmulatorState

# A registration or sign-in challenge lives as long as the browser's ceremony may take.
CHALLENGE_SECONDS = 5 * 60
TIMEOUT_MS = CHALLENGE_SECONDS * 1000
MAX_PASSKEYS = 20
MULTI_FACTOR = "MULTI_FACTOR_WITH_USER_VERIFICATION"
NOT_VERIFIED = "The passkey could not be verified."


class WebAuthnNotEnabled(CognitoError):
    code = "WebAuthnNotEnabledException"


class WebAuthnConfigurationMissing(CognitoError):
    code = "WebAuthnConfigurationMissingException"


class WebAuthnChallengeNotFound(CognitoError):
    code = "WebAuthnChallengeNotFoundException"


class WebAuthnClientMismatch(CognitoError):
    code = "WebAuthnClientMismatchException"


class WebAuthnOriginNotAllowed(CognitoError):
    code = "WebAuthnOriginNotAllowedException"


class WebAuthnRelyingPartyMismatch(CognitoError):
    code = "WebAuthnRelyingPartyMismatchException"


class WebAuthnCredentialNotSupported(CognitoError):
    code = "WebAuthnCredentialNotSupportedException"


# The pool's settings.


def configuration(state: EmulatorState) -> dict[str, str]:
    """The pool's WebAuthnConfiguration (RelyingPartyId, UserVerification, FactorConfiguration)."""
    return dict(state.flows.webauthn_config.get(state.pool.id, {}))


def configure(state: EmulatorState, settings: dict[str, Any]) -> None:
    """Store SetUserPoolMfaConfig's WebAuthnConfiguration (moto ignores it)."""
    current = configuration(state)
    for name in ("RelyingPartyId", "UserVerification", "FactorConfiguration"):
        if settings.get(name):
            current[name] = str(settings[name])
    if current.get("UserVerification", "preferred") not in ("required", "preferred"):
        raise InvalidParameter("UserVerification must be required or preferred.")
    if current.get("FactorConfiguration", "SINGLE_FACTOR") not in ("SINGLE_FACTOR", MULTI_FACTOR):
        raise InvalidParameter("FactorConfiguration must be SINGLE_FACTOR or " + MULTI_FACTOR)
    with state.lock:
        state.flows.webauthn_config[state.pool.id] = current


def first_factors(state: EmulatorState) -> list[str]:
    """The pool's Policies.SignInPolicy.AllowedFirstAuthFactors (Cognito's default: PASSWORD)."""
    policy = (state.pool.extended_config.get("Policies") or {}).get("SignInPolicy") or {}
    return list(policy.get("AllowedFirstAuthFactors") or ["PASSWORD"])


def counts_as_mfa(state: EmulatorState) -> bool:
    """A passkey with user verification satisfies MFA (FactorConfiguration, API reference)."""
    return configuration(state).get("FactorConfiguration") == MULTI_FACTOR


def _relying_party(state: EmulatorState) -> str:
    if "WEB_AUTHN" not in first_factors(state):
        raise WebAuthnNotEnabled("Passkey sign-in is not enabled for this user pool.")
    rp_id = configuration(state).get("RelyingPartyId")
    if not rp_id:
        raise WebAuthnConfigurationMissing(
            "The user pool has no WebAuthn relying party ID configured."
        )
    return rp_id


def _user_verification(state: EmulatorState) -> UserVerificationRequirement:
    if configuration(state).get("UserVerification") == "required" or counts_as_mfa(state):
        return UserVerificationRequirement.REQUIRED
    return UserVerificationRequirement.PREFERRED


def origin_allowed(origin: str, rp_id: str) -> bool:
    """An origin on the RP ID or a subdomain of it, over HTTPS (or HTTP on a loopback name)."""
    parts = urlsplit(origin)
    host = (parts.hostname or "").lower()
    if not (host == rp_id or host.endswith("." + rp_id)):
        return False
    # Browsers treat http://localhost (and *.localhost) as a secure context; nothing else.
    loopback = host == "localhost" or host.endswith(".localhost")
    return parts.scheme == "https" or (parts.scheme == "http" and loopback)


def _client_origin(credential: dict[str, Any]) -> str:
    """The origin the browser wrote into clientDataJSON (checked by py_webauthn afterwards)."""
    try:
        encoded = credential["response"]["clientDataJSON"]
        data = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        return str(data["origin"])
    except (KeyError, TypeError, ValueError):
        raise InvalidParameter("Credential is not a valid WebAuthn response.") from None


def _document(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise InvalidParameter(f"{name} must be a WebAuthn JSON object.")
    return value


def passkeys_of(state: EmulatorState, username: str) -> tuple[Passkey, ...]:
    """The user's passkeys, oldest first."""
    return state.flows.passkeys.get(username, ())


# Operations.


def start_webauthn_registration(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """StartWebAuthnRegistration: creation options for navigator.credentials.create()."""
    token = text(params, "AccessToken")
    user = access_user(state, token)
    options = registration_options(state, user, client_id=_token_client(state, token))
    return {"CredentialCreationOptions": options}


def complete_webauthn_registration(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """CompleteWebAuthnRegistration: verify the attestation and keep the new passkey."""
    token = text(params, "AccessToken")
    user = access_user(state, token)
    register(
        state, user, client_id=_token_client(state, token), credential=params.get("Credential")
    )
    return {}


def registration_options(
    state: EmulatorState, user: CognitoIdpUser, *, client_id: str
) -> dict[str, Any]:
    """A new registration ceremony for the user (PublicKeyCredentialCreationOptionsJSON).

    The API (an access token) and managed login (its session) both start one here, so each
    refusal is the same Cognito error whichever way the user came.
    """
    rp_id = _relying_party(state)
    existing = passkeys_of(state, user.username)
    if len(existing) >= MAX_PASSKEYS:
        raise InvalidParameter("The user has the maximum number of passkeys.")
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_id,
        user_name=user.username,
        user_id=str(user.id).encode(),
        user_display_name=user.attribute_lookup.get("email", user.username),
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=_user_verification(state),
        ),
        exclude_credentials=[_descriptor(passkey) for passkey in existing],
    )
    with state.lock:
        # One ceremony at a time: a new start replaces the earlier challenge.
        state.flows.passkey_registrations[user.username] = PasskeyRegistration(
            challenge=options.challenge,
            client_id=client_id,
            expires_at=time.time() + CHALLENGE_SECONDS,
        )
    return dict(json.loads(webauthn.options_to_json(options)))


def register(
    state: EmulatorState, user: CognitoIdpUser, *, client_id: str, credential: Any
) -> Passkey:
    """Verify the browser's answer to the user's pending ceremony and keep the new passkey."""
    rp_id = _relying_party(state)
    document = _document({"Credential": credential}, "Credential")
    with state.lock:
        pending = state.flows.passkey_registrations.pop(user.username, None)
    if pending is None or pending.expires_at < time.time():
        raise WebAuthnChallengeNotFound("The WebAuthn registration challenge was not found.")
    if pending.client_id != client_id:
        raise WebAuthnClientMismatch("The registration was started for a different app client.")
    origin = _client_origin(document)
    if not origin_allowed(origin, rp_id):
        raise WebAuthnOriginNotAllowed(f"Origin {origin} is not allowed for {rp_id}.")
    try:
        verified = webauthn.verify_registration_response(
            credential=document,
            expected_challenge=pending.challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=_user_verification(state)
            == UserVerificationRequirement.REQUIRED,
        )
    except InvalidJSONStructure:
        raise InvalidParameter("Credential is not a valid WebAuthn response.") from None
    except InvalidRegistrationResponse as error:
        raise _registration_error(str(error)) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if any(p.credential_id == credential_id for s in state.flows.passkeys.values() for p in s):
        raise WebAuthnCredentialNotSupported("This passkey is already registered.")
    response = document.get("response") or {}
    transports = tuple(str(t) for t in response.get("transports") or () if isinstance(t, str))
    passkey = Passkey(
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        rp_id=rp_id,
        transports=transports,
        attachment=document.get("authenticatorAttachment"),
        created_at=time.time(),
        name=_friendly_name(document),
    )
    with state.lock:
        state.flows.passkeys[user.username] = (*passkeys_of(state, user.username), passkey)
    return passkey


def usable_at(state: EmulatorState, origin: str) -> bool:
    """Passkeys are on in the pool and its relying party ID serves pages at this origin."""
    try:
        rp_id = _relying_party(state)
    except CognitoError:
        return False
    return origin_allowed(origin, rp_id)


def list_webauthn_credentials(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """ListWebAuthnCredentials: the user's passkeys (MaxResults 1-20, NextToken)."""
    user = access_user(state, text(params, "AccessToken"))
    limit = int(params.get("MaxResults") or 20)
    if not 1 <= limit <= 20:
        raise InvalidParameter("MaxResults must be between 1 and 20.")
    start = (
        int(params.get("NextToken") or 0) if str(params.get("NextToken") or "0").isdigit() else 0
    )
    passkeys = passkeys_of(state, user.username)
    page = passkeys[start : start + limit]
    result: dict[str, Any] = {"Credentials": [_description(p) for p in page]}
    if start + limit < len(passkeys):
        result["NextToken"] = str(start + limit)
    return result


def delete_webauthn_credential(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteWebAuthnCredential: remove one of the user's passkeys."""
    user = access_user(state, text(params, "AccessToken"))
    credential_id = text(params, "CredentialId")
    with state.lock:
        passkeys = passkeys_of(state, user.username)
        kept = tuple(p for p in passkeys if p.credential_id != credential_id)
        if len(kept) == len(passkeys):
            raise ResourceNotFound("Credential not found.")
        state.flows.passkeys[user.username] = kept
    return {}


OPERATIONS = {
    "StartWebAuthnRegistration": start_webauthn_registration,
    "CompleteWebAuthnRegistration": complete_webauthn_registration,
    "ListWebAuthnCredentials": list_webauthn_credentials,
    "DeleteWebAuthnCredential": delete_webauthn_credential,
}


# The WEB_AUTHN challenge.


def request_options(state: EmulatorState, user: CognitoIdpUser | None) -> tuple[bytes, str]:
    """A new challenge and CREDENTIAL_REQUEST_OPTIONS (JSON) naming the user's passkeys."""
    passkeys = passkeys_of(state, user.username) if user is not None else ()
    options = webauthn.generate_authentication_options(
        rp_id=_relying_party(state),
        timeout=TIMEOUT_MS,
        allow_credentials=[_descriptor(p) for p in passkeys],
        user_verification=_user_verification(state),
    )
    return options.challenge, webauthn.options_to_json(options)


def verify_assertion(
    state: EmulatorState, user: CognitoIdpUser, *, challenge: bytes, credential: Any
) -> bool:
    """Check a CREDENTIAL against the session's challenge; True when user verification was done.

    The challenge is the session's and the session is single-use, so a replayed assertion meets
    a different challenge. Each refusal is NotAuthorizedException: RespondToAuthChallenge lists
    none of the WebAuthn exceptions (botocore's model).
    """
    rp_id = _relying_party(state)
    document = _document({"CREDENTIAL": credential}, "CREDENTIAL")
    credential_id = str(document.get("id") or "")
    passkey = next(
        (p for p in passkeys_of(state, user.username) if p.credential_id == credential_id), None
    )
    if passkey is None:
        raise NotAuthorized("The passkey is not registered for this user.")
    origin = _client_origin(document)
    if not origin_allowed(origin, rp_id):
        raise NotAuthorized(f"Origin {origin} is not allowed for {rp_id}.")
    try:
        verified = webauthn.verify_authentication_response(
            credential=document,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=_user_verification(state)
            == UserVerificationRequirement.REQUIRED,
        )
    except InvalidJSONStructure:
        raise InvalidParameter("CREDENTIAL is not a valid WebAuthn response.") from None
    except InvalidAuthenticationResponse as error:
        raise NotAuthorized(f"{NOT_VERIFIED} {error}") from None
    with state.lock:
        state.flows.passkeys[user.username] = tuple(
            replace(p, sign_count=verified.new_sign_count) if p is passkey else p
            for p in passkeys_of(state, user.username)
        )
    return bool(verified.user_verified)


def encode_challenge(challenge: bytes) -> str:
    """A challenge as text (to keep it in a managed-login step)."""
    return bytes_to_base64url(challenge)


def decode_challenge(text: str) -> bytes:
    """The challenge `encode_challenge` wrote."""
    return webauthn.base64url_to_bytes(text)


# Helpers.


def _token_client(state: EmulatorState, token: str) -> str:
    return str(state.tokens.decode_access_token(token, pool_id=state.pool.id).get("client_id"))


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in passkey.transports:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(
        id=webauthn.base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


def _registration_error(message: str) -> CognitoError:
    if "RP ID" in message:
        return WebAuthnRelyingPartyMismatch(
            "The passkey is for a different relying party than the user pool's."
        )
    if "challenge" in message.lower():
        return WebAuthnChallengeNotFound("The WebAuthn registration challenge was not found.")
    if "origin" in message.lower():
        return WebAuthnOriginNotAllowed(message)
    return WebAuthnCredentialNotSupported(f"The passkey is not supported: {message}")


def _friendly_name(credential: dict[str, Any]) -> str:
    attachment = credential.get("authenticatorAttachment")
    if attachment == "platform":
        return "Passkey on this device"
    if attachment == "cross-platform":
        return "Security key"
    return "Passkey"


def _description(passkey: Passkey) -> dict[str, Any]:
    description: dict[str, Any] = {
        "CredentialId": passkey.credential_id,
        "FriendlyCredentialName": passkey.name,
        "RelyingPartyId": passkey.rp_id,
        "AuthenticatorTransports": list(passkey.transports),
        "CreatedAt": datetime.fromtimestamp(passkey.created_at, UTC).timestamp(),
    }
    if passkey.attachment:
        description["AuthenticatorAttachment"] = passkey.attachment
    return description


# The pool's MFA settings, where WebAuthnConfiguration lives.


def set_user_pool_mfa_config(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """SetUserPoolMfaConfig: moto's MFA settings, plus the WebAuthnConfiguration moto ignores."""
    check_pool(state, params)
    pool = state.pool
    settings = params.get("WebAuthnConfiguration")
    if settings is not None:
        if not isinstance(settings, dict):
            raise InvalidParameter("WebAuthnConfiguration must be a structure.")
        configure(state, settings)
    mfa = params.get("MfaConfiguration")
    if mfa is not None:
        if mfa not in ("ON", "OFF", "OPTIONAL"):
            raise InvalidParameter("[MfaConfiguration] must be one of 'ON', 'OFF', or 'OPTIONAL'.")
        sms = params.get("SmsMfaConfiguration")
        token = params.get("SoftwareTokenMfaConfiguration")
        if mfa != "OFF" and sms is None and token is None:
            raise InvalidParameter(
                "At least one of [SmsMfaConfiguration] or [SoftwareTokenMfaConfiguration]"
                " must be provided."
            )
        state.backend.set_user_pool_mfa_config(pool.id, sms, token, mfa)
    return get_user_pool_mfa_config(state, {"UserPoolId": pool.id})


def get_user_pool_mfa_config(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """GetUserPoolMfaConfig, with WebAuthnConfiguration."""
    check_pool(state, params)
    pool = state.pool
    answer = {k: v for k, v in state.backend.get_user_pool_mfa_config(pool.id).items() if v}
    answer["WebAuthnConfiguration"] = {"UserVerification": "preferred", **configuration(state)}
    return answer


OPERATIONS.update(
    SetUserPoolMfaConfig=set_user_pool_mfa_config, GetUserPoolMfaConfig=get_user_pool_mfa_config
)
