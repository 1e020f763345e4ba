"""API sign-in through the user pools API: the only module that calls cognito-idp to sign in.

AWS vocabulary stops here: Cognito's challenges become the app's steps in one table (`STEPS`),
and every call goes through `call`, which maps a `ClientError`'s code through `_ERRORS` to the
app's own codes and raises `UserPoolError` (its HTTP status: accounts.errors). Results leave as
the frozen dataclasses below, never as boto3 dicts. SRP is pycognito's `AWSSRP` (the same
arithmetic as Amplify's), so the password itself never goes to Cognito on the default flow.
selfservice.services makes its account calls through `call` too.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ParamValidationError
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from pycognito.aws_srp import AWSSRP, N_HEX, generate_hash_device, hex_to_long, long_to_hex

from accounts.errors import BoundaryError
from accounts.tokens import Tokens, tokens_verified
from config import aws

logger = logging.getLogger("accounts")


@dataclass(frozen=True)
class Step:
    """How the app answers one challenge: its step and the response its answer goes under."""

    name: str  # the step's view (URL name signin:<name>) and template (signin/<name>.html)
    answer_key: str  # the ChallengeResponses key of the form's answer; "" when it has its own call
    factor: str = ""  # a second factor's kind: totp, sms, email (MFA settings use the same)


# Every challenge the app has a step for, by Cognito's name; anything else fails closed.
# A new challenge or MFA type is an entry here, plus its form (signin/forms.py) and template.
STEPS = {
    "SOFTWARE_TOKEN_MFA": Step("mfa_code", "SOFTWARE_TOKEN_MFA_CODE", factor="totp"),
    "SMS_MFA": Step("mfa_code", "SMS_MFA_CODE", factor="sms"),
    "EMAIL_OTP": Step("mfa_code", "EMAIL_OTP_CODE", factor="email"),
    "SELECT_MFA_TYPE": Step("choose_factor", "ANSWER"),
    "MFA_SETUP": Step("mfa_setup", ""),
    "NEW_PASSWORD_REQUIRED": Step("new_password", "NEW_PASSWORD"),
    "CUSTOM_CHALLENGE": Step("custom_challenge", "ANSWER"),
}
# The first factors of choice-based sign-in (USER_AUTH), by Cognito's name. EMAIL_OTP is also a
# second factor above: a challenge is a first factor's when USER_AUTH asked for it (`first_factor`).
FIRST_FACTOR_STEPS = {
    "SELECT_CHALLENGE": Step("choose_first_factor", "ANSWER"),
    "EMAIL_OTP": Step("email_code", "EMAIL_OTP_CODE", factor="email"),
    "SMS_OTP": Step("sms_code", "SMS_OTP_CODE", factor="sms"),
    "WEB_AUTHN": Step("passkey", "CREDENTIAL", factor="passkey"),
}
# Each first factor's USER_AUTH name, by the kind the sign-in page offers.
FIRST_FACTORS = {step.factor: name for name, step in FIRST_FACTOR_STEPS.items() if step.factor}
# Each second factor's challenge, by its kind.
FACTORS = {step.factor: name for name, step in STEPS.items() if step.factor}
# The public challenge parameters a step may show; everything else Cognito sends is dropped.
_SHOWN_PARAMETERS = {
    "CODE_DELIVERY_DELIVERY_MEDIUM",
    "CODE_DELIVERY_DESTINATION",
    "MFAS_CAN_CHOOSE",
    "MFAS_CAN_SETUP",
    "requiredAttributes",
    "CREDENTIAL_REQUEST_OPTIONS",  # the browser's navigator.credentials.get() options: public
    "AVAILABLE_CHALLENGES",  # SELECT_CHALLENGE's AvailableChallenges, kept as a JSON list
}
# The name authenticator apps show beside the account.
TOTP_ISSUER = "Cognito reference app"

# Cognito's error codes mapped to the app's codes (their HTTP statuses: accounts.errors). An
# unknown user answers as a wrong password does, so accounts cannot be enumerated.
_ERRORS = {
    "NotAuthorizedException": "not_authorized",
    "UserNotFoundException": "not_authorized",
    "UserNotConfirmedException": "user_not_confirmed",
    "PasswordResetRequiredException": "password_reset_required",
    "CodeMismatchException": "code_mismatch",
    "EnableSoftwareTokenMFAException": "code_mismatch",
    "ExpiredCodeException": "expired_code",
    "TooManyFailedAttemptsException": "too_many_failed_attempts",
    "TooManyRequestsException": "throttled",
    "LimitExceededException": "throttled",
    "InvalidPasswordException": "invalid_password",
    "PasswordHistoryPolicyViolationException": "invalid_password",
    "UsernameExistsException": "username_exists",
    "AliasExistsException": "alias_exists",
    "InvalidParameterException": "invalid_parameter",
    "CodeDeliveryFailureException": "code_delivery_failed",
    "RefreshTokenReuseException": "refresh_token_reused",
    "SoftwareTokenMFANotFoundException": "mfa_not_set_up",
    "MFAMethodNotFoundException": "mfa_not_set_up",
    "UserLambdaValidationException": "rejected",
    "InternalErrorException": "unavailable",
    "ResourceNotFoundException": "not_found",
    "UserPoolAddOnNotEnabledException": "threat_protection_off",
    # Passkeys (issue 15): registration's refusals; a sign-in's are NotAuthorizedException.
    "WebAuthnChallengeNotFoundException": "passkey_expired",
    "WebAuthnClientMismatchException": "passkey_expired",
    "WebAuthnOriginNotAllowedException": "passkey_wrong_site",
    "WebAuthnRelyingPartyMismatchException": "passkey_wrong_site",
    "WebAuthnCredentialNotSupportedException": "passkey_not_supported",
    "WebAuthnNotEnabledException": "passkeys_off",
    "WebAuthnConfigurationMissingException": "passkeys_off",
}
# NotAuthorizedException means several things; its message tells which (cognito-facts 5.1).
_NOT_AUTHORIZED_MESSAGES = {
    "Password attempts exceeded": "locked_out",
    "Invalid session for the user, session is expired.": "session_expired",
    "Access Token has been revoked": "token_revoked",
    "Access Token has expired": "token_revoked",
    # Threat protection blocked the sign-in (a blocked address, or a risk level set to block).
    "Unable to login because of security reasons.": "blocked_by_risk",
}
# Threat protection found the password on a list of leaked ones (sign-up, reset, change).
_INVALID_PASSWORD_MESSAGES = {
    "Provided password cannot be used for security reasons.": "password_leaked",
}
_BY_MESSAGE = {
    "NotAuthorizedException": _NOT_AUTHORIZED_MESSAGES,
    "InvalidPasswordException": _INVALID_PASSWORD_MESSAGES,
}
# Operations an older endpoint may not know: refresh then falls back to REFRESH_TOKEN_AUTH.
_UNSUPPORTED = {
    "UnsupportedOperationException",
    "OperationNotEnabledException",
    "UnknownOperationException",
    "InvalidAction",
}


class UserPoolError(BoundaryError):
    """A user pools API call failed; `code` is the app's (its HTTP status: accounts.errors)."""


@dataclass(frozen=True)
class Challenge:
    """A step Cognito asks for before it issues tokens."""

    name: str
    session: str
    username: str  # the internal username: SECRET_HASH and every response must use it
    parameters: dict[str, str] = field(default_factory=dict)
    first_factor: bool = False  # asked by USER_AUTH before any password (`FIRST_FACTOR_STEPS`)
    # Why the browser's remembered device did not stand in for this step ("" when none was).
    device_refused: str = ""

    @property
    def factor_step(self) -> bool:
        """Whether this is a second-factor step (a code, or the choice of one)."""
        return not self.first_factor and (bool(self.factor) or self.name == "SELECT_MFA_TYPE")

    @property
    def _steps(self) -> dict[str, Step]:
        return FIRST_FACTOR_STEPS if self.first_factor else STEPS

    @property
    def step(self) -> str:
        """The app's step that answers this challenge (`STEPS`); "" when the app has none."""
        return self._steps[self.name].name if self.name in self._steps else ""

    @property
    def factor(self) -> str:
        """The factor a code step asks for: totp, sms, email (passkey); "" for other steps."""
        return self._steps[self.name].factor if self.name in self._steps else ""

    @property
    def available_factors(self) -> list[str]:
        """SELECT_CHALLENGE's first factors the user may use, as the app names them."""
        names = _json_list(self.parameters.get("AVAILABLE_CHALLENGES"))
        return [kind for kind, name in FIRST_FACTORS.items() if name in names]

    @property
    def request_options(self) -> str:
        """WEB_AUTHN's CREDENTIAL_REQUEST_OPTIONS (JSON) for navigator.credentials.get()."""
        return self.parameters.get("CREDENTIAL_REQUEST_OPTIONS", "")

    @property
    def destination(self) -> str:
        """Where the pool sent the code, masked as the pool masks it (`b***@e***`)."""
        return self.parameters.get("CODE_DELIVERY_DESTINATION", "")

    @property
    def factor_choices(self) -> list[str]:
        """The factors the user may choose from (SELECT_MFA_TYPE's JSON list), known ones only."""
        names = _json_list(self.parameters.get("MFAS_CAN_CHOOSE"))
        return [STEPS[name].factor for name in names if name in STEPS and STEPS[name].factor]

    @property
    def totp_setup_possible(self) -> bool:
        """Whether the pool lets this sign-in set up an authenticator app (MFA_SETUP)."""
        return "SOFTWARE_TOKEN_MFA" in self.parameters.get("MFAS_CAN_SETUP", "")

    @property
    def required_attributes(self) -> list[str]:
        """NEW_PASSWORD_REQUIRED's missing attributes, allow-listed ones only."""
        names = [a.removeprefix("userAttributes.") for a in self._required]
        return [name for name in names if name in settings.COGNITO_USER_ATTRIBUTES]

    @property
    def unsupported_attributes(self) -> list[str]:
        """Required attributes the app may not send: such a sign-in cannot finish here."""
        names = [a.removeprefix("userAttributes.") for a in self._required]
        return [name for name in names if name not in settings.COGNITO_USER_ATTRIBUTES]

    @property
    def _required(self) -> list[str]:
        return _json_list(self.parameters.get("requiredAttributes"))


# Why a browser's remembered device did not skip the second factor (`device_refused`).
DEVICE_FORGOTTEN = "forgotten"  # the pool no longer knows it: this site drops it too
DEVICE_NOT_REMEMBERED = "not_remembered"  # known, but not remembered (UpdateDeviceStatus)


@dataclass(frozen=True)
class DeviceSecret:
    """A remembered device: its key, its group and the random password its SRP verifier hides."""

    key: str
    group_key: str
    password: str


@dataclass(frozen=True)
class SignedIn(Tokens):
    """Tokens, with the device the pool met: a new one to confirm, or a remembered one."""

    new_device: tuple[str, str] | None = None  # NewDeviceMetadata: (DeviceKey, DeviceGroupKey)
    device_key: str = ""  # the confirmed device this sign-in's refresh token is bound to
    device_refused: str = ""  # DEVICE_FORGOTTEN: the browser's device is gone from the pool


@dataclass(frozen=True)
class TotpSecret:
    """A new authenticator secret and the otpauth URI its QR code carries."""

    secret: str
    uri: str
    session: str | None = None


@dataclass(frozen=True)
class PasswordPolicy:
    """The pool's password rules, in words."""

    rules: tuple[str, ...]


@dataclass(frozen=True)
class Browser:
    """What the pool's threat protection is told about the browser besides its address."""

    headers: tuple[tuple[str, str], ...] = ()  # safe headers only: never Cookie or Authorization
    path: str = ""


# The browser of the form whose call is running (signin.forms.UserPoolForm.call sets it): every
# call that sends the user's address sends this too, without each signature carrying it.
_NO_BROWSER = Browser()
_browser: ContextVar[Browser] = ContextVar("userpool_browser", default=_NO_BROWSER)


@contextmanager
def browser_context(browser: Browser) -> Iterator[None]:
    """Calls made inside tell the pool about this browser."""
    token = _browser.set(browser)
    try:
        yield
    finally:
        _browser.reset(token)


def user_context_data(address: str) -> dict[str, str]:
    """UserContextData (the public operations): the user's address.

    EncodedData is left out: Cognito reads it as its browser SDK's device fingerprint, which a
    server cannot make, and a made-up value is not what it expects.
    """
    return {"IpAddress": address}


# --- sign-in ------------------------------------------------------------------------------------


def _compromised_told(start: Any) -> Any:
    """A sign-in the pool refused because the (right) password was leaked says so.

    The demo client hides the account's new RESET_REQUIRED state behind "Incorrect username or
    password" (PreventUserExistenceErrors); the pool's own record of this sign-in tells.
    """

    @functools.wraps(start)
    def signin_start(*, username: str, password: str, address: str, **kwargs: Any) -> Any:
        try:
            return start(username=username, password=password, address=address, **kwargs)
        except UserPoolError as error:
            if error.code in _MAY_BE_COMPROMISED and _compromised_just_now(username, address):
                raise UserPoolError("password_compromised") from None
            raise

    return signin_start


_MAY_BE_COMPROMISED = {"not_authorized", "password_reset_required"}
# How recent the pool's compromised-credentials event must be to be this sign-in's own.
_COMPROMISED_EVENT_SECONDS = 60


def _compromised_just_now(username: str, address: str) -> bool:
    """Whether the user's newest auth event is a sign-in from this address whose password was
    right and leaked (AdminListUserAuthEvents; needs the app's AWS credentials)."""
    try:
        events = call(
            "admin_list_user_auth_events",
            UserPoolId=settings.COGNITO_USER_POOL_ID,
            Username=username,
            MaxResults=1,
        ).get("AuthEvents") or [{}]
    except UserPoolError:  # no credentials, no threat protection, no such user
        return False
    event = events[0]
    created = event.get("CreationDate")
    return (
        event.get("EventType") == "SignIn"
        and (event.get("EventContextData") or {}).get("IpAddress") == address
        and bool((event.get("EventRisk") or {}).get("CompromisedCredentialsDetected"))
        and {"ChallengeName": "Password", "ChallengeResponse": "Success"}
        in (event.get("ChallengeResponses") or [])
        and isinstance(created, datetime)
        and (datetime.now(UTC) - created).total_seconds() < _COMPROMISED_EVENT_SECONDS
    )


@_compromised_told
@sensitive_variables("password", "srp", "answers", "response", "device", "devices")
def signin_start(
    *,
    username: str,
    password: str,
    address: str,
    devices: Mapping[str, DeviceSecret] | None = None,
) -> Tokens | Challenge:
    """Sign in with username and password: SRP by default, USER_PASSWORD_AUTH by setting.

    `devices` are the devices this browser remembers, by the pool's internal username. The
    pool names the user behind whatever was typed (an alias, another case) in USER_ID_FOR_SRP;
    that user's device, if any, answers the pool's device challenge (DEVICE_SRP_AUTH,
    DEVICE_PASSWORD_VERIFIER) instead of the second factor, as Amplify does.
    """
    if settings.COGNITO_AUTH_FLOW == "USER_PASSWORD_AUTH":
        flow = "ADMIN_USER_PASSWORD_AUTH" if settings.COGNITO_ADMIN_AUTH else "USER_PASSWORD_AUTH"
        params = {"USERNAME": username, "PASSWORD": password, **_secret_hash(username)}
        return _result(_initiate(flow, params, address=address), username=username)
    srp = AWSSRP(
        username=username,
        password=password,
        pool_id=settings.COGNITO_USER_POOL_ID,
        client_id=settings.COGNITO_CLIENT_ID,
        client_secret=settings.COGNITO_CLIENT_SECRET,
        client=_idp(),
    )
    response = _initiate("USER_SRP_AUTH", srp.get_auth_params(), address=address)
    if response.get("ChallengeName") != "PASSWORD_VERIFIER":
        return _result(response, username=username)
    parameters = response["ChallengeParameters"]
    # SRP-6a safety check pycognito leaves out: B must not be 0 mod N.
    if hex_to_long(parameters.get("SRP_B", "0")) % hex_to_long(N_HEX) == 0:
        raise UserPoolError("not_authorized")
    # The device of the user the pool named, never of the name as typed. An unknown name gets
    # the pool's decoy USER_ID_FOR_SRP and no device: the answer tells nothing more.
    device = (devices or {}).get(str(parameters.get("USER_ID_FOR_SRP") or ""))
    if device:
        srp.device_key, srp.device_group_key = device.key, device.group_key
        srp.device_password = device.password
    answers = srp.process_challenge(parameters, srp.get_auth_params())
    try:
        verified = _respond("PASSWORD_VERIFIER", response.get("Session"), answers, address=address)
    except UserPoolError as error:
        if not device or error.code != "not_found":
            raise
        # "Device does not exist.": forgotten (ForgetDevice, AdminForgetDevice). Amplify drops
        # it and answers again without it; here the sign-in starts again without it.
        result = signin_start(username=username, password=password, address=address)
        return replace(result, device_refused=DEVICE_FORGOTTEN)
    user_id = answers["USERNAME"]
    if device and verified.get("ChallengeName") == "DEVICE_SRP_AUTH":
        verified = _device_verified(srp, verified, username=user_id, address=address)
        result = _result(verified, username=user_id)
        return replace(result, device_key=device.key) if isinstance(result, SignedIn) else result
    result = _result(verified, username=user_id)
    if device and isinstance(result, Challenge) and result.factor_step:
        # Named, known, yet no device challenge: the device is not remembered (any more).
        return replace(result, device_refused=DEVICE_NOT_REMEMBERED)
    return result


@sensitive_variables("srp", "step", "answers")
def _device_verified(
    srp: AWSSRP, challenge: dict[str, Any], *, username: str, address: str
) -> dict[str, Any]:
    """The remembered device's SRP (pycognito's arithmetic), instead of the second factor."""
    responses = {
        "USERNAME": username,
        "DEVICE_KEY": srp.device_key,
        "SRP_A": long_to_hex(srp.large_a_value),
        **_secret_hash(username),
    }
    step = _respond("DEVICE_SRP_AUTH", challenge.get("Session"), responses, address=address)
    if step.get("ChallengeName") != "DEVICE_PASSWORD_VERIFIER":
        return step
    parameters = step.get("ChallengeParameters") or {}
    if hex_to_long(parameters.get("SRP_B", "0")) % hex_to_long(N_HEX) == 0:
        raise UserPoolError("not_authorized")
    answers = srp.process_device_challenge(parameters)
    return _respond("DEVICE_PASSWORD_VERIFIER", step.get("Session"), answers, address=address)


@sensitive_variables("access_token", "password", "verifier")
def device_remember(*, access_token: str, new_device: tuple[str, str], name: str) -> DeviceSecret:
    """Confirm this sign-in's new device with its SRP verifier and ask the pool to remember it.

    The device's password is random (pycognito's generate_hash_device); only its verifier goes
    to the pool, and the caller keeps the password server-side for DEVICE_SRP_AUTH.
    """
    key, group_key = new_device
    password, verifier = generate_hash_device(group_key, key)
    call(
        "confirm_device",
        AccessToken=access_token,
        DeviceKey=key,
        DeviceSecretVerifierConfig=verifier,
        DeviceName=name[:1024],
    )
    call(
        "update_device_status",
        AccessToken=access_token,
        DeviceKey=key,
        DeviceRememberedStatus="remembered",
    )
    return DeviceSecret(key=key, group_key=group_key, password=password)


def custom_signin_start(*, username: str, address: str) -> Tokens | Challenge:
    """Start the pool's custom challenge (CUSTOM_AUTH): here, a one-time code sent by email.

    The pool hides unknown users behind a challenge no answer passes (`userNotFound`); an
    unconfirmed account, or one whose password must be reset, gets the same decoy here, so that
    asking for a code never tells which accounts exist or how they stand.
    """
    params = {"USERNAME": username, **_secret_hash(username)}
    try:
        return _result(_initiate("CUSTOM_AUTH", params, address=address), username=username)
    except UserPoolError as error:
        if error.code not in _HIDDEN_STANDINGS:
            raise
    return Challenge(name="CUSTOM_CHALLENGE", session="", username=username)


def first_factor_start(*, username: str, factor: str, address: str) -> Tokens | Challenge:
    """Start choice-based sign-in (USER_AUTH) with the first factor the user picked.

    `factor` is email, sms, passkey, or "" for the pool's choice (SELECT_CHALLENGE). When the
    user may not use the factor (no verified address, no passkey, or MFA on: Cognito offers
    passwordless factors only to users without MFA), the pool answers SELECT_CHALLENGE without it;
    an unconfirmed account, or one whose password must be reset, is refused. Both get a decoy of
    the factor's step, as an unknown user gets, so the answer never tells how an account stands.
    """
    params = {"USERNAME": username, **_secret_hash(username)}
    if factor:
        params["PREFERRED_CHALLENGE"] = FIRST_FACTORS[factor]
    try:
        started = _initiate("USER_AUTH", params, address=address)
        result = _result(started, username=username, first_factor=True)
    except UserPoolError as error:
        if error.code not in _HIDDEN_STANDINGS or not factor:
            raise
        return first_factor_decoy(username=username, factor=factor)
    if factor and isinstance(result, Challenge) and result.name != FIRST_FACTORS[factor]:
        return first_factor_decoy(username=username, factor=factor)
    return result


@sensitive_variables("session", "params")
def signup_signin(*, username: str, session: str, address: str) -> Tokens | Challenge:
    """Sign a user in straight after sign-up: USER_AUTH with ConfirmSignUp's Session.

    The pool takes the confirmation code as the first factor (InitiateAuthRequest.Session), once,
    within AuthSessionValidity; MFA, or its setup, follows as after a password.
    """
    params = {"USERNAME": username, **_secret_hash(username)}
    return _result(
        _initiate("USER_AUTH", params, address=address, session=session), username=username
    )


def first_factor_decoy(*, username: str, factor: str) -> Challenge:
    """The step of `factor` with no Session: no answer passes it (see `_decoy_answer`)."""
    parameters = {}
    if factor == "passkey":
        # As the pool's options for a name with no passkey: a fresh challenge, no credentials.
        challenge = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        options = {"challenge": challenge, "allowCredentials": [], "userVerification": "required"}
        parameters["CREDENTIAL_REQUEST_OPTIONS"] = json.dumps(options)
    return Challenge(
        name=FIRST_FACTORS[factor],
        session="",
        username=username,
        parameters=parameters,
        first_factor=True,
    )


@sensitive_variables("answer", "responses")
def first_factor_answer(*, challenge: Challenge, answer: str, address: str) -> Tokens | Challenge:
    """Answer a USER_AUTH step: a chosen factor, an emailed or texted code, a passkey's CREDENTIAL.

    A chosen factor the user may not use gets that factor's decoy (see `first_factor_start`).
    """
    if not challenge.session:
        return _decoy_answer(challenge)
    step = FIRST_FACTOR_STEPS.get(challenge.name)
    if step is None or not challenge.first_factor:
        raise UserPoolError("unsupported_challenge")
    if step.name == "choose_first_factor":
        if answer not in challenge.available_factors:
            return first_factor_decoy(username=challenge.username, factor=answer)
        answer = FIRST_FACTORS[answer]
    responses = {step.answer_key: answer, "USERNAME": challenge.username}
    responses |= _secret_hash(challenge.username)
    response = _respond(challenge.name, challenge.session, responses, address=address)
    return _result(response, username=challenge.username, first_factor=True)


# What a code sign-in must not reveal about an account that exists.
_HIDDEN_STANDINGS = {"user_not_confirmed", "password_reset_required"}


@sensitive_variables("answer", "responses")
def challenge_answer(
    *,
    challenge: Challenge,
    answer: str,
    address: str,
    attributes: dict[str, str] | None = None,
) -> Tokens | Challenge:
    """Answer one challenge (an MFA code, a chosen factor, a new password, a custom answer)."""
    if not challenge.session:
        return _decoy_answer(challenge)
    step = STEPS.get(challenge.name)
    if step is None or not step.answer_key:
        raise UserPoolError("unsupported_challenge")
    if step.name == "choose_factor":
        answer = FACTORS.get(answer, "")  # the app's factor kind, as the pool names its challenge
    responses = {step.answer_key: answer}
    for name, value in attributes_allowed(attributes or {}).items():
        responses[f"userAttributes.{name}"] = value
    responses |= {"USERNAME": challenge.username, **_secret_hash(challenge.username)}
    response = _respond(challenge.name, challenge.session, responses, address=address)
    return _result(response, username=challenge.username)


def _decoy_answer(challenge: Challenge) -> Challenge:
    """A decoy takes wrong answers as the pool's step does: a code three, a passkey one."""
    tries = int(challenge.parameters.get("DECOY_TRIES", "0")) + 1
    if tries >= _CUSTOM_CODE_TRIES or challenge.name == "WEB_AUTHN":
        raise UserPoolError("not_authorized")
    return replace(challenge, parameters={**challenge.parameters, "DECOY_TRIES": str(tries)})


# The sample custom-auth trigger's tries per code (emulator/triggers.py MAX_CODE_TRIES).
_CUSTOM_CODE_TRIES = 3


def mfa_setup_start(*, challenge: Challenge) -> TotpSecret:
    """MFA_SETUP: a new authenticator secret for this sign-in (AssociateSoftwareToken(Session))."""
    if not challenge.totp_setup_possible:
        raise UserPoolError("unsupported_challenge")
    response = call("associate_software_token", Session=challenge.session)
    return totp_secret(response, username=challenge.username)


@sensitive_variables("code", "verified")
def mfa_setup_finish(*, challenge: Challenge, code: str, address: str) -> Tokens | Challenge:
    """Check the first code (VerifySoftwareToken), then answer MFA_SETUP with its Session."""
    session = challenge.session
    verified = call("verify_software_token", Session=session, UserCode=code)
    if verified.get("Status") != "SUCCESS":
        raise UserPoolError("code_mismatch")
    responses = {"USERNAME": challenge.username, **_secret_hash(challenge.username)}
    response = _respond("MFA_SETUP", verified.get("Session") or session, responses, address=address)
    return _result(response, username=challenge.username)


@sensitive_variables("access_token")
def mfa_enabled(*, access_token: str) -> bool:
    """Whether the user has any second factor turned on (GetUser)."""
    return bool(call("get_user", AccessToken=access_token).get("UserMFASettingList"))


@sensitive_variables("refresh_token", "response")
def tokens_refresh(
    *, refresh_token: str, username: str, previous_claims: dict[str, Any], device_key: str = ""
) -> Tokens:
    """New tokens: GetTokensFromRefreshToken (rotation-aware), else REFRESH_TOKEN_AUTH.

    With rotation on, the answer carries a new refresh token that replaces this one, and reusing
    the old one raises `refresh_token_reused`. REFRESH_TOKEN_AUTH never rotates.
    """
    try:
        response = call(
            "get_tokens_from_refresh_token",
            RefreshToken=refresh_token,
            ClientId=settings.COGNITO_CLIENT_ID,
            # The raw secret here, not a SECRET_HASH (cognito-facts 2.5).
            **(
                {"ClientSecret": settings.COGNITO_CLIENT_SECRET}
                if settings.COGNITO_CLIENT_SECRET
                else {}
            ),
            # A refresh token issued to a confirmed device refreshes only with its key.
            **({"DeviceKey": device_key} if device_key else {}),
        )
    except _Unsupported:
        params = {"REFRESH_TOKEN": refresh_token, **_secret_hash(username)}
        if device_key:
            params["DEVICE_KEY"] = device_key
        response = _initiate("REFRESH_TOKEN_AUTH", params, address=None)
    tokens = _tokens(response["AuthenticationResult"], refresh_token=refresh_token)
    # OIDC Core 12.2: a refreshed ID token must name the same subject, issuer and audience.
    for claim in ("iss", "sub", "aud"):
        if tokens.claims.get(claim) != previous_claims.get(claim):
            raise UserPoolError("identity_changed")
    return tokens


_pool_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_pool_lock = threading.Lock()
POLICY_CACHE_SECONDS = 10 * 60


def pool_described() -> dict[str, Any] | None:
    """The pool's settings (DescribeUserPool), kept POLICY_CACHE_SECONDS; None without an answer
    (no AWS credentials, no permission): each caller then falls back on its own default."""
    cached = _pool_cache.get(settings.COGNITO_USER_POOL_ID)
    if cached and time.monotonic() - cached[0] < POLICY_CACHE_SECONDS:
        return cached[1]
    try:
        pool = call("describe_user_pool", UserPoolId=settings.COGNITO_USER_POOL_ID)["UserPool"]
    except (UserPoolError, KeyError):
        return None
    with _pool_lock:
        _pool_cache[settings.COGNITO_USER_POOL_ID] = (time.monotonic(), pool)
    return pool


def password_policy_get() -> PasswordPolicy:
    """The pool's password policy in words (DescribeUserPool), else the configured text."""
    try:
        return PasswordPolicy(rules=_policy_rules(pool_described()["Policies"]["PasswordPolicy"]))
    except (TypeError, KeyError):
        return PasswordPolicy(rules=(settings.COGNITO_PASSWORD_POLICY_TEXT,))


# --- the wire -----------------------------------------------------------------------------------


class _Unsupported(UserPoolError):
    def __init__(self) -> None:
        super().__init__("unsupported_operation")


def _idp() -> Any:
    return aws.client("cognito-idp")


@sensitive_variables("params")
def call(operation: str, **params: Any) -> dict[str, Any]:
    """Call one cognito-idp operation; every failure leaves as a `UserPoolError`."""
    try:
        return getattr(_idp(), operation)(**params)
    except ClientError as error:
        raise _mapped(operation, error) from None
    except ParamValidationError:
        raise UserPoolError("invalid_parameter") from None
    except NoCredentialsError:
        raise UserPoolError("unavailable") from None
    except BotoCoreError as error:
        logger.warning("event=userpool_unreachable op=%s error=%s", operation, type(error).__name__)
        raise UserPoolError("unavailable") from None


def _mapped(operation: str, error: ClientError) -> UserPoolError:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    http_status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in _UNSUPPORTED:
        return _Unsupported()
    if message in _BY_MESSAGE.get(code, {}):
        app_code = _BY_MESSAGE[code][message]
    elif code in _ERRORS:
        app_code = _ERRORS[code]
    elif http_status >= 500:
        app_code = "unavailable"
    else:
        app_code = "unexpected"
    # The code only: messages can echo user input.
    logger.info("event=userpool_error op=%s code=%s mapped=%s", operation, code or "-", app_code)
    return UserPoolError(app_code)


@sensitive_variables("params", "session")
def _initiate(
    flow: str, params: dict[str, str], *, address: str | None, session: str = ""
) -> dict[str, Any]:
    common: dict[str, Any] = {
        "ClientId": settings.COGNITO_CLIENT_ID,
        "AuthFlow": flow,
        "AuthParameters": params,
    }
    if session:
        common["Session"] = session
    if settings.COGNITO_ADMIN_AUTH:
        return call(
            "admin_initiate_auth",
            UserPoolId=settings.COGNITO_USER_POOL_ID,
            **common,
            **_admin_context(address),
        )
    return call(
        "initiate_auth",
        **common,
        **({"UserContextData": user_context_data(address)} if address else {}),
    )


@sensitive_variables("session", "responses")
def _respond(
    name: str, session: str | None, responses: dict[str, str], *, address: str
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ClientId": settings.COGNITO_CLIENT_ID,
        "ChallengeName": name,
        "ChallengeResponses": responses,
        **({"Session": session} if session else {}),
    }
    if settings.COGNITO_ADMIN_AUTH:
        return call(
            "admin_respond_to_auth_challenge",
            UserPoolId=settings.COGNITO_USER_POOL_ID,
            **params,
            **_admin_context(address),
        )
    return call("respond_to_auth_challenge", UserContextData=user_context_data(address), **params)


def _admin_context(address: str | None) -> dict[str, Any]:
    # The admin operations take the user's context as ContextData, with the server named.
    if not address:
        return {}
    browser = _browser.get()
    return {
        "ContextData": {
            "IpAddress": address,
            "ServerName": urlsplit(settings.APP_URL).hostname or "localhost",
            "ServerPath": browser.path or "/accounts/signin/",
            "HttpHeaders": [{"headerName": n, "headerValue": v} for n, v in browser.headers],
        }
    }


@sensitive_variables("response")
def _result(
    response: dict[str, Any], *, username: str, first_factor: bool = False
) -> Tokens | Challenge:
    """Tokens when Cognito issued them, else the next challenge; an unknown one fails closed.

    USER_AUTH's first answer (or the answer to its SELECT_CHALLENGE) asks for a first factor;
    a challenge after a password is a second factor, as in USER_SRP_AUTH.
    """
    if "AuthenticationResult" in response:
        result = response["AuthenticationResult"]
        tokens = _tokens(result, refresh_token=None)
        metadata = result.get("NewDeviceMetadata") or {}
        new_device = (
            (str(metadata["DeviceKey"]), str(metadata["DeviceGroupKey"]))
            if metadata.get("DeviceKey") and metadata.get("DeviceGroupKey")
            else None
        )
        return SignedIn(**vars(tokens), new_device=new_device)
    name = response.get("ChallengeName")
    first_factor = first_factor and name in FIRST_FACTOR_STEPS
    if (name not in STEPS and not first_factor) or not response.get("Session"):
        logger.warning("event=challenge_unsupported challenge=%s", str(name)[:40])
        raise UserPoolError("unsupported_challenge")
    parameters = dict(response.get("ChallengeParameters") or {})
    if "AvailableChallenges" in response:
        parameters["AVAILABLE_CHALLENGES"] = json.dumps(response["AvailableChallenges"])
    return Challenge(
        name=name,
        session=response["Session"],
        username=parameters.get("USER_ID_FOR_SRP") or parameters.get("USERNAME") or username,
        parameters={k: str(v) for k, v in parameters.items() if k in _SHOWN_PARAMETERS},
        first_factor=first_factor,
    )


@sensitive_variables("result", "refresh_token")
def _tokens(result: dict[str, Any], *, refresh_token: str | None) -> Tokens:
    """The answer's tokens, verified as the callback verifies its own (`TokenInvalid` if not)."""
    return tokens_verified(
        id_token=result.get("IdToken"),
        access_token=result.get("AccessToken"),
        # A refresh answer carries a new refresh token only when the client rotates them.
        refresh_token=result.get("RefreshToken") or refresh_token,
    )


def totp_uri(*, secret: str, username: str) -> str:
    """The otpauth:// URI authenticator apps read from the QR code."""
    issuer = quote(TOTP_ISSUER)
    return f"otpauth://totp/{issuer}:{quote(username)}?secret={secret}&issuer={issuer}"


def totp_secret(response: dict[str, Any], *, username: str) -> TotpSecret:
    secret = response["SecretCode"]
    uri = totp_uri(secret=secret, username=username)
    return TotpSecret(secret=secret, uri=uri, session=response.get("Session"))


def attributes_allowed(attributes: dict[str, str]) -> dict[str, str]:
    """Only the allow-listed attributes, whatever the caller passed."""
    return {k: v for k, v in attributes.items() if k in settings.COGNITO_USER_ATTRIBUTES and v}


@sensitive_variables("digest")
def secret_hash(username: str) -> str:
    """SECRET_HASH = base64(HMAC-SHA256(client secret, username + client id))."""
    message = (username + settings.COGNITO_CLIENT_ID).encode()
    digest = hmac.new(settings.COGNITO_CLIENT_SECRET.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _secret_hash(username: str) -> dict[str, str]:
    return {"SECRET_HASH": secret_hash(username)} if settings.COGNITO_CLIENT_SECRET else {}


def secret_hash_param(username: str) -> dict[str, str]:
    return {"SecretHash": secret_hash(username)} if settings.COGNITO_CLIENT_SECRET else {}


def first_factors_offered() -> tuple[str, ...]:
    """The passwordless first factors the pool allows (SignInPolicy), as the app names them.

    The same for every visitor: which factors one account may use is never shown (see
    `first_factor_start`). Without an answer from the pool, none: the password form stays.
    """
    pool = pool_described() or {}
    allowed = (pool.get("Policies", {}).get("SignInPolicy") or {}).get("AllowedFirstAuthFactors")
    return tuple(kind for kind, name in FIRST_FACTORS.items() if name in (allowed or ()))


def remember_device_offered() -> bool:
    """Whether a remembered device skips the second factor in this pool, so the MFA step may
    offer "Remember this device": its DeviceConfiguration has ChallengeRequiredOnNewDevice.

    Without it a remembered device proves itself and MFA is asked all the same (botocore's
    DeviceConfigurationType). Without an answer from the pool (no AWS credentials), offered: a
    pool that does not track devices sends no NewDeviceMetadata, and nothing is remembered.
    """
    pool = pool_described()
    if pool is None:
        return True
    return bool((pool.get("DeviceConfiguration") or {}).get("ChallengeRequiredOnNewDevice"))


def _json_list(value: str | None) -> list[str]:
    try:
        items = json.loads(value or "[]")
    except ValueError:
        return []
    return [str(item) for item in items] if isinstance(items, list) else []


def _policy_rules(policy: dict[str, Any]) -> tuple[str, ...]:
    rules = [f"At least {policy.get('MinimumLength', 8)} characters"]
    for key, text in (
        ("RequireUppercase", "an upper-case letter"),
        ("RequireLowercase", "a lower-case letter"),
        ("RequireNumbers", "a number"),
        ("RequireSymbols", "a symbol"),
    ):
        if policy.get(key):
            rules.append(f"At least {text}")
    return tuple(rules)


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
        policy = pool_described()["Policies"]["PasswordPolicy"]  # type: ignore[index]
    except (TypeError, KeyError):
        return ()
    minimum = int(policy.get("MinimumLength", 8))
    broken = [f"at least {minimum} characters"] if len(password) < minimum else []
    broken += [
        text
        for key, text, test in _RULES
        if policy.get(key) and not any(test(char) for char in password)
    ]
    return tuple(broken)
