"""API sign-in and self-service through the user pools API: the only module that calls cognito-idp.

AWS vocabulary stops here. Every call goes through `_call`, which maps a `ClientError`'s code
through `_ERRORS` to the app's own codes and raises `UserPoolError`; results leave as the frozen
dataclasses below, never as boto3 dicts. SRP is pycognito's `AWSSRP` (the same arithmetic as
Amplify's), so the password itself never goes to Cognito on the default flow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ParamValidationError
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from pycognito.aws_srp import AWSSRP, N_HEX, hex_to_long

from accounts.services import ManagedLoginError, Tokens, tokens_verify
from config import aws

logger = logging.getLogger("accounts")

# The challenges the app has a step for. Anything else fails closed.
MFA_CODE_CHALLENGES = {
    "SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE",
    "SMS_MFA": "SMS_MFA_CODE",
    "EMAIL_OTP": "EMAIL_OTP_CODE",
}
CHALLENGES = {
    *MFA_CODE_CHALLENGES,
    "SELECT_MFA_TYPE",
    "MFA_SETUP",
    "NEW_PASSWORD_REQUIRED",
    "CUSTOM_CHALLENGE",
}
# The public challenge parameters a step may show; everything else Cognito sends is dropped.
_SHOWN_PARAMETERS = {
    "CODE_DELIVERY_DELIVERY_MEDIUM",
    "CODE_DELIVERY_DESTINATION",
    "MFAS_CAN_CHOOSE",
    "MFAS_CAN_SETUP",
    "requiredAttributes",
}
MFA_TYPES = {"SOFTWARE_TOKEN_MFA": "totp", "SMS_MFA": "sms", "EMAIL_OTP": "email"}
_MFA_SETTINGS = {
    "totp": "SoftwareTokenMfaSettings",
    "sms": "SMSMfaSettings",
    "email": "EmailMfaSettings",
}
# The name authenticator apps show beside the account.
TOTP_ISSUER = "Cognito reference app"

# Cognito's error codes mapped to the app's codes and HTTP statuses. An unknown user answers as a
# wrong password does, so accounts cannot be enumerated.
_ERRORS: dict[str, tuple[str, int]] = {
    "NotAuthorizedException": ("not_authorized", 400),
    "UserNotFoundException": ("not_authorized", 400),
    "UserNotConfirmedException": ("user_not_confirmed", 400),
    "PasswordResetRequiredException": ("password_reset_required", 400),
    "CodeMismatchException": ("code_mismatch", 400),
    "EnableSoftwareTokenMFAException": ("code_mismatch", 400),
    "ExpiredCodeException": ("expired_code", 400),
    "TooManyFailedAttemptsException": ("too_many_failed_attempts", 429),
    "TooManyRequestsException": ("throttled", 429),
    "LimitExceededException": ("throttled", 429),
    "InvalidPasswordException": ("invalid_password", 400),
    "PasswordHistoryPolicyViolationException": ("invalid_password", 400),
    "UsernameExistsException": ("username_exists", 400),
    "AliasExistsException": ("alias_exists", 400),
    "InvalidParameterException": ("invalid_parameter", 400),
    "CodeDeliveryFailureException": ("code_delivery_failed", 503),
    "RefreshTokenReuseException": ("refresh_token_reused", 401),
    "SoftwareTokenMFANotFoundException": ("mfa_not_set_up", 400),
    "MFAMethodNotFoundException": ("mfa_not_set_up", 400),
    "UserLambdaValidationException": ("rejected", 400),
    "InternalErrorException": ("unavailable", 503),
}
# NotAuthorizedException means several things; its message tells which (cognito-facts 5.1).
_NOT_AUTHORIZED_MESSAGES = {
    "Password attempts exceeded": ("locked_out", 429),
    "Invalid session for the user, session is expired.": ("session_expired", 400),
    "Access Token has been revoked": ("token_revoked", 401),
    "Access Token has expired": ("token_revoked", 401),
}
# Operations an older endpoint may not know: refresh then falls back to REFRESH_TOKEN_AUTH.
_UNSUPPORTED = {
    "UnsupportedOperationException",
    "OperationNotEnabledException",
    "UnknownOperationException",
    "InvalidAction",
}


class UserPoolError(Exception):
    """A user pools API call failed; `code` is the app's, `status` the HTTP status to answer."""

    def __init__(self, code: str, *, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Challenge:
    """A step Cognito asks for before it issues tokens."""

    name: str
    session: str
    username: str  # the internal username: SECRET_HASH and every response must use it
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def mfa_choices(self) -> list[str]:
        """SELECT_MFA_TYPE's options (a JSON-encoded list), known types only."""
        return [c for c in _json_list(self.parameters.get("MFAS_CAN_CHOOSE")) if c in MFA_TYPES]

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


@dataclass(frozen=True)
class CodeDelivery:
    """Where Cognito sent a code, masked as Cognito masks it (`b***@e***`)."""

    destination: str
    medium: str


@dataclass(frozen=True)
class TotpSecret:
    """A new authenticator secret and the otpauth URI its QR code carries."""

    secret: str
    uri: str
    session: str | None = None


@dataclass(frozen=True)
class Profile:
    """The signed-in user as the pool sees them: allow-listed attributes and MFA settings."""

    username: str
    attributes: dict[str, str]
    email_verified: bool
    mfa_enabled: tuple[str, ...]
    mfa_preferred: str | None


@dataclass(frozen=True)
class PasswordPolicy:
    """The pool's password rules, in words."""

    rules: tuple[str, ...]


# --- sign-in ------------------------------------------------------------------------------------


@sensitive_variables("password", "srp", "answers", "response")
def signin_start(*, username: str, password: str, address: str) -> Tokens | Challenge:
    """Sign in with username and password: SRP by default, USER_PASSWORD_AUTH by setting."""
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
    answers = srp.process_challenge(parameters, srp.get_auth_params())
    verified = _respond("PASSWORD_VERIFIER", response.get("Session"), answers, address=address)
    return _result(verified, username=answers["USERNAME"])


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
    """Answer one challenge (an MFA code, a chosen MFA type, a new password, a custom answer)."""
    if not challenge.session:
        return _decoy_answer(challenge)
    if challenge.name in MFA_CODE_CHALLENGES:
        responses = {MFA_CODE_CHALLENGES[challenge.name]: answer}
    elif challenge.name == "NEW_PASSWORD_REQUIRED":
        responses = {"NEW_PASSWORD": answer}
        for name, value in _allowed(attributes or {}).items():
            responses[f"userAttributes.{name}"] = value
    elif challenge.name in ("SELECT_MFA_TYPE", "CUSTOM_CHALLENGE"):
        responses = {"ANSWER": answer}
    else:
        raise UserPoolError("unsupported_challenge")
    responses |= {"USERNAME": challenge.username, **_secret_hash(challenge.username)}
    response = _respond(challenge.name, challenge.session, responses, address=address)
    return _result(response, username=challenge.username)


def _decoy_answer(challenge: Challenge) -> Challenge:
    """A decoy takes wrong answers as the pool's code challenge does: three, then it ends."""
    tries = int(challenge.parameters.get("DECOY_TRIES", "0")) + 1
    if tries >= _CUSTOM_CODE_TRIES:
        raise UserPoolError("not_authorized")
    return replace(challenge, parameters={"DECOY_TRIES": str(tries)})


# The sample custom-auth trigger's tries per code (emulator/triggers.py MAX_CODE_TRIES).
_CUSTOM_CODE_TRIES = 3


def mfa_setup_start(*, challenge: Challenge) -> TotpSecret:
    """MFA_SETUP: a new authenticator secret for this sign-in (AssociateSoftwareToken(Session))."""
    response = _call("associate_software_token", Session=challenge.session)
    return _totp_secret(response, username=challenge.username)


@sensitive_variables("code", "verified")
def mfa_setup_finish(*, challenge: Challenge, code: str, address: str) -> Tokens | Challenge:
    """Check the first code (VerifySoftwareToken), then answer MFA_SETUP with its Session."""
    session = challenge.session
    verified = _call("verify_software_token", Session=session, UserCode=code)
    if verified.get("Status") != "SUCCESS":
        raise UserPoolError("code_mismatch")
    responses = {"USERNAME": challenge.username, **_secret_hash(challenge.username)}
    response = _respond("MFA_SETUP", verified.get("Session") or session, responses, address=address)
    return _result(response, username=challenge.username)


@sensitive_variables("refresh_token", "response")
def tokens_refresh(*, refresh_token: str, username: str, previous_claims: dict[str, Any]) -> Tokens:
    """New tokens: GetTokensFromRefreshToken (rotation-aware), else REFRESH_TOKEN_AUTH.

    With rotation on, the answer carries a new refresh token that replaces this one, and reusing
    the old one raises `refresh_token_reused`. REFRESH_TOKEN_AUTH never rotates.
    """
    try:
        response = _call(
            "get_tokens_from_refresh_token",
            RefreshToken=refresh_token,
            ClientId=settings.COGNITO_CLIENT_ID,
            # The raw secret here, not a SECRET_HASH (cognito-facts 2.5).
            **(
                {"ClientSecret": settings.COGNITO_CLIENT_SECRET}
                if settings.COGNITO_CLIENT_SECRET
                else {}
            ),
        )
    except _Unsupported:
        params = {"REFRESH_TOKEN": refresh_token, **_secret_hash(username)}
        response = _initiate("REFRESH_TOKEN_AUTH", params, address=None)
    tokens = _tokens(response["AuthenticationResult"], refresh_token=refresh_token)
    # OIDC Core 12.2: a refreshed ID token must name the same subject, issuer and audience.
    for claim in ("iss", "sub", "aud"):
        if tokens.claims.get(claim) != previous_claims.get(claim):
            raise UserPoolError("identity_changed", status=401)
    return tokens


# --- sign-up and passwords ----------------------------------------------------------------------


@sensitive_variables("password")
def signup_create(
    *, username: str, password: str, attributes: dict[str, str], address: str
) -> CodeDelivery | None:
    """Register a user; the pool sends a confirmation code (None when it confirmed them itself)."""
    response = _call(
        "sign_up",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        Password=password,
        UserAttributes=[{"Name": k, "Value": v} for k, v in _allowed(attributes).items()],
        UserContextData={"IpAddress": address},
        **_secret_hash_param(username),
    )
    return None if response.get("UserConfirmed") else _delivery(response)


@sensitive_variables("code")
def signup_confirm(*, username: str, code: str, address: str) -> None:
    """Confirm a sign-up with the code the user received."""
    _call(
        "confirm_sign_up",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        ConfirmationCode=code,
        UserContextData={"IpAddress": address},
        **_secret_hash_param(username),
    )


def signup_code_resend(*, username: str, address: str) -> CodeDelivery | None:
    """Send the sign-up confirmation code again."""
    response = _call(
        "resend_confirmation_code",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        UserContextData={"IpAddress": address},
        **_secret_hash_param(username),
    )
    return _delivery(response)


def password_forgot(*, username: str, address: str) -> CodeDelivery | None:
    """Send a reset code; an unknown user looks the same from outside (no enumeration)."""
    try:
        response = _call(
            "forgot_password",
            ClientId=settings.COGNITO_CLIENT_ID,
            Username=username,
            UserContextData={"IpAddress": address},
            **_secret_hash_param(username),
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
    _call(
        "confirm_forgot_password",
        ClientId=settings.COGNITO_CLIENT_ID,
        Username=username,
        ConfirmationCode=code,
        Password=password,
        UserContextData={"IpAddress": address},
        **_secret_hash_param(username),
    )


@sensitive_variables("access_token", "old_password", "new_password")
def password_change(*, access_token: str, old_password: str, new_password: str) -> None:
    """Change the signed-in user's password."""
    _call(
        "change_password",
        AccessToken=access_token,
        PreviousPassword=old_password,
        ProposedPassword=new_password,
    )


_policy_cache: dict[str, tuple[float, PasswordPolicy]] = {}
_policy_lock = threading.Lock()
POLICY_CACHE_SECONDS = 10 * 60


def password_policy_get() -> PasswordPolicy:
    """The pool's password policy in words (DescribeUserPool), else the configured text."""
    cached = _policy_cache.get(settings.COGNITO_USER_POOL_ID)
    if cached and time.monotonic() - cached[0] < POLICY_CACHE_SECONDS:
        return cached[1]
    try:
        pool = _call("describe_user_pool", UserPoolId=settings.COGNITO_USER_POOL_ID)
        policy = PasswordPolicy(rules=_policy_rules(pool["UserPool"]["Policies"]["PasswordPolicy"]))
    except (UserPoolError, KeyError):
        # No AWS credentials, no permission, or no answer: the configured description instead.
        return PasswordPolicy(rules=(settings.COGNITO_PASSWORD_POLICY_TEXT,))
    with _policy_lock:
        _policy_cache[settings.COGNITO_USER_POOL_ID] = (time.monotonic(), policy)
    return policy


# --- profile and MFA ----------------------------------------------------------------------------


@sensitive_variables("access_token")
def profile_get(*, access_token: str) -> Profile:
    """The signed-in user's allow-listed attributes and MFA settings (GetUser)."""
    response = _call("get_user", AccessToken=access_token)
    attributes = {a["Name"]: a["Value"] for a in response.get("UserAttributes", [])}
    return Profile(
        username=response["Username"],
        attributes=_allowed(attributes),
        email_verified=attributes.get("email_verified") == "true",
        mfa_enabled=tuple(
            MFA_TYPES[m] for m in response.get("UserMFASettingList") or [] if m in MFA_TYPES
        ),
        mfa_preferred=MFA_TYPES.get(response.get("PreferredMfaSetting") or ""),
    )


@sensitive_variables("access_token")
def profile_update(*, access_token: str, attributes: dict[str, str]) -> CodeDelivery | None:
    """Update allow-listed attributes; a new email needs its code before it counts."""
    response = _call(
        "update_user_attributes",
        AccessToken=access_token,
        UserAttributes=[{"Name": k, "Value": v} for k, v in _allowed(attributes).items()],
    )
    deliveries = response.get("CodeDeliveryDetailsList") or []
    return _delivery({"CodeDeliveryDetails": deliveries[0]}) if deliveries else None


@sensitive_variables("access_token", "code")
def email_verify(*, access_token: str, code: str) -> None:
    """Verify the email address with the code the pool sent to it."""
    _call("verify_user_attribute", AccessToken=access_token, AttributeName="email", Code=code)


@sensitive_variables("access_token")
def mfa_update(
    *, access_token: str, kinds: set[str], enabled: set[str], preferred: str | None
) -> None:
    """Turn each MFA type of `kinds` (`totp`, `sms`, `email`) on or off; choose the preferred."""
    params = {
        _MFA_SETTINGS[kind]: {"Enabled": kind in enabled, "PreferredMfa": kind == preferred}
        for kind in kinds
    }
    _call("set_user_mfa_preference", AccessToken=access_token, **params)


@sensitive_variables("access_token")
def totp_associate(*, access_token: str, username: str) -> TotpSecret:
    """A new authenticator secret for the signed-in user, in use once verified."""
    return _totp_secret(
        _call("associate_software_token", AccessToken=access_token), username=username
    )


@sensitive_variables("access_token", "code")
def totp_verify(*, access_token: str, code: str) -> None:
    """Check the first code of the new secret; the pool then uses it for TOTP."""
    response = _call(
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
    _call("global_sign_out", AccessToken=access_token)


# --- the wire -----------------------------------------------------------------------------------


class _Unsupported(UserPoolError):
    def __init__(self) -> None:
        super().__init__("unsupported_operation", status=502)


def _idp() -> Any:
    return aws.client("cognito-idp")


@sensitive_variables("params")
def _call(operation: str, **params: Any) -> dict[str, Any]:
    """Call one cognito-idp operation; every failure leaves as a `UserPoolError`."""
    try:
        return getattr(_idp(), operation)(**params)
    except ClientError as error:
        raise _mapped(operation, error) from None
    except ParamValidationError:
        raise UserPoolError("invalid_parameter") from None
    except NoCredentialsError:
        raise UserPoolError("unavailable", status=503) from None
    except BotoCoreError as error:
        logger.warning("event=userpool_unreachable op=%s error=%s", operation, type(error).__name__)
        raise UserPoolError("unavailable", status=503) from None


def _mapped(operation: str, error: ClientError) -> UserPoolError:
    code = error.response.get("Error", {}).get("Code", "")
    message = error.response.get("Error", {}).get("Message", "")
    http_status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in _UNSUPPORTED:
        return _Unsupported()
    if code == "NotAuthorizedException" and message in _NOT_AUTHORIZED_MESSAGES:
        app_code, status = _NOT_AUTHORIZED_MESSAGES[message]
    elif code in _ERRORS:
        app_code, status = _ERRORS[code]
    elif http_status >= 500:
        app_code, status = "unavailable", 503
    else:
        app_code, status = "unexpected", 500
    # The code only: messages can echo user input.
    logger.info("event=userpool_error op=%s code=%s mapped=%s", operation, code or "-", app_code)
    return UserPoolError(app_code, status=status)


@sensitive_variables("params")
def _initiate(flow: str, params: dict[str, str], *, address: str | None) -> dict[str, Any]:
    if settings.COGNITO_ADMIN_AUTH:
        return _call(
            "admin_initiate_auth",
            UserPoolId=settings.COGNITO_USER_POOL_ID,
            ClientId=settings.COGNITO_CLIENT_ID,
            AuthFlow=flow,
            AuthParameters=params,
            **_admin_context(address),
        )
    return _call(
        "initiate_auth",
        ClientId=settings.COGNITO_CLIENT_ID,
        AuthFlow=flow,
        AuthParameters=params,
        **({"UserContextData": {"IpAddress": address}} if address else {}),
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
        return _call(
            "admin_respond_to_auth_challenge",
            UserPoolId=settings.COGNITO_USER_POOL_ID,
            **params,
            **_admin_context(address),
        )
    return _call("respond_to_auth_challenge", UserContextData={"IpAddress": address}, **params)


def _admin_context(address: str | None) -> dict[str, Any]:
    # The admin operations take the user's context as ContextData, with the server named.
    if not address:
        return {}
    return {
        "ContextData": {
            "IpAddress": address,
            "ServerName": urlsplit(settings.APP_URL).hostname or "localhost",
            "ServerPath": "/accounts/signin/",
            "HttpHeaders": [],
        }
    }


@sensitive_variables("response")
def _result(response: dict[str, Any], *, username: str) -> Tokens | Challenge:
    """Tokens when Cognito issued them, else the next challenge; an unknown one fails closed."""
    if "AuthenticationResult" in response:
        return _tokens(response["AuthenticationResult"], refresh_token=None)
    name = response.get("ChallengeName")
    if name not in CHALLENGES or not response.get("Session"):
        logger.warning("event=challenge_unsupported challenge=%s", str(name)[:40])
        raise UserPoolError("unsupported_challenge", status=502)
    parameters = response.get("ChallengeParameters") or {}
    return Challenge(
        name=name,
        session=response["Session"],
        username=parameters.get("USER_ID_FOR_SRP") or parameters.get("USERNAME") or username,
        parameters={k: str(v) for k, v in parameters.items() if k in _SHOWN_PARAMETERS},
    )


@sensitive_variables("result", "refresh_token")
def _tokens(result: dict[str, Any], *, refresh_token: str | None) -> Tokens:
    try:
        return tokens_verify(
            id_token=result.get("IdToken"),
            access_token=result.get("AccessToken"),
            # A refresh answer carries a new refresh token only when the client rotates them.
            refresh_token=result.get("RefreshToken") or refresh_token,
        )
    except ManagedLoginError as failure:
        raise UserPoolError(failure.code, status=failure.status) from None


def totp_uri(*, secret: str, username: str) -> str:
    """The otpauth:// URI authenticator apps read from the QR code."""
    issuer = quote(TOTP_ISSUER)
    return f"otpauth://totp/{issuer}:{quote(username)}?secret={secret}&issuer={issuer}"


def _totp_secret(response: dict[str, Any], *, username: str) -> TotpSecret:
    secret = response["SecretCode"]
    uri = totp_uri(secret=secret, username=username)
    return TotpSecret(secret=secret, uri=uri, session=response.get("Session"))


def _delivery(response: dict[str, Any]) -> CodeDelivery | None:
    details = response.get("CodeDeliveryDetails") or {}
    if not details:
        return None
    return CodeDelivery(
        destination=str(details.get("Destination", "")),
        medium=str(details.get("DeliveryMedium", "")).lower(),
    )


def _allowed(attributes: dict[str, str]) -> dict[str, str]:
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


def _secret_hash_param(username: str) -> dict[str, str]:
    return {"SecretHash": secret_hash(username)} if settings.COGNITO_CLIENT_SECRET else {}


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
