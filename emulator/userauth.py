"""Choice-based sign-in (AuthFlow USER_AUTH): the first factors a user may choose, and each one.

What Cognito does, from the API reference (InitiateAuth AuthParameters, RespondToAuthChallenge
ChallengeResponses, SignInPolicyType, WebAuthnConfigurationType in botocore's model) and the
developer guide:
- the factors are the pool's `SignInPolicy.AllowedFirstAuthFactors`; PASSWORD allows both
  PASSWORD and PASSWORD_SRP; the client needs `ALLOW_USER_AUTH`;
- with `PREFERRED_CHALLENGE` the flow goes straight to that factor, else Cognito answers
  SELECT_CHALLENGE with the top-level `AvailableChallenges` (when the user cannot use the
  preferred factor the emulator also answers with the choice: our reading, not documented);
- a password first factor is followed by MFA exactly as in USER_PASSWORD_AUTH / USER_SRP_AUTH;
- MFA and passwordless sign-in are not used together: "If a user has MFA configured, passwordless
  sign-in options will not be available" (Amplify's passwordless guide, citing Cognito's
  user-pool-settings-mfa.html#user-pool-settings-mfa-prerequisites). So a user with MFA (or any
  user of a pool whose MFA is ON) is not offered EMAIL_OTP, SMS_OTP or WEB_AUTHN, except that
  with `WebAuthnConfiguration.FactorConfiguration` MULTI_FACTOR_WITH_USER_VERIFICATION "passkey
  authentication with user verification satisfies MFA requirements" (API reference), so
  WEB_AUTHN stays and its assertion must carry user verification. The user-level
  `WebAuthnMfaSettings` of SetUserMFAPreference is not modelled;
- sign-in straight after sign-up (SignUpResponse.Session, ConfirmSignUpRequest/Response.Session,
  InitiateAuthRequest.Session): SignUp's Session goes to ConfirmSignUp, whose own Session lets
  one USER_AUTH sign the user in, "the one-time password ... from ConfirmSignUp as the primary
  authentication factor", within the client's AuthSessionValidity; MFA follows as after a
  password. What the model leaves open (SignUp's Session lifetime, the errors) is our reading.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from moto.cognitoidp.models import UserStatus

from emulator import challenges, codes, risk, webauthn
from emulator.errors import (
    CodeMismatch,
    InvalidParameter,
    NotAuthorized,
    PasswordResetRequired,
    UserNotConfirmed,
    UserNotFound,
)
from emulator.native import (
    INCORRECT_CREDENTIALS,
    access_user,
    admin_user,
    find_user,
    issue_tokens,
    prevents_existence_errors,
    text,
)
from emulator.stores import AuthSession
from emulator.tokens import new_opaque_token

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient

    from emulator.state import EmulatorState

FIRST_FACTORS = ("PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN")
_CODE_KEYS = {"EMAIL_OTP": "EMAIL_OTP_CODE", "SMS_OTP": "SMS_OTP_CODE"}
_DESTINATIONS = {
    "EMAIL_OTP": ("email", "email_verified"),
    "SMS_OTP": ("phone_number", "phone_number_verified"),
}


def available_challenges(state: EmulatorState, user: CognitoIdpUser | None) -> list[str]:
    """The first factors this user may choose now (for an unknown user: all the pool allows)."""
    has_mfa = user is not None and (
        bool(challenges.mfa_factors(state, user)) or state.pool.mfa_config == "ON"
    )
    choices: list[str] = []
    for factor in webauthn.first_factors(state):
        if factor == "PASSWORD":
            if user is None or user.password:
                choices += ["PASSWORD", "PASSWORD_SRP"]
        elif factor in _DESTINATIONS:
            attribute, verified = _DESTINATIONS[factor]
            usable = user is None or (
                user.attribute_lookup.get(attribute)
                and user.attribute_lookup.get(verified) == "true"
            )
            if usable and not has_mfa:
                choices.append(factor)
        elif factor == "WEB_AUTHN":
            usable = user is None or bool(webauthn.passkeys_of(state, user.username))
            if usable and (not has_mfa or webauthn.counts_as_mfa(state)):
                choices.append(factor)
    return choices


def start(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    *,
    username: str,
    auth: dict[str, Any],
    admin: bool,
    context: risk.Context,
    session_token: str = "",
) -> dict[str, Any]:
    """InitiateAuth with USER_AUTH (with ConfirmSignUp's Session: see `start_after_sign_up`)."""
    if session_token:
        return start_after_sign_up(
            state,
            client,
            username=username,
            token=session_token,
            admin=admin,
            context=context,
            device_key=str(auth.get("DEVICE_KEY") or ""),
        )
    user = find_user(state, username)
    if user is None and not prevents_existence_errors(client):
        raise UserNotFound("User does not exist.")
    session = AuthSession(
        username=user.username if user else username,
        client_id=client.id,
        challenge="SELECT_CHALLENGE",
        expires_at=time.time() + challenges.AUTH_SESSION_SECONDS,
        admin=admin,
        # Cognito answers a name no user has as it would a user's, and no answer ever passes.
        simulated=user is None,
        first_factor=True,
        device_key=str(auth.get("DEVICE_KEY") or ""),
    )
    choices = available_challenges(state, user)
    preferred = str(auth.get("PREFERRED_CHALLENGE") or "")
    if preferred and preferred not in FIRST_FACTORS:
        raise InvalidParameter(f"Invalid PREFERRED_CHALLENGE: {preferred}")
    if preferred in choices:
        return _begin(state, client, session, preferred, auth, context)
    # AvailableChallenges is a top-level field of the answer, beside ChallengeParameters.
    return {**challenges.ask(state, session, {}), "AvailableChallenges": choices}


def respond(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    session: AuthSession,
    token: str,
    responses: dict[str, Any],
    *,
    context: risk.Context,
) -> dict[str, Any]:
    """RespondToAuthChallenge for a USER_AUTH session (its Session was popped by the caller)."""
    if session.challenge == "SELECT_CHALLENGE":
        answer = str(responses.get("ANSWER") or "")
        user = None if session.simulated else challenges.session_user(state, session)
        if answer not in available_challenges(state, user):
            raise InvalidParameter(f"Invalid ANSWER: {answer} is not an available challenge.")
        return _begin(state, client, session, answer, responses, context)
    if session.challenge in ("PASSWORD", "PASSWORD_SRP"):
        return _begin(state, client, session, session.challenge, responses, context)
    if session.challenge in _CODE_KEYS:
        return _code_answer(state, client, session, token, responses)
    if session.challenge == "WEB_AUTHN":
        return _passkey_answer(state, client, session, responses)
    raise InvalidParameter(f"Unsupported challenge {session.challenge}.")


def _begin(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    session: AuthSession,
    factor: str,
    answers: dict[str, Any],
    context: risk.Context,
) -> dict[str, Any]:
    """Go on with the chosen factor: check what came with the choice, or ask for it."""
    session = replace(session, expires_at=time.time() + challenges.AUTH_SESSION_SECONDS)
    if factor == "PASSWORD":
        if not answers.get("PASSWORD"):
            return _ask(state, replace(session, challenge="PASSWORD"), {})
        return _password(state, client, session, str(answers["PASSWORD"]), context)
    if factor == "PASSWORD_SRP":
        if not answers.get("SRP_A"):
            return _ask(state, replace(session, challenge="PASSWORD_SRP"), {})
        # From here it is USER_SRP_AUTH: PASSWORD_VERIFIER, then MFA as usual.
        return challenges.start_srp(
            state, client, username=session.username, auth=answers, admin=session.admin
        )
    if factor in _CODE_KEYS:
        return _send_code(state, client, session, factor)
    if factor == "WEB_AUTHN":
        user = None if session.simulated else challenges.session_user(state, session)
        challenge, options = webauthn.request_options(state, user)
        return _ask(
            state,
            replace(session, challenge="WEB_AUTHN", webauthn_challenge=challenge),
            {"CREDENTIAL_REQUEST_OPTIONS": options},
        )
    raise InvalidParameter(f"Invalid challenge {factor}.")


def _ask(state: EmulatorState, session: AuthSession, parameters: dict[str, str]) -> dict[str, Any]:
    return challenges.ask(state, session, parameters)


def _check_status(client: CognitoIdpUserPoolClient, user: CognitoIdpUser) -> None:
    """A passwordless factor signs in only a confirmed user, as the password path does."""
    if user.status == UserStatus.UNCONFIRMED:
        raise UserNotConfirmed("User is not confirmed.")
    if user.status == UserStatus.RESET_REQUIRED:
        if prevents_existence_errors(client):
            raise NotAuthorized(INCORRECT_CREDENTIALS)
        raise PasswordResetRequired("Password reset is required.")


def _password(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    session: AuthSession,
    password: str,
    context: risk.Context,
) -> dict[str, Any]:
    if session.simulated:
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    user = challenges.session_user(state, session)
    if challenges.password_locked(state, user):
        raise NotAuthorized(challenges.ATTEMPTS_EXCEEDED)
    if not user.password or not challenges.password_matches(state, user, password):
        risk.password_failed(state, client_id=client.id, user=user, context=context)
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    return challenges.after_password(
        state, client, user, admin=session.admin, context=context, device_key=session.device_key
    )


def _send_code(
    state: EmulatorState, client: CognitoIdpUserPoolClient, session: AuthSession, factor: str
) -> dict[str, Any]:
    """Email or text a sign-in code (to the inbox); the next answer carries it."""
    session = replace(session, challenge=factor)
    if session.simulated:
        destination = "x@example.com" if factor == "EMAIL_OTP" else "+10000000000"
    else:
        user = challenges.session_user(state, session)
        _check_status(client, user)
        destination = user.attribute_lookup[_DESTINATIONS[factor][0]]
    # Nothing is sent for a user who does not exist.
    session, delivery = challenges.send_code(
        state, session, destination, deliver=not session.simulated
    )
    return _ask(state, session, delivery)


def _code_answer(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    session: AuthSession,
    token: str,
    responses: dict[str, Any],
) -> dict[str, Any]:
    code = str(responses.get(_CODE_KEYS[session.challenge]) or "")
    if not challenges.sent_code_matches(session, code):
        # As with MFA codes, a wrong code may be tried again with the same Session.
        challenges.count_wrong_code(state, token, session)
        raise CodeMismatch(codes.MFA_CODE_MISMATCH)
    user = challenges.session_user(state, session)
    return issue_tokens(state, client=client, user=user)


def _passkey_answer(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    session: AuthSession,
    responses: dict[str, Any],
) -> dict[str, Any]:
    if session.simulated or session.webauthn_challenge is None:
        raise NotAuthorized(INCORRECT_CREDENTIALS)
    user = challenges.session_user(state, session)
    credential = responses.get("CREDENTIAL")
    if not credential:
        raise InvalidParameter("Missing required parameter CREDENTIAL")
    verified_user = webauthn.verify_assertion(
        state, user, challenge=session.webauthn_challenge, credential=credential
    )
    needs_mfa = bool(challenges.mfa_factors(state, user)) or state.pool.mfa_config == "ON"
    if needs_mfa and not verified_user:
        # Only a passkey with user verification stands in for MFA.
        raise NotAuthorized("User verification is required for passkey sign-in.")
    _check_status(client, user)
    return issue_tokens(state, client=client, user=user)


# Sign-in straight after sign-up.

SIGNED_UP = "SIGN_UP"  # SignUp's Session, waiting for ConfirmSignUp
CONFIRMED = "CONFIRMED_SIGN_UP"  # ConfirmSignUp's Session, waiting for InitiateAuth
INVALID_SESSION = "Invalid session for the user."
MINUTE = 60  # seconds; a module value so tests can let a session lapse quickly


def session_seconds(client: CognitoIdpUserPoolClient) -> int:
    """The client's AuthSessionValidity (3 to 15 minutes, 3 by default), in seconds."""
    minutes = int(client.extended_config.get("AuthSessionValidity") or 3)
    return min(max(minutes, 3), 15) * MINUTE


def sign_up_session(
    state: EmulatorState, client: CognitoIdpUserPoolClient, user: CognitoIdpUser
) -> str:
    """SignUp's Session. Its lifetime is not documented: here, the sign-up code's (24 hours)."""
    token = new_opaque_token()
    entry = AuthSession(
        username=user.username,
        client_id=client.id,
        challenge=SIGNED_UP,
        expires_at=time.time() + codes.LIFETIMES["signup"],
    )
    with state.lock:
        state.flows.sign_up_sessions[token] = entry
    return token


def confirmed_session(
    state: EmulatorState, client: CognitoIdpUserPoolClient, user: CognitoIdpUser, token: str
) -> str:
    """ConfirmSignUp's Session for SignUp's `token`; "" unless it is this user's and client's."""
    with state.lock:
        found = state.flows.sign_up_sessions.get(token) if token else None
        if (
            found is None
            or found.challenge != SIGNED_UP
            or found.username != user.username
            or found.client_id != client.id
            or found.expires_at < time.time()
        ):
            return ""
        del state.flows.sign_up_sessions[token]
        confirmed = new_opaque_token()
        state.flows.sign_up_sessions[confirmed] = replace(
            found, challenge=CONFIRMED, expires_at=time.time() + session_seconds(client)
        )
    return confirmed


def start_after_sign_up(
    state: EmulatorState,
    client: CognitoIdpUserPoolClient,
    *,
    username: str,
    token: str,
    admin: bool,
    context: risk.Context,
    device_key: str,
) -> dict[str, Any]:
    """USER_AUTH with ConfirmSignUp's Session: the confirmation code was the first factor.

    Once only; then MFA (or MFA_SETUP, threat protection, a remembered device) as after a
    password. A Session of another user or client is refused and left for its own user.
    """
    user = find_user(state, username)
    with state.lock:
        found = state.flows.sign_up_sessions.get(token)
        if found is not None and found.expires_at < time.time():
            del state.flows.sign_up_sessions[token]
            raise NotAuthorized(challenges.SESSION_EXPIRED)
        if (
            found is None
            or found.challenge != CONFIRMED
            or found.client_id != client.id
            or user is None
            or user.username != found.username
        ):
            raise NotAuthorized(INVALID_SESSION)
        del state.flows.sign_up_sessions[token]
    if user.status != UserStatus.CONFIRMED:
        raise NotAuthorized(INVALID_SESSION)
    return challenges.after_password(
        state, client, user, admin=admin, context=context, device_key=device_key
    )


def get_user_auth_factors(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """GetUserAuthFactors: the user's MFA settings and the first factors USER_AUTH offers."""
    return _auth_factors(state, access_user(state, text(params, "AccessToken")))


def admin_get_user_auth_factors(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """AdminGetUserAuthFactors."""
    return _auth_factors(state, admin_user(state, params))


def _auth_factors(state: EmulatorState, user: CognitoIdpUser) -> dict[str, Any]:
    factors = challenges.mfa_factors(state, user)
    answer: dict[str, Any] = {
        "Username": user.username,
        "UserMFASettingList": factors,
        "ConfiguredUserAuthFactors": [
            f for f in available_challenges(state, user) if f != "PASSWORD_SRP"
        ],
    }
    if user.preferred_mfa_setting in factors:
        answer["PreferredMfaSetting"] = user.preferred_mfa_setting
    return answer


OPERATIONS = {
    "GetUserAuthFactors": get_user_auth_factors,
    "AdminGetUserAuthFactors": admin_get_user_auth_factors,
}
