"""The authorization request that /oauth2/authorize and /login check, and the login session."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from emulator.errors import (
    AuthorizeRedirectError,
    ErrorPage,
    InvalidRequest,
    InvalidScope,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from emulator.responses import redirect, with_query
from emulator.state import AUTH_CODE_SECONDS, HOSTED_SESSION_SECONDS, AuthCode, HostedSession
from emulator.tokens import new_opaque_token

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.state import EmulatorState

SESSION_COOKIE = "cognito-demo-session"
_PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_FLOW_OF_RESPONSE_TYPE = {"code": "code", "token": "implicit"}
# Cognito: `phone`, `email` and `profile` are only granted together with `openid`.
_NEEDS_OPENID = {"email", "phone", "profile"}
_SINGLE_VALUED = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


@dataclass(frozen=True)
class AuthorizeRequest:
    """A checked authorization request."""

    client_id: str
    redirect_uri: str
    response_type: str
    scopes: tuple[str, ...]
    state: str | None
    nonce: str | None
    code_challenge: str | None
    prompt: str | None
    login_hint: str | None
    query: str

    def fail(self, error: OAuthError) -> AuthorizeRedirectError:
        """An error to send back to the app's redirect_uri."""
        return AuthorizeRedirectError(error, redirect_uri=self.redirect_uri, state=self.state)


def parse_authorize(
    state: EmulatorState, args: MultiDict[str, str], *, query: str
) -> AuthorizeRequest:
    """Check an authorization request as Cognito does; raise ErrorPage or AuthorizeRedirectError."""
    client_id = args.get("client_id", "")
    client = state.client(client_id) if client_id else None
    if client is None or len(args.getlist("client_id")) > 1:
        raise ErrorPage("invalid_client")
    redirect_uri = args.get("redirect_uri", "")
    config = client.extended_config
    # An unregistered redirect_uri never gets a redirect: Cognito sends the browser to its
    # /error page instead (cognito-facts 1.2), so a forged request cannot reach another site.
    if (
        redirect_uri not in (config.get("CallbackURLs") or [])
        or len(args.getlist("redirect_uri")) > 1
    ):
        raise ErrorPage("redirect_mismatch", client_id=client_id, redirect=True)
    request_state = args.get("state")

    def fail(error: OAuthError) -> AuthorizeRedirectError:
        return AuthorizeRedirectError(error, redirect_uri=redirect_uri, state=request_state)

    if any(len(args.getlist(name)) > 1 for name in _SINGLE_VALUED):
        raise fail(InvalidRequest("repeated parameter"))
    response_type = args.get("response_type", "")
    if not response_type:
        raise fail(InvalidRequest("response_type is required"))
    if response_type not in _FLOW_OF_RESPONSE_TYPE:
        raise fail(UnsupportedResponseType())
    if not config.get("AllowedOAuthFlowsUserPoolClient") or _FLOW_OF_RESPONSE_TYPE[
        response_type
    ] not in (config.get("AllowedOAuthFlows") or []):
        raise fail(UnauthorizedClient())
    if response_type != "code":
        raise fail(UnsupportedResponseType("the emulator issues authorization codes only"))

    allowed_scopes = list(config.get("AllowedOAuthScopes") or [])
    requested = args.get("scope", "").split()
    scopes = tuple(dict.fromkeys(requested)) if requested else tuple(allowed_scopes)
    if any(scope not in allowed_scopes for scope in scopes) or (
        _NEEDS_OPENID & set(scopes) and "openid" not in scopes
    ):
        raise fail(InvalidScope())

    challenge = args.get("code_challenge")
    method = args.get("code_challenge_method")
    # Cognito supports S256 only; `plain`, or a challenge without a method, is refused.
    if (challenge is not None or method is not None) and (
        method != "S256" or not challenge or not _PKCE_CHALLENGE.fullmatch(challenge)
    ):
        raise fail(InvalidRequest("code_challenge_method must be S256"))

    return AuthorizeRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        response_type=response_type,
        scopes=scopes,
        state=request_state,
        nonce=args.get("nonce"),
        code_challenge=challenge,
        prompt=(args.get("prompt") or "").lower() or None,
        login_hint=args.get("login_hint"),
        query=query,
    )


def redirect_with_code(
    state: EmulatorState, request: AuthorizeRequest, *, username: str, auth_time: int
) -> Response:
    """Issue a single-use code for this request and send the browser back to the app."""
    code = new_opaque_token()
    state.codes[code] = AuthCode(
        client_id=request.client_id,
        redirect_uri=request.redirect_uri,
        username=username,
        scopes=request.scopes,
        nonce=request.nonce,
        code_challenge=request.code_challenge,
        auth_time=auth_time,
        expires_at=time.time() + AUTH_CODE_SECONDS,
    )
    return redirect(with_query(request.redirect_uri, {"code": code, "state": request.state}))


def signed_in_user(
    state: EmulatorState, request: Request
) -> tuple[CognitoIdpUser, HostedSession] | None:
    """The user of the browser's managed-login session, if it is live and the user may sign in."""
    session_id = request.cookies.get(SESSION_COOKIE)
    session = state.hosted_sessions.get(session_id) if session_id else None
    if session is None or session.expires_at < time.time():
        return None
    user = state.pool._get_user(session.username)
    if user is None or not user.enabled:
        return None
    return user, session


def start_hosted_session(state: EmulatorState, *, username: str) -> tuple[str, int]:
    """Open a managed-login session; return its id (for the cookie) and its sign-in time."""
    auth_time = int(time.time())
    session_id = new_opaque_token()
    state.hosted_sessions[session_id] = HostedSession(
        username=username, auth_time=auth_time, expires_at=auth_time + HOSTED_SESSION_SECONDS
    )
    return session_id, auth_time


def set_session_cookie(response: Response, session_id: str) -> None:
    """The managed-login cookie: 1 hour, HttpOnly, SameSite=Lax, a name of its own."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=HOSTED_SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="Lax",
    )


def sign_in_redirect(state: EmulatorState, request: AuthorizeRequest, *, username: str) -> Response:
    """Open a managed-login session for the user; send the browser back to the app with a code."""
    session_id, auth_time = start_hosted_session(state, username=username)
    response = redirect_with_code(state, request, username=username, auth_time=auth_time)
    set_session_cookie(response, session_id)
    return response


def end_hosted_session(state: EmulatorState, request: Request, response: Response) -> None:
    """Close the browser's managed-login session, server side and cookie."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        state.hosted_sessions.pop(session_id, None)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax")
