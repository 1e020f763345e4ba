"""InitiateAuth and RespondToAuthChallenge (and their Admin twins), every challenge checked.

moto accepts any SRP proof, shares one TOTP secret, never checks SMS codes, has no EMAIL_OTP, no
CUSTOM_AUTH triggers, no lockout and no PreventUserExistenceErrors; here each is done as Cognito
does it (cognito-facts sections 3 to 5).
"""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from moto.cognitoidp.models import UserStatus

from emulator import codes, devices, passwords, pretoken, risk, srp, triggers, userauth
from emulator.errors import (
    CodeMismatch,
    CognitoError,
    ExpiredCode,
    InvalidLambdaResponse,
    InvalidParameter,
    NotAuthorized,
    PasswordResetRequired,
    ResourceNotFound,
    UserNotConfirmed,
    UserNotFound,
)
from emulator.mfa import totp_accept
from emulator.native import (
    INCORRECT_CREDENTIALS,
    check_pool,
    check_secret_hash,
    client_of,
    find_user,
    issue_tokens,
    prevents_existence_errors,
    refresh_token_entry,
    rotating,
    session_tokens,
    text,
)
from emulator.stores import AuthSession, Lockout
from emulator.tokens import new_opaque_token

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient

    from emulator.state import EmulatorState

AUTH_SESSION_SECONDS = 3 * 60
MAX_CODE_ATTEMPTS = 3
LOCKOUT_AFTER = 5
LOCKOUT_MAX_SECONDS = 15 * 60
LOCKOUT_FORGET_SECONDS = 15 * 60
SESSION_EXPIRED = "Invalid session for the user, session is expired."
ATTEMPTS_EXCEEDED = "Password attempts exceeded"
DEFAULT_FLOWS = ("ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH")
_FLOW_SETTINGS = {
    "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
    "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
    "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH",
    "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
    "ADMIN_USER_PASSWORD_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ADMIN_NO_SRP_AUTH": "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "USER_AUTH": "ALLOW_USER_AUTH",
}
_ADMIN_ONLY = {"ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"}
_NOT_ADMIN = {"USER_PASSWORD_AUTH"}
_MFA_CODE_KEYS = {
    "SMS_MFA": "SMS_MFA_CODE",
    "EMAIL_OTP": "EMAIL_OTP_CODE",
    "SOFTWARE_TOKEN_MFA": "SOFTWARE_TOKEN_MFA_CODE",
}


# Operations.


def initiate_auth(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """InitiateAuth."""
    return _with_device(state, params, "AuthParameters", _initiate(state, params, admin=False))


def admin_initiate_auth(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminInitiateAuth (the emulator takes any AWS credentials)."""
    check_pool(state, params)
    return _with_device(state, params, "AuthParameters", _initiate(state, params, admin=True))


def respond_to_auth_challenge(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """RespondToAuthChallenge."""
    return _with_device(state, params, "ChallengeResponses", _respond(state, params, admin=False))


def admin_respond_to_auth_challenge(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminRespondToAuthChallenge."""
    check_pool(state, params)
    return _with_device(state, params, "ChallengeResponses", _respond(state, params, admin=True))


def _with_device(
    state: EmulatorState, params: dict[str, Any], key: str, result: dict[str, Any]
) -> dict[str, Any]:
    """A sign-in's tokens get NewDeviceMetadata when the pool tracks devices (devices.py)."""
    device_key = str((params.get(key) or {}).get("DEVICE_KEY") or "")
    devices.after_sign_in(state, result, device_key=device_key)
    return result


# InitiateAuth.


def _initiate(state: EmulatorState, params: dict[str, Any], *, admin: bool) -> dict[str, Any]:
    client = client_of(state, params)
    flow = text(params, "AuthFlow")
    auth = params.get("AuthParameters") or {}
    if not isinstance(auth, dict):
        raise InvalidParameter("AuthParameters must be a map.")
    if flow not in _FLOW_SETTINGS or flow in (_NOT_ADMIN if admin else _ADMIN_ONLY):
        raise InvalidParameter("Initiate Auth method not supported")
    allowed = client.extended_config.get("ExplicitAuthFlows") or list(DEFAULT_FLOWS)
    if _FLOW_SETTINGS[flow] not in allowed:
        raise InvalidParameter(
            "Auth flow not enabled for this client"
            if admin
            else f"{flow} flow not enabled for this client"
        )
    if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
        return _refresh(state, client, auth)
    username = str(auth.get("USERNAME") or "")
    if not username:
        raise InvalidParameter("Missing required parameter USERNAME")
    check_secret_hash(client, username=username, given=auth.get("SECRET_HASH"))
    if flow == "USER_SRP_AUTH":
        return _start_srp(state, client, username=username, auth=auth, admin=admin)
    if flow == "CUSTOM_AUTH":
        return _start_custom(state, client, username=username, auth=auth, admin=admin)
    if flow == "USER_AUTH":
        return userauth.start(
            state,
            client,
            username=username,
            auth=auth,
            admin=admin,
            context=risk.context_of(params),
            session_token=text(params, "Session", required=False),
        )
    password = str(auth.get("PASSWORD") or "")
    if not password:
        raise InvalidParameter("Missing required parameter PASSWORD")
    user = _known_user(client, find_user(state, username))
    _check_lockout(state, user)
    context = risk.context_of(params)
    if not hmac.compare_digest((user.password or "").encode(), password.encode()):
        _record_failure(state, user)
        risk.password_failed(state, client_id=client.id, user=user, context=context)
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    _record_success(state, user)
    device_key = str(auth.get("DEVICE_KEY") or "")
    return _after_password(state, client, user, admin=admin, context=context, device_key=device_key)


def _known_user(client: CognitoIdpUserPoolClient, user: CognitoIdpUser | None) -> CognitoIdpUser:
    if user is None:
        if prevents_existence_errors(client):
            raise NotAuthorized(INCORRECT_CREDENTIALS)
        raise UserNotFound("User does not exist.")
    return user


def _after_password(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    *,
    admin: bool,
    context: risk.Context,
    device_key: str = "",
) -> dict[str, Any]:
    """The password was right: status checks and threat protection, then a new password, MFA,
    or tokens."""
    if not user.enabled:
        raise NotAuthorized("User is disabled.")
    if user.status == UserStatus.UNCONFIRMED:
        raise UserNotConfirmed("User is not confirmed.")
    # A compromised password with BLOCK turns the user to RESET_REQUIRED, reported just below.
    assessment = risk.assess_sign_in(state, client_id=client.id, user=user, context=context)
    if assessment.blocked:
        raise NotAuthorized(risk.BLOCKED)
    if user.status == UserStatus.RESET_REQUIRED:
        if prevents_existence_errors(client):
            raise NotAuthorized(INCORRECT_CREDENTIALS)
        raise PasswordResetRequired("Password reset is required.")
    if user.status == UserStatus.FORCE_CHANGE_PASSWORD:
        attributes = {a["Name"]: a["Value"] for a in user.attributes if a["Name"] not in ("sub",)}
        return _challenge(
            state,
            _new_session(user, client, "NEW_PASSWORD_REQUIRED", admin=admin),
            {"userAttributes": json.dumps(attributes), "requiredAttributes": "[]"},
        )
    return _mfa_or_tokens(
        state, client, user, admin=admin, assessment=assessment, device_key=device_key
    )


def _mfa_or_tokens(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    *,
    admin: bool,
    source: str = pretoken.AUTHENTICATION,
    assessment: risk.Assessment | None = None,
    device_key: str = "",
) -> dict[str, Any]:
    pool = state.pool
    if assessment is not None:
        # Adaptive authentication asks a user without a factor for a code to their email/phone.
        added = risk.adaptive_factor(state, user, assessment, factors=mfa_factors(state, user))
        if added:
            return _mfa_challenge(state, client, user, added, admin=admin)
    device = devices.remembered(state, user, device_key)
    if device is not None:
        # A remembered device proves itself with device SRP before MFA is decided.
        return devices.device_challenge(
            state, _new_session(user, client, "DEVICE_SRP_AUTH", admin=admin), device
        )
    if pool.mfa_config == "OFF":
        return issue_tokens(state, client=client, user=user, source=source)
    factors = mfa_factors(state, user)
    if not factors:
        if pool.mfa_config == "ON":
            return _challenge(
                state,
                _new_session(user, client, "MFA_SETUP", admin=admin),
                {"MFAS_CAN_SETUP": json.dumps(["SOFTWARE_TOKEN_MFA"])},
            )
        return issue_tokens(state, client=client, user=user, source=source)
    preferred = user.preferred_mfa_setting
    if preferred in factors:
        return _mfa_challenge(state, client, user, str(preferred), admin=admin)
    if len(factors) == 1:
        return _mfa_challenge(state, client, user, factors[0], admin=admin)
    return _challenge(
        state,
        _new_session(user, client, "SELECT_MFA_TYPE", admin=admin),
        {"MFAS_CAN_CHOOSE": json.dumps(factors)},
    )


def mfa_factors(state: EmulatorState, user: CognitoIdpUser) -> list[str]:
    """The MFA types the user has set up, in Cognito's order."""
    attributes = user.attribute_lookup
    factors = []
    if user.software_token_mfa_enabled and user.username in state.totp_secrets:
        factors.append("SOFTWARE_TOKEN_MFA")
    if user.sms_mfa_enabled and attributes.get("phone_number"):
        factors.append("SMS_MFA")
    if user.username in state.flows.email_mfa and attributes.get("email"):
        factors.append("EMAIL_OTP")
    return factors


def _mfa_challenge(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    name: str,
    *,
    admin: bool,
) -> dict[str, Any]:
    session = _new_session(user, client, name, admin=admin)
    risk.mfa_asked(state, user.username)
    parameters: dict[str, str] = {"USER_ID_FOR_SRP": user.username}
    if name in ("SMS_MFA", "EMAIL_OTP"):
        destination = user.attribute_lookup["phone_number" if name == "SMS_MFA" else "email"]
        session, delivery = send_code(state, session, destination)
        parameters.update(delivery)
    return _challenge(state, session, parameters)


def send_code(
    state: EmulatorState, session: AuthSession, destination: str, *, deliver: bool = True
) -> tuple[AuthSession, dict[str, str]]:
    """Email or text a new code (unless `deliver` is off); the session keeps it for the answer."""
    code = None
    if deliver:
        code = codes.new_code()
        codes.send(state, purpose="mfa", to=destination, code=code)
    session = replace(session, code=code, code_expires_at=time.time() + codes.LIFETIMES["mfa"])
    details = codes.delivery(destination)
    return session, {
        "CODE_DELIVERY_DELIVERY_MEDIUM": details["DeliveryMedium"],
        "CODE_DELIVERY_DESTINATION": details["Destination"],
    }


def sent_code_matches(session: AuthSession, code: str) -> bool:
    """Whether `code` is the one `send_code` sent for this session; ExpiredCode once it lapsed."""
    if session.code_expires_at < time.time():
        raise ExpiredCode(codes.CODE_EXPIRED)
    return bool(session.code) and hmac.compare_digest(
        str(session.code).encode(), code.strip().encode()
    )


def count_wrong_code(state: EmulatorState, token: str, session: AuthSession) -> None:
    """A wrong code may be tried again with the same Session, a few times."""
    if session.attempts + 1 < MAX_CODE_ATTEMPTS:
        with state.lock:
            state.flows.auth_sessions[token] = replace(session, attempts=session.attempts + 1)


def _new_session(
    user: CognitoIdpUser, client: CognitoIdpUserPoolClient, challenge: str, *, admin: bool
) -> AuthSession:
    return AuthSession(
        username=user.username,
        client_id=client.id,
        challenge=challenge,
        expires_at=time.time() + AUTH_SESSION_SECONDS,
        admin=admin,
    )


def _challenge(
    state: EmulatorState, session: AuthSession, parameters: dict[str, str]
) -> dict[str, Any]:
    """Store the session under a new `Session` string and ask the client for the challenge."""
    token = new_opaque_token()
    with state.lock:
        state.flows.auth_sessions[token] = session
    return {"ChallengeName": session.challenge, "Session": token, "ChallengeParameters": parameters}


# SRP.


def _start_srp(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    *,
    username: str,
    auth: dict[str, Any],
    admin: bool,
    custom_session: tuple[dict[str, Any], ...] | None = None,
) -> dict[str, Any]:
    big_a = _srp_a(auth)
    pool_id = state.pool.id
    user = find_user(state, username)
    now = time.time()
    if user is None:
        if not prevents_existence_errors(client):
            raise UserNotFound("User does not exist.")
        # Cognito answers an unknown user with a simulated challenge that no password passes.
        exchange = srp.simulated(pool_id=pool_id, username=username, big_a=big_a)
        session = AuthSession(
            username=exchange.user_id,
            client_id=client.id,
            challenge="PASSWORD_VERIFIER",
            expires_at=now + AUTH_SESSION_SECONDS,
            admin=admin,
            simulated=True,
            srp=exchange,
        )
    else:
        record = srp.record_of(state, user)
        exchange = srp.start(
            pool_id=pool_id,
            user_id=user.username,
            salt=record.salt,
            verifier_value=record.verifier,
            big_a=big_a,
        )
        session = replace(
            _new_session(user, client, "PASSWORD_VERIFIER", admin=admin),
            srp=exchange,
            custom=custom_session is not None,
            custom_session=custom_session or (),
        )
    return _challenge(
        state,
        session,
        {
            "SALT": exchange.salt,
            "SECRET_BLOCK": exchange.secret_block,
            "SRP_B": format(exchange.big_b, "x"),
            "USERNAME": exchange.user_id,
            "USER_ID_FOR_SRP": exchange.user_id,
        },
    )


def _srp_a(auth: dict[str, Any]) -> int:
    try:
        return int(str(auth.get("SRP_A") or ""), 16)
    except ValueError:
        raise InvalidParameter("Missing or invalid SRP_A.") from None


def _password_verifier(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    session: AuthSession,
    responses: dict[str, Any],
    context: risk.Context,
) -> dict[str, Any]:
    exchange = session.srp
    assert exchange is not None
    signature, secret_block, timestamp = password_claim(responses)
    valid = srp.claim_valid(
        exchange,
        pool_id=state.pool.id,
        secret_block=secret_block,
        timestamp=timestamp,
        signature=signature,
    )
    if session.simulated:
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    user = _session_user(state, session)
    _check_lockout(state, user)
    if session.custom:
        if valid:
            _record_success(state, user)
        else:
            _record_failure(state, user)
        entry = {"challengeName": "PASSWORD_VERIFIER", "challengeResult": valid}
        return _define_next(state, client, user, session, entry)
    if not valid:
        _record_failure(state, user)
        risk.password_failed(state, client_id=client.id, user=user, context=context)
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    _record_success(state, user)
    device_key = str(responses.get("DEVICE_KEY") or "")
    return _after_password(
        state, client, user, admin=session.admin, context=context, device_key=device_key
    )


def password_claim(responses: dict[str, Any]) -> tuple[str, str, str]:
    """PASSWORD_CLAIM_SIGNATURE, PASSWORD_CLAIM_SECRET_BLOCK and TIMESTAMP, all required."""
    signature = str(responses.get("PASSWORD_CLAIM_SIGNATURE") or "")
    secret_block = str(responses.get("PASSWORD_CLAIM_SECRET_BLOCK") or "")
    timestamp = str(responses.get("TIMESTAMP") or "")
    if not signature or not secret_block or not timestamp:
        raise InvalidParameter(
            "PASSWORD_CLAIM_SIGNATURE, PASSWORD_CLAIM_SECRET_BLOCK and TIMESTAMP are required."
        )
    return signature, secret_block, timestamp


# CUSTOM_AUTH.


def _start_custom(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    *,
    username: str,
    auth: dict[str, Any],
    admin: bool,
) -> dict[str, Any]:
    if not triggers.configured(state, state.pool.id):
        raise InvalidParameter(triggers.NOT_CONFIGURED)
    found = find_user(state, username)
    if found is None and prevents_existence_errors(client):
        # Cognito runs the triggers for a name no user has, with `userNotFound` true, so the
        # answer looks the same; the session it starts can never end in tokens.
        user = _stand_in(state, username)
        session = replace(
            _new_session(user, client, "CUSTOM_CHALLENGE", admin=admin), simulated=True
        )
    else:
        user = _known_user(client, found)
        if not user.enabled:
            raise NotAuthorized("User is disabled.")
        if user.status == UserStatus.UNCONFIRMED:
            raise UserNotConfirmed("User is not confirmed.")
        session = _new_session(user, client, "CUSTOM_CHALLENGE", admin=admin)
    if auth.get("CHALLENGE_NAME") == "SRP_A":
        entry = {"challengeName": "SRP_A", "challengeResult": True, "challengeMetadata": None}
        define = _define(state, client, user, (entry,), user_not_found=session.simulated)
        if define.get("challengeName") == "PASSWORD_VERIFIER" and not _decided(define):
            return _start_srp(
                state,
                client,
                username=user.username,
                auth=auth,
                admin=admin,
                custom_session=(entry,),
            )
        return _follow_define(
            state, client, user, replace(session, custom_session=(entry,)), define
        )
    define = _define(state, client, user, (), user_not_found=session.simulated)
    return _follow_define(state, client, user, session, define)


def _stand_in(state: EmulatorState, username: str) -> CognitoIdpUser:
    """A user object for a name no user has (never stored): what the triggers are shown."""
    from moto.cognitoidp.models import CognitoIdpUser

    return CognitoIdpUser(state.pool.id, username, None, UserStatus.CONFIRMED, [])


def _define(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    custom_session: tuple[dict[str, Any], ...],
    *,
    user_not_found: bool = False,
) -> dict[str, Any]:
    return triggers.invoke(
        state,
        trigger=triggers.DEFINE,
        user=user,
        client_id=client.id,
        request={"session": list(custom_session)},
        response={"challengeName": None, "issueTokens": None, "failAuthentication": None},
        user_not_found=user_not_found,
    )


def _decided(define: dict[str, Any]) -> bool:
    return bool(define.get("issueTokens") or define.get("failAuthentication"))


def _define_next(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    session: AuthSession,
    entry: dict[str, Any],
) -> dict[str, Any]:
    entry = {"challengeMetadata": None, **entry}
    custom_session = (*session.custom_session, entry)
    define = _define(state, client, user, custom_session, user_not_found=session.simulated)
    return _follow_define(
        state, client, user, replace(session, custom_session=custom_session), define
    )


def _follow_define(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    session: AuthSession,
    define: dict[str, Any],
) -> dict[str, Any]:
    if define.get("failAuthentication"):
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    if define.get("issueTokens"):
        if session.simulated:  # no trigger can sign in a user who does not exist
            raise NotAuthorized(INCORRECT_CREDENTIALS)
        return issue_tokens(state, client=client, user=user)
    if define.get("challengeName") != "CUSTOM_CHALLENGE":
        raise InvalidLambdaResponse("Invalid lambda response from DefineAuthChallenge.")
    created = triggers.invoke(
        state,
        trigger=triggers.CREATE,
        user=user,
        client_id=client.id,
        request={"challengeName": "CUSTOM_CHALLENGE", "session": list(session.custom_session)},
        response={
            "publicChallengeParameters": {},
            "privateChallengeParameters": {},
            "challengeMetadata": None,
        },
        user_not_found=session.simulated,
    )
    public = {str(k): str(v) for k, v in (created.get("publicChallengeParameters") or {}).items()}
    private = {str(k): str(v) for k, v in (created.get("privateChallengeParameters") or {}).items()}
    session = replace(
        session,
        challenge="CUSTOM_CHALLENGE",
        custom=True,
        private_parameters=private,
        challenge_metadata=created.get("challengeMetadata"),
        expires_at=time.time() + AUTH_SESSION_SECONDS,
    )
    return _challenge(state, session, {**public, "USERNAME": user.username})


def _custom_answer(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    session: AuthSession,
    responses: dict[str, Any],
) -> dict[str, Any]:
    user = (
        _stand_in(state, session.username) if session.simulated else _session_user(state, session)
    )
    verified = triggers.invoke(
        state,
        trigger=triggers.VERIFY,
        user=user,
        client_id=client.id,
        request={
            "privateChallengeParameters": dict(session.private_parameters),
            "challengeAnswer": str(responses.get("ANSWER") or ""),
        },
        response={"answerCorrect": None},
        user_not_found=session.simulated,
    )
    entry = {
        "challengeName": "CUSTOM_CHALLENGE",
        "challengeResult": bool(verified.get("answerCorrect")),
        "challengeMetadata": session.challenge_metadata,
    }
    return _define_next(state, client, user, session, entry)


# RespondToAuthChallenge.


def _respond(state: EmulatorState, params: dict[str, Any], *, admin: bool) -> dict[str, Any]:
    client = client_of(state, params)
    name = text(params, "ChallengeName")
    token = text(params, "Session", required=False)
    responses = params.get("ChallengeResponses") or {}
    if not isinstance(responses, dict):
        raise InvalidParameter("ChallengeResponses must be a map.")
    username = str(responses.get("USERNAME") or "")
    if not username:
        raise InvalidParameter("Missing required parameter USERNAME")
    check_secret_hash(client, username=username, given=responses.get("SECRET_HASH"))
    with state.lock:
        if not token and name in ("PASSWORD_VERIFIER", "DEVICE_PASSWORD_VERIFIER"):
            # SRP clients such as pycognito answer without the Session: SECRET_BLOCK names it.
            token = _token_of_secret_block(state, str(responses.get("PASSWORD_CLAIM_SECRET_BLOCK")))
        if not token and name == "DEVICE_SRP_AUTH":
            token = devices.session_token(state, username, str(responses.get("DEVICE_KEY") or ""))
        session = state.flows.auth_sessions.pop(token, None) if token else None
    if session is None or session.expires_at < time.time() or session.client_id != client.id:
        raise NotAuthorized(SESSION_EXPIRED)
    if name != session.challenge:
        raise InvalidParameter(f"Invalid challenge name {name}; expected {session.challenge}.")
    if not session.simulated:
        user = find_user(state, username)
        if user is None or user.username != session.username:
            raise NotAuthorized(INCORRECT_CREDENTIALS)
    if session.first_factor:
        return userauth.respond(
            state, client, session, token, responses, context=risk.context_of(params)
        )
    if name in ("DEVICE_SRP_AUTH", "DEVICE_PASSWORD_VERIFIER"):
        return devices.respond(state, client, session, responses)
    if name == "PASSWORD_VERIFIER":
        try:
            return _password_verifier(state, client, session, responses, risk.context_of(params))
        except ResourceNotFound:
            # A forgotten DEVICE_KEY (devices.remembered): the same answer may come again
            # without it, as Amplify sends it, so the session stays.
            with state.lock:
                state.flows.auth_sessions[token] = session
            raise
    if name == "CUSTOM_CHALLENGE":
        return _custom_answer(state, client, session, responses)
    if name == "NEW_PASSWORD_REQUIRED":
        return _new_password(state, client, session, token, responses)
    if name == "SELECT_MFA_TYPE":
        user = _session_user(state, session)
        answer = str(responses.get("ANSWER") or "")
        if answer not in mfa_factors(state, user):
            raise InvalidParameter(f"Invalid ANSWER: {answer} is not an MFA type of this user.")
        return _mfa_challenge(state, client, user, answer, admin=session.admin)
    if name == "MFA_SETUP":
        if not session.totp_verified:
            raise NotAuthorized("Invalid session for the user.")
        return issue_tokens(state, client=client, user=_session_user(state, session))
    if name in _MFA_CODE_KEYS:
        return _mfa_answer(state, client, session, token, responses)
    raise InvalidParameter(f"Unsupported challenge {name}.")


def _mfa_answer(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    session: AuthSession,
    token: str,
    responses: dict[str, Any],
) -> dict[str, Any]:
    user = _session_user(state, session)
    code = str(responses.get(_MFA_CODE_KEYS[session.challenge]) or "")
    if session.challenge == "SOFTWARE_TOKEN_MFA":
        accepted = totp_accept(state, username=user.username, code=code)
    else:
        accepted = sent_code_matches(session, code)
    if not accepted:
        count_wrong_code(state, token, session)
        risk.mfa_failed(state, user.username)
        raise CodeMismatch(codes.MFA_CODE_MISMATCH)
    return issue_tokens(state, client=client, user=user)


def _new_password(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    session: AuthSession,
    token: str,
    responses: dict[str, Any],
) -> dict[str, Any]:
    user = _session_user(state, session)
    new_password = str(responses.get("NEW_PASSWORD") or "")
    try:
        if not new_password:
            raise InvalidParameter("Missing required parameter NEW_PASSWORD")
        passwords.check_policy(state.pool, new_password)
        risk.check_password(
            state,
            client_id=client.id,
            username=user.username,
            password=new_password,
            event="PASSWORD_CHANGE",
        )
    except CognitoError:
        # The user may try another password with the same Session.
        with state.lock:
            state.flows.auth_sessions[token] = session
        raise
    updates = [
        {"Name": key.removeprefix("userAttributes."), "Value": str(value)}
        for key, value in responses.items()
        if key.startswith("userAttributes.") and key != "userAttributes.sub"
    ]
    if updates:
        user.update_attributes(updates)
    passwords.set_password(state, user, new_password)
    user.status = UserStatus.CONFIRMED
    return _mfa_or_tokens(
        state, client, user, admin=session.admin, source=pretoken.NEW_PASSWORD_CHALLENGE
    )


def _token_of_secret_block(state: EmulatorState, secret_block: str) -> str:
    for token, session in state.flows.auth_sessions.items():
        if session.srp is not None and hmac.compare_digest(
            session.srp.secret_block.encode(), secret_block.encode()
        ):
            return token
    return ""


def _session_user(state: EmulatorState, session: AuthSession) -> CognitoIdpUser:
    user = find_user(state, session.username)
    if user is None or not user.enabled:
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    return user


# REFRESH_TOKEN_AUTH.


def _refresh(
    state: EmulatorState, client: CognitoIdpUserPoolClient, auth: dict[str, Any]
) -> dict[str, Any]:
    if rotating(client):
        # Rotating clients must refresh through GetTokensFromRefreshToken (cognito-facts 2.5).
        raise NotAuthorized("Refresh token rotation is enabled: use GetTokensFromRefreshToken.")
    refresh_token = str(auth.get("REFRESH_TOKEN") or "")
    if not refresh_token:
        raise InvalidParameter("Missing required parameter REFRESH_TOKEN")
    client_id, username, origin_jti = refresh_token_entry(state, refresh_token)
    if client_id != client.id:
        raise NotAuthorized("Invalid Refresh Token.")
    devices.check_refresh(state, refresh_token, str(auth.get("DEVICE_KEY") or ""))
    check_secret_hash(client, username=username, given=auth.get("SECRET_HASH"))
    user = find_user(state, username)
    if user is None or not user.enabled:
        raise NotAuthorized("User is disabled.")
    tokens = session_tokens(
        state,
        client=client,
        username=username,
        origin_jti=origin_jti,
        source=pretoken.REFRESH_TOKENS,
    )
    return {"ChallengeParameters": {}, "AuthenticationResult": tokens}


# Lockout (cognito-facts 5.3).


def _check_lockout(state: EmulatorState, user: CognitoIdpUser) -> None:
    now = time.time()
    with state.lock:
        lockout = state.flows.lockouts.get(user.username)
        if lockout is None:
            return
        if now - lockout.last_attempt > LOCKOUT_FORGET_SECONDS:
            del state.flows.lockouts[user.username]
            return
        if now < lockout.locked_until:
            # An attempt during the lock is refused and does not extend it.
            state.flows.lockouts[user.username] = replace(lockout, last_attempt=now)
            raise NotAuthorized(ATTEMPTS_EXCEEDED)


def _record_failure(state: EmulatorState, user: CognitoIdpUser) -> None:
    now = time.time()
    with state.lock:
        earlier = state.flows.lockouts.get(user.username)
        failures = (earlier.failures if earlier else 0) + 1
        locked_until = 0.0
        if failures >= LOCKOUT_AFTER:
            locked_until = now + min(2 ** (failures - LOCKOUT_AFTER), LOCKOUT_MAX_SECONDS)
        state.flows.lockouts[user.username] = Lockout(
            failures=failures, locked_until=locked_until, last_attempt=now
        )


def _record_success(state: EmulatorState, user: CognitoIdpUser) -> None:
    with state.lock:
        state.flows.lockouts.pop(user.username, None)


def password_locked(state: EmulatorState, user: CognitoIdpUser) -> bool:
    """Whether the user is locked out now (for managed login, which checks passwords itself)."""
    try:
        _check_lockout(state, user)
    except NotAuthorized:
        return True
    return False


def password_matches(state: EmulatorState, user: CognitoIdpUser, password: str) -> bool:
    """Check a password, counting failures towards the lockout."""
    if hmac.compare_digest((user.password or "").encode(), password.encode()):
        _record_success(state, user)
        return True
    _record_failure(state, user)
    return False


def session_for_setup(state: EmulatorState, token: str) -> AuthSession:
    """The MFA_SETUP session a Session string names (for Associate/VerifySoftwareToken)."""
    session = state.flows.auth_sessions.get(token)
    if session is None or session.expires_at < time.time() or session.challenge != "MFA_SETUP":
        raise NotAuthorized(SESSION_EXPIRED)
    return session


def replace_session(state: EmulatorState, old_token: str, session: AuthSession) -> str:
    """Store a session under a new Session string, retiring the old one."""
    token = new_opaque_token()
    with state.lock:
        state.flows.auth_sessions.pop(old_token, None)
        state.flows.auth_sessions[token] = session
    return token


# What choice-based sign-in (emulator/userauth.py) shares with the flows above.
ask = _challenge
session_user = _session_user
start_srp = _start_srp
after_password = _after_password
mfa_or_tokens = _mfa_or_tokens
