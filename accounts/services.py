"""Managed login against the user pool's OAuth2 endpoints: the only module that calls them.

Authlib builds the protocol messages (authorize URL, PKCE S256, token and revocation requests);
one shared requests Session sends them with explicit timeouts and never follows a redirect.
Views see only this module's dataclasses, `ManagedLoginError` and the validator's `TokenInvalid`.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7009.parameters import prepare_revoke_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from accounts.errors import BoundaryError
from accounts.tokens import Tokens, tokens_verified

logger = logging.getLogger("accounts")

# Every request to the OAuth2 endpoints; its `hooks["response"]` is open to observers (the demo's
# flow trace, flows/trace.py, shows each token request).
http_session = requests.Session()


class ManagedLoginError(BoundaryError):
    """A call to the pool's OAuth2 endpoints failed; `code` names why (accounts.errors: status)."""


# The token endpoint's `error` values the user can cause. Anything else is the app's or the
# pool's fault, not the user's: `token_endpoint_error`, which asks them to try again later.
_TOKEN_ERRORS = {"invalid_grant"}


@dataclass(frozen=True)
class PendingLogin:
    """One started login, kept server-side until its callback: what the callback must match."""

    state: str
    code_verifier: str
    nonce: str
    next_url: str
    created_at: float


@dataclass(frozen=True)
class LoginRedirect:
    """Where to send the browser, and what to remember until it comes back."""

    url: str
    pending: PendingLogin


def callback_url() -> str:
    """The redirect_uri: from settings, never from the request's Host header."""
    return settings.APP_URL + reverse("accounts:callback")


def login_start(
    *, next_url: str, identity_provider: str = "", idp_identifier: str = ""
) -> LoginRedirect:
    """An authorization-code request with state, nonce and PKCE S256 (a 48-random-byte verifier).

    With `identity_provider` (a provider name) or `idp_identifier` (an email domain) the pool
    skips its own pages and sends the browser straight to that third-party IdP.
    """
    pending = PendingLogin(
        state=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(48),
        nonce=secrets.token_urlsafe(32),
        next_url=next_url,
        created_at=time.time(),
    )
    url = prepare_grant_uri(
        f"{settings.COGNITO_DOMAIN}/oauth2/authorize",
        client_id=settings.COGNITO_CLIENT_ID,
        response_type="code",
        redirect_uri=callback_url(),
        scope=" ".join(settings.COGNITO_SCOPES),
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.code_verifier),
        code_challenge_method="S256",
        # Authlib leaves out parameters that are None: plain managed login sends neither.
        identity_provider=identity_provider or None,
        idp_identifier=idp_identifier or None,
    )
    return LoginRedirect(url=url, pending=pending)


@sensitive_variables("code", "pending", "response")
def login_complete(*, code: str, pending: PendingLogin) -> Tokens:
    """Exchange the code (same redirect_uri, the verifier) and verify every token it brings."""
    response = _token_request(
        "authorization_code",
        code=code,
        redirect_uri=callback_url(),
        code_verifier=pending.code_verifier,
    )
    return _verified(response, nonce=pending.nonce, refresh_token=None)


@sensitive_variables("refresh_token", "response")
def tokens_refresh(*, refresh_token: str, previous_claims: dict[str, Any]) -> Tokens:
    """New tokens from the refresh token, for the same user, client and issuer as before."""
    response = _token_request("refresh_token", refresh_token=refresh_token)
    tokens = _verified(response, nonce=None, refresh_token=refresh_token)
    # OIDC Core 12.2: a refreshed ID token must name the same subject, issuer and audience.
    for claim in ("iss", "sub", "aud"):
        if tokens.claims.get(claim) != previous_claims.get(claim):
            raise ManagedLoginError("identity_changed")
    return tokens


def stored_tokens_refresh(current: Any) -> Tokens:
    """The refresher of managed-login sessions (accounts.session.REFRESHERS)."""
    return tokens_refresh(refresh_token=current.refresh_token, previous_claims=current.identity)


@sensitive_variables("refresh_token", "body")
def token_revoke(*, refresh_token: str) -> None:
    """Revoke the refresh token (and with it every token issued from it)."""
    body, headers = prepare_revoke_token_request(refresh_token, "refresh_token")
    response = _post(f"{settings.COGNITO_DOMAIN}/oauth2/revoke", body=body, headers=headers)
    if response.status_code != 200:
        raise ManagedLoginError("revoke_failed")


def logout_url() -> str:
    """The pool's /logout, which ends the managed-login session and comes back to the site."""
    # Cognito's /logout is not OIDC RP-initiated logout: it needs client_id and logout_uri
    # (a registered sign-out URL), not post_logout_redirect_uri or id_token_hint.
    query = urlencode(
        {"client_id": settings.COGNITO_CLIENT_ID, "logout_uri": settings.APP_URL + "/"}
    )
    return f"{settings.COGNITO_DOMAIN}/logout?{query}"


@sensitive_variables("params", "body")
def _token_request(grant_type: str, **params: str) -> dict[str, Any]:
    body = prepare_token_request(grant_type, **params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    response = _post(f"{settings.COGNITO_DOMAIN}/oauth2/token", body=body, headers=headers)
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code == 200 and isinstance(payload, dict):
        return payload
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error if error in _TOKEN_ERRORS else "token_endpoint_error"
    logger.warning(
        "event=token_request_failed grant_type=%s http_status=%s error=%s",
        grant_type,
        response.status_code,
        error if isinstance(error, str) and error.isidentifier() else "-",
    )
    raise ManagedLoginError(code)


@sensitive_variables("body")
def _post(url: str, *, body: str, headers: dict[str, str]) -> requests.Response:
    # client_secret_basic when the client has a secret; a public client names itself in the body.
    auth = None
    if settings.COGNITO_CLIENT_SECRET:
        auth = (settings.COGNITO_CLIENT_ID, settings.COGNITO_CLIENT_SECRET)
    else:
        body = f"{body}&{urlencode({'client_id': settings.COGNITO_CLIENT_ID})}"
    try:
        # Never a retry here: an authorization code is single use, so a blind retry can only fail.
        return http_session.post(
            url,
            data=body,
            headers=headers,
            auth=auth,
            timeout=settings.HTTP_TIMEOUT,
            allow_redirects=False,
        )
    except requests.Timeout:
        raise ManagedLoginError("timeout") from None
    except requests.RequestException:
        raise ManagedLoginError("unreachable") from None


@sensitive_variables("response", "refresh_token")
def _verified(response: dict[str, Any], *, nonce: str | None, refresh_token: str | None) -> Tokens:
    return tokens_verified(
        id_token=response.get("id_token"),
        access_token=response.get("access_token"),
        # A refresh answer carries a new refresh token only when the client rotates them.
        refresh_token=response.get("refresh_token") or refresh_token,
        nonce=nonce,
    )
