"""The OAuth2 endpoints of managed login: authorize, token, userInfo, revoke, logout, error."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import jwt
from werkzeug.wrappers import Request, Response

from emulator import federation, pages, pretoken
from emulator.authorize import (
    end_hosted_session,
    parse_authorize,
    redirect_with_code,
    signed_in_user,
)
from emulator.errors import (
    BadBearerRequest,
    CognitoError,
    ErrorPage,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    LoginRequired,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedTokenType,
)
from emulator.native import rotate_out, rotated_out, rotating
from emulator.responses import json_response, redirect
from emulator.state import RefreshSession
from emulator.tokens import NATIVE_SCOPE, new_opaque_token, token_lifetimes, userinfo_claims

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser, CognitoIdpUserPoolClient

    from emulator.state import EmulatorState


def authorize(state: EmulatorState, request: Request) -> Response:
    """Check the request, then send the browser to /login, or straight back with a code."""
    state.purge_expired()
    query = request.query_string.decode("utf-8", "replace")
    authorize_request = parse_authorize(state, request.args, query=query)
    # identity_provider or idp_identifier: straight to that IdP, as Cognito does.
    if federation.requested(request.args):
        return federation.start(state, authorize_request, request.args)
    signed_in = signed_in_user(state, request)
    if signed_in and authorize_request.prompt != "login":
        user, session = signed_in
        return redirect_with_code(
            state, authorize_request, username=user.username, auth_time=session.auth_time
        )
    if authorize_request.prompt == "none":
        raise authorize_request.fail(LoginRequired())
    return redirect(f"/login?{query}")


def token(state: EmulatorState, request: Request) -> Response:
    """Exchange an authorization code or a refresh token for tokens."""
    _require_form(request)
    client = _authenticate_client(state, request)
    grant_type = request.form.get("grant_type")
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    if grant_type == "authorization_code":
        return _grant_authorization_code(state, request, client)
    if grant_type == "refresh_token":
        return _grant_refresh_token(state, request, client)
    if grant_type == "client_credentials":
        return _grant_client_credentials(state, request, client)
    raise UnsupportedGrantType()


def userinfo(state: EmulatorState, request: Request) -> Response:
    """The signed-in user's attributes, as far as the access token's scopes allow."""
    scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
    bearer = bearer.strip()
    if scheme.lower() != "bearer" or not bearer:
        raise BadBearerRequest()
    try:
        claims = state.tokens.decode_access_token(bearer, pool_id=state.pool.id)
    except jwt.InvalidTokenError:
        raise InvalidToken() from None
    # Revocation and GlobalSignOut end a token before it expires; only this check sees that.
    if bearer not in state.pool.access_tokens or claims.get("origin_jti") in state.revoked_origins:
        raise InvalidToken()
    scopes = str(claims.get("scope", "")).split()
    if "openid" not in scopes:
        raise InvalidToken("Access token does not contain openid scope")
    user = state.pool._get_user(str(claims.get("username", "")))
    if user is None or not user.enabled:
        raise InvalidToken()
    return json_response(userinfo_claims(user, scopes=scopes))


def revoke(state: EmulatorState, request: Request) -> Response:
    """Revoke a refresh token and every token issued from it; unknown tokens also answer 200."""
    _require_form(request)
    client = _authenticate_client(state, request, always_401=True)
    refresh_token = request.form.get("token", "")
    if not refresh_token:
        raise InvalidRequest("token is required")
    if not client.extended_config.get("EnableTokenRevocation", True):
        raise InvalidRequest("token revocation is disabled for this client")
    if refresh_token.count(".") == 2:
        raise UnsupportedTokenType()
    revoke_refresh_token(state, refresh_token=refresh_token, client_id=client.id)
    return Response("", status=200)


def logout(state: EmulatorState, request: Request) -> Response:
    """End the managed-login session and go to the app's logout_uri (or back to /login)."""
    client_id = request.args.get("client_id", "")
    client = state.client(client_id) if client_id else None
    if client is None:
        raise ErrorPage("invalid_client")
    logout_uri = request.args.get("logout_uri")
    # Cognito's /logout is not OIDC RP-initiated logout: it needs client_id and a registered
    # logout_uri (or the redirect_uri + response_type variant), never post_logout_redirect_uri.
    if logout_uri is not None:
        if logout_uri not in (client.extended_config.get("LogoutURLs") or []):
            raise ErrorPage("invalid_logout_uri", client_id=client_id)
        target = logout_uri
    elif request.args.get("redirect_uri") and request.args.get("response_type"):
        query = request.query_string.decode("utf-8", "replace")
        parse_authorize(state, request.args, query=query)
        target = f"/login?{query}"
    else:
        raise ErrorPage("invalid_request", client_id=client_id)
    response = redirect(target)
    end_hosted_session(state, request, response)
    return response


def error(state: EmulatorState, request: Request) -> Response:
    """Cognito's error page: HTTP 400, never a redirect."""
    return pages.error_page(request.args.get("error", "invalid_request"))


def revoke_refresh_token(state: EmulatorState, *, refresh_token: str, client_id: str) -> bool:
    """End a refresh token of this client and the access tokens issued from it; False if unknown."""
    pool = state.pool
    with state.lock:
        entry = pool.refresh_tokens.get(refresh_token)
        if entry is None or entry[0] != client_id:
            return False
        origin_jti = entry[2]
        pool.refresh_tokens[refresh_token] = None  # moto's own mark for a revoked token
        state.refresh_sessions.pop(refresh_token, None)
        state.revoked_origins.add(origin_jti)
        for access_token in state.tokens.access_tokens_of(origin_jti):
            pool.access_tokens.pop(access_token, None)
    return True


def _grant_authorization_code(
    state: EmulatorState, request: Request, client: CognitoIdpUserPoolClient
) -> Response:
    code = request.form.get("code", "")
    redirect_uri = request.form.get("redirect_uri", "")
    if not code or not redirect_uri:
        raise InvalidRequest("code and redirect_uri are required")
    with state.lock:
        issued = state.codes.pop(code, None)  # single use, even when the exchange fails
    if issued is None or issued.expires_at < time.time() or issued.client_id != client.id:
        raise InvalidGrant()
    if redirect_uri != issued.redirect_uri:
        raise InvalidGrant("redirect_uri differs from the one sent to authorize")
    if issued.code_challenge is not None:
        verifier = request.form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not verifier or not hmac.compare_digest(
            expected.encode(), issued.code_challenge.encode()
        ):
            raise InvalidGrant("code_verifier does not match the code_challenge")
    user = _active_user(state, issued.username)
    origin_jti = state.tokens.start_session(auth_time=issued.auth_time)
    body = _mint(
        state,
        source=pretoken.HOSTED_AUTH,
        client=client,
        user=user,
        scopes=issued.scopes,
        origin_jti=origin_jti,
        with_id_token="openid" in issued.scopes,
        nonce=issued.nonce,
    )
    body["refresh_token"] = _new_refresh_token(
        state, client=client, user=user, scopes=issued.scopes, origin_jti=origin_jti
    )
    return json_response(body)


def _grant_client_credentials(
    state: EmulatorState, request: Request, client: CognitoIdpUserPoolClient
) -> Response:
    """A machine's own access token: custom scopes only, no ID or refresh token."""
    config = client.extended_config
    if not client.generate_secret or "client_credentials" not in (
        config.get("AllowedOAuthFlows") or []
    ):
        raise UnauthorizedClient()
    # Only resource-server scopes (`<identifier>/<name>`) can be granted to a machine; without
    # `scope`, every custom scope the client may have (cognito-facts 1.4).
    allowed = [scope for scope in config.get("AllowedOAuthScopes") or [] if "/" in scope]
    requested = request.form.get("scope", "").split()
    scopes = tuple(dict.fromkeys(requested)) if requested else tuple(allowed)
    if not scopes or any(scope not in allowed for scope in scopes):
        raise InvalidScope()
    try:
        issued = pretoken.issue_machine_token(state, client=client, scopes=scopes)
    except CognitoError as error:  # the V3_0 trigger failed or answered nonsense
        raise InvalidRequest(error.message) from None
    return json_response(
        {
            "access_token": issued.access_token,
            "expires_in": issued.expires_in,
            "token_type": "Bearer",
        }
    )


def _grant_refresh_token(
    state: EmulatorState, request: Request, client: CognitoIdpUserPoolClient
) -> Response:
    refresh_token = request.form.get("refresh_token", "")
    if not refresh_token:
        raise InvalidRequest("refresh_token is required")
    pool = state.pool
    # moto's store is the truth for every refresh token (ours and InitiateAuth's): None = revoked.
    entry = pool.refresh_tokens.get(refresh_token)
    session = state.refresh_sessions.get(refresh_token)
    if entry is None or entry[0] != client.id or (session and session.expires_at < time.time()):
        raise InvalidGrant()
    if rotated_out(state, refresh_token):
        raise InvalidGrant()
    _, username, origin_jti = entry
    user = _active_user(state, username)
    # A refresh token from InitiateAuth keeps its native scope and still yields an ID token.
    scopes = session.scopes if session else (NATIVE_SCOPE,)
    body = _mint(
        state,
        source=pretoken.REFRESH_TOKENS,
        client=client,
        user=user,
        scopes=scopes,
        origin_jti=origin_jti,
        with_id_token=session is None or "openid" in scopes,
    )
    if rotating(client):
        rotate_out(state, client, refresh_token)
        body["refresh_token"] = _new_refresh_token(
            state, client=client, user=user, scopes=scopes, origin_jti=origin_jti
        )
    return json_response(body)


def _mint(
    state: EmulatorState,
    *,
    source: str,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    scopes: tuple[str, ...],
    origin_jti: str,
    with_id_token: bool,
    nonce: str | None = None,
) -> dict[str, Any]:
    """Access token (and ID token with `openid`) after the pre token generation trigger."""
    try:
        issued = pretoken.issue_user_tokens(
            state,
            source=source,
            client=client,
            user=user,
            scopes=scopes,
            origin_jti=origin_jti,
            with_id_token=with_id_token,
            nonce=nonce,
            with_at_hash=True,
        )
    except CognitoError as error:  # the trigger failed or answered nonsense
        raise InvalidRequest(error.message) from None
    body: dict[str, Any] = {"access_token": issued.access_token}
    if issued.id_token is not None:
        body["id_token"] = issued.id_token
    body.update({"token_type": "Bearer", "expires_in": issued.expires_in})
    return body


def _new_refresh_token(
    state: EmulatorState,
    *,
    client: CognitoIdpUserPoolClient,
    user: CognitoIdpUser,
    scopes: tuple[str, ...],
    origin_jti: str,
) -> str:
    refresh_token = new_opaque_token()
    with state.lock:
        state.pool.refresh_tokens[refresh_token] = (client.id, user.username, origin_jti)
        state.refresh_sessions[refresh_token] = RefreshSession(
            client_id=client.id,
            username=user.username,
            scopes=scopes,
            auth_time=state.tokens.auth_time(origin_jti),
            origin_jti=origin_jti,
            expires_at=time.time() + token_lifetimes(client).refresh,
        )
    return refresh_token


def _active_user(state: EmulatorState, username: str) -> CognitoIdpUser:
    user = state.pool._get_user(username)
    if user is None or not user.enabled:
        raise InvalidGrant()
    return user


def _require_form(request: Request) -> None:
    if request.method != "POST" or request.mimetype != "application/x-www-form-urlencoded":
        raise InvalidRequest("expected a form-encoded POST")


def _authenticate_client(
    state: EmulatorState, request: Request, *, always_401: bool = False
) -> CognitoIdpUserPoolClient:
    """client_secret_basic, client_secret_post, or a public client's bare client_id."""
    header = request.headers.get("Authorization")
    basic = header is not None
    if basic:
        authorization = request.authorization
        if authorization is None or authorization.type != "basic":
            raise InvalidClient(basic=True)
        # RFC 6749 2.3.1: id and secret are form-encoded before Basic encoding.
        client_id = unquote_plus(authorization.username or "")
        secret: str | None = unquote_plus(authorization.password or "")
        if request.form.get("client_id", client_id) != client_id:
            raise InvalidClient(basic=True)
    else:
        client_id = request.form.get("client_id", "")
        secret = request.form.get("client_secret")
    client = state.client(client_id) if client_id else None
    if client is None:
        raise InvalidClient(basic=basic or always_401)
    if client.generate_secret:
        if not secret or not hmac.compare_digest(secret.encode(), client.secret.encode()):
            raise InvalidClient(basic=basic or always_401)
    elif secret:
        raise InvalidClient("this client has no secret", basic=basic or always_401)
    return client
