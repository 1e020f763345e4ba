"""What the native operations share: the app client and its secret, access tokens, new tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any

import jwt

from emulator import pretoken, risk
from emulator.errors import InvalidParameter, NotAuthorized, ResourceNotFound, UserNotFound
from emulator.tokens import NATIVE_SCOPE

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient

    from emulator.state import EmulatorState

INCORRECT_CREDENTIALS = "Incorrect username or password."


def text(params: dict[str, Any], name: str, *, required: bool = True) -> str:
    """A string parameter; InvalidParameter when required and missing."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise InvalidParameter(f"Missing required parameter {name}")
        return ""
    if not isinstance(value, str):
        raise InvalidParameter(f"{name} must be a string.")
    return value


def client_of(state: EmulatorState, params: dict[str, Any]) -> CognitoIdpUserPoolClient:
    """The app client named by `ClientId`."""
    client_id = text(params, "ClientId")
    client = state.client(client_id)
    if client is None:
        raise ResourceNotFound(f"User pool client {client_id} does not exist.")
    return client


def secret_hash(client: CognitoIdpUserPoolClient, username: str) -> str:
    """SECRET_HASH = base64(HMAC-SHA256(client secret, username || client id))."""
    digest = hmac.new(client.secret.encode(), (username + client.id).encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def check_secret_hash(
    client: CognitoIdpUserPoolClient, *, username: str, given: str | None
) -> None:
    """Refuse a missing or wrong SECRET_HASH for a client that has a secret."""
    if not client.generate_secret:
        return
    if not given:
        raise NotAuthorized(
            f"Client {client.id} is configured for secret but secret was not received"
        )
    if not hmac.compare_digest(secret_hash(client, username).encode(), given.encode()):
        raise NotAuthorized(f"Unable to verify secret hash for client {client.id}")


def prevents_existence_errors(client: CognitoIdpUserPoolClient) -> bool:
    """Whether the client hides which users exist (PreventUserExistenceErrors=ENABLED)."""
    return client.extended_config.get("PreventUserExistenceErrors") == "ENABLED"


def check_pool(state: EmulatorState, params: dict[str, Any]) -> None:
    """Refuse a `UserPoolId` other than the demo pool's."""
    pool_id = text(params, "UserPoolId")
    if pool_id != state.pool.id:
        raise ResourceNotFound(f"User pool {pool_id} does not exist.")


def admin_user(state: EmulatorState, params: dict[str, Any]) -> CognitoIdpUser:
    """The user an admin operation names by `UserPoolId` and `Username`."""
    check_pool(state, params)
    user = find_user(state, text(params, "Username"))
    if user is None:
        raise UserNotFound("User does not exist.")
    return user


def find_user(state: EmulatorState, username: str) -> CognitoIdpUser | None:
    """A user of the demo pool by username or alias, or None."""
    return state.pool._get_user(username) if username else None


def access_user(state: EmulatorState, access_token: str) -> CognitoIdpUser:
    """The user an access token from the native API or managed login stands for."""
    pool = state.pool
    try:
        claims = state.tokens.decode_access_token(access_token, pool_id=pool.id)
    except jwt.ExpiredSignatureError:
        raise NotAuthorized("Access Token has expired") from None
    except jwt.InvalidTokenError:
        raise NotAuthorized("Invalid Access Token") from None
    if access_token not in pool.access_tokens or claims.get("origin_jti") in state.revoked_origins:
        raise NotAuthorized("Access Token has been revoked")
    # The self-service operations need this scope; managed login grants it only when asked for.
    if NATIVE_SCOPE not in str(claims.get("scope", "")).split():
        raise NotAuthorized("Access Token does not have required scopes")
    user = find_user(state, str(claims.get("username", "")))
    if user is None:
        raise UserNotFound("User does not exist.")
    if not user.enabled:
        raise NotAuthorized("User is disabled.")
    return user


def issue_tokens(
    state: EmulatorState,
    *,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    source: str = pretoken.AUTHENTICATION,
) -> dict[str, Any]:
    """A successful sign-in: ID, access and refresh tokens of a new session."""
    risk.signed_in(state, user.username)
    refresh_token, origin_jti = state.pool.create_refresh_token(client.id, user.username)
    tokens = session_tokens(
        state, client=client, username=user.username, origin_jti=origin_jti, source=source
    )
    return {
        "ChallengeParameters": {},
        "AuthenticationResult": {**tokens, "RefreshToken": refresh_token},
    }


def refresh_token_entry(state: EmulatorState, refresh_token: str) -> tuple[str, str, str]:
    """The client id, username and session (origin_jti) of a refresh token that is not revoked."""
    pool = state.pool
    if refresh_token not in pool.refresh_tokens:
        raise NotAuthorized("Invalid Refresh Token.")
    entry = pool.refresh_tokens[refresh_token]
    if entry is None or rotated_out(state, refresh_token):
        raise NotAuthorized("Refresh Token has been revoked")
    return entry


def rotating(client: CognitoIdpUserPoolClient) -> bool:
    """Whether the client rotates refresh tokens (RefreshTokenRotation Feature ENABLED)."""
    return (client.extended_config.get("RefreshTokenRotation") or {}).get("Feature") == "ENABLED"


def rotated_out(state: EmulatorState, refresh_token: str) -> bool:
    """Whether a refresh token was rotated out and its retry grace period is over."""
    ends = state.flows.rotated_refresh_tokens.get(refresh_token)
    return ends is not None and time.time() >= ends


def rotate_out(state: EmulatorState, client: CognitoIdpUserPoolClient, refresh_token: str) -> None:
    """A refresh token replaced by a new one: it still works for RetryGracePeriodSeconds (0-60).

    The grace period lets a client retry a refresh whose answer it lost; after it, never again.
    """
    rotation = client.extended_config.get("RefreshTokenRotation") or {}
    grace = int(rotation.get("RetryGracePeriodSeconds") or 0)
    with state.lock:
        # A retry within the grace period rotates again but does not extend the period.
        state.flows.rotated_refresh_tokens.setdefault(refresh_token, time.time() + grace)


def session_tokens(
    state: EmulatorState,
    *,
    client: CognitoIdpUserPoolClient,
    username: str,
    origin_jti: str,
    source: str = pretoken.AUTHENTICATION,
) -> dict[str, Any]:
    """New access and ID tokens of the session `origin_jti`, as `AuthenticationResult` has them."""
    # The native API grants exactly this scope; a pre token generation trigger may change it.
    issued = pretoken.issue_user_tokens(
        state,
        source=source,
        client=client,
        user=state.pool._get_user(username),
        scopes=(NATIVE_SCOPE,),
        origin_jti=origin_jti,
    )
    return {
        "AccessToken": issued.access_token,
        "ExpiresIn": issued.expires_in,
        "TokenType": "Bearer",
        "IdToken": issued.id_token,
    }


def sign_out_everywhere(state: EmulatorState, username: str) -> None:
    """End every refresh token of the user and the access tokens issued from them."""
    pool = state.pool
    with state.lock:
        for refresh_token, entry in list(pool.refresh_tokens.items()):
            if entry is not None and entry[1] == username:
                state.revoked_origins.add(entry[2])
                state.refresh_sessions.pop(refresh_token, None)
        pool.sign_out(username)
