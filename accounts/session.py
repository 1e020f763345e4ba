"""What sign-in keeps in the server-side session, under these keys only, and the one way every
flow signs a user in (`sign_user_in`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from accounts.services import ManagedLoginError, PendingLogin, token_revoke
from accounts.tokens import Tokens

logger = logging.getLogger("accounts")

# Logins started in this browser and not yet finished, by state: two tabs can both finish.
PENDING_LOGINS = "accounts.pending_logins"
# The signed-in user's tokens: never sent to the browser, only kept here.
TOKENS = "accounts.tokens"
# When this session last served a request, for the idle timeout.
LAST_SEEN = "accounts.last_seen"
# The third-party IdP that signed the user in (`identities` claim), or None: for display.
SIGNED_IN_WITH = "accounts.signed_in_with"
# When the user last proved who they are (a sign-in, or the password asked again): account
# changes that could lock the owner out need a recent proof (selfservice.views).
PROVEN_AT = "accounts.proven_at"

# How the session's tokens were obtained, which decides how they are refreshed (`REFRESHERS`).
FLOW_MANAGED = "managed"
FLOW_API = "api"

PENDING_LOGIN_MAX_AGE = 10 * 60
PENDING_LOGIN_LIMIT = 5


@dataclass(frozen=True)
class StoredTokens:
    """The tokens of a signed-in session and the identity they were issued for."""

    id_token: str
    access_token: str
    refresh_token: str
    expires_at: int
    iss: str
    sub: str
    aud: str
    flow: str = FLOW_MANAGED
    username: str = ""

    @property
    def identity(self) -> dict[str, Any]:
        return {"iss": self.iss, "sub": self.sub, "aud": self.aud}


def pending_login_add(session: SessionBase, pending: PendingLogin) -> None:
    """Remember a started login; the oldest are dropped beyond the limit, expired ones always."""
    now = time.time()
    logins = {
        state: login
        for state, login in session.get(PENDING_LOGINS, {}).items()
        if now - login["created_at"] < PENDING_LOGIN_MAX_AGE
    }
    logins[pending.state] = asdict(pending)
    newest = sorted(logins.items(), key=lambda item: item[1]["created_at"])[-PENDING_LOGIN_LIMIT:]
    session[PENDING_LOGINS] = dict(newest)


def pending_login_pop(session: SessionBase, state: str) -> PendingLogin | None:
    """The login started with this state, removed so it can be finished once only."""
    logins = session.get(PENDING_LOGINS, {})
    login = logins.pop(state, None)
    if login is None:
        return None
    session[PENDING_LOGINS] = logins
    return PendingLogin(**login)


def pending_login_expired(pending: PendingLogin) -> bool:
    return time.time() - pending.created_at >= PENDING_LOGIN_MAX_AGE


def tokens_save(session: SessionBase, tokens: Tokens, *, flow: str = FLOW_MANAGED) -> None:
    claims = tokens.claims
    stored = StoredTokens(
        id_token=tokens.id_token,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=tokens.expires_at,
        iss=claims["iss"],
        sub=claims["sub"],
        aud=claims["aud"],
        flow=flow,
        username=claims.get("cognito:username") or claims["sub"],
    )
    session[TOKENS] = asdict(stored)


def tokens_get(session: SessionBase) -> StoredTokens | None:
    stored = session.get(TOKENS)
    return StoredTokens(**stored) if stored else None


def tokens_pop(session: SessionBase) -> StoredTokens | None:
    stored = session.pop(TOKENS, None)
    return StoredTokens(**stored) if stored else None


def session_start(session: SessionBase, tokens: Tokens, *, flow: str = FLOW_MANAGED) -> None:
    """Keep the tokens and fix the session's absolute lifetime from now."""
    tokens_save(session, tokens, flow=flow)
    # An explicit expiry date is stored in the session, so later saves never extend it.
    session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
    session[LAST_SEEN] = time.time()
    session[SIGNED_IN_WITH] = identity_provider_of(tokens.claims)
    proof_record(session)  # a sign-in is a fresh proof


def proof_record(session: SessionBase) -> None:
    """The user has just proved who they are (signed in, or entered their password again)."""
    session[PROVEN_AT] = time.time()


def identity_provider_of(claims: dict[str, Any]) -> dict[str, str] | None:
    """The primary entry of a federated user's verified `identities` claim: name and type."""
    identities = claims.get("identities")
    if not isinstance(identities, list):
        return None
    entries = [entry for entry in identities if isinstance(entry, dict)]
    # `primary` is the string "true" in Cognito's tokens.
    primary = next((e for e in entries if str(e.get("primary")) == "true"), None)
    entry = primary or (entries[0] if entries else None)
    if entry is None:
        return None
    return {
        "name": str(entry.get("providerName", "")),
        "type": str(entry.get("providerType", "")),
    }


# New tokens for a session, by the flow that signed it in: managed login's is registered by this
# app, the others by their own app's AppConfig.ready(). The foundation imports no flow app.
Refresher = Callable[[StoredTokens], Tokens]
REFRESHERS: dict[str, Refresher] = {}


def refresher_register(flow: str, refresher: Refresher) -> None:
    """How sessions signed in by `flow` get new tokens (see accounts.middleware)."""
    REFRESHERS[flow] = refresher


def sign_user_in(request: HttpRequest, tokens: Tokens, *, flow: str) -> User:
    """Sign the site user in the same way for every flow: verified claims, a new session key."""
    user = user_sync(claims=tokens.claims)
    # A new session key; the site's first backend reads the session's user back.
    auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    session_start(request.session, tokens, flow=flow)
    logger.info("event=signin flow=%s user_id=%s sub=%s", flow, user.pk, user.cognito_sub)
    return user


@transaction.atomic
def user_sync(*, claims: dict[str, Any]) -> User:
    """The site user for these verified ID-token claims, created or updated from them."""
    username = claims.get("cognito:username") or claims["sub"]
    # Email is an identity only once the pool has verified it.
    verified = claims.get("email_verified") in (True, "true")
    email = claims.get("email", "") if verified else ""
    # A pool can reuse a username for a new user (new sub): the stale row gives it up.
    User.objects.filter(username=username).exclude(cognito_sub=claims["sub"]).update(
        username=f"stale-{claims['sub']}"
    )
    user, created = User.objects.update_or_create(
        cognito_sub=claims["sub"],
        defaults={
            "username": username,
            "email": email,
            "first_name": str(claims.get("given_name", ""))[:150],
            "last_name": str(claims.get("family_name", ""))[:150],
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def sign_user_out(request: HttpRequest) -> None:
    """Revoke the session's refresh token and end the session (the pool's own is the caller's)."""
    user_id = request.user.pk
    tokens = tokens_pop(request.session)
    if tokens is not None:
        try:
            token_revoke(refresh_token=tokens.refresh_token)
        except ManagedLoginError as failure:
            # Signing out locally must never depend on the pool answering.
            logger.warning("event=revoke_failed user_id=%s reason=%s", user_id, failure.code)
    auth_logout(request)
    logger.info("event=logout user_id=%s", user_id)
