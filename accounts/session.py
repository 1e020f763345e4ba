"""What managed login keeps in the server-side session, under these keys only."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone

from accounts.services import PendingLogin, Tokens

# Logins started in this browser and not yet finished, by state: two tabs can both finish.
PENDING_LOGINS = "accounts.pending_logins"
# The signed-in user's tokens: never sent to the browser, only kept here.
TOKENS = "accounts.tokens"
# When this session last served a request, for the idle timeout.
LAST_SEEN = "accounts.last_seen"

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


def tokens_save(session: SessionBase, tokens: Tokens) -> None:
    claims = tokens.claims
    stored = StoredTokens(
        id_token=tokens.id_token,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=tokens.expires_at,
        iss=claims["iss"],
        sub=claims["sub"],
        aud=claims["aud"],
    )
    session[TOKENS] = asdict(stored)


def tokens_get(session: SessionBase) -> StoredTokens | None:
    stored = session.get(TOKENS)
    return StoredTokens(**stored) if stored else None


def tokens_pop(session: SessionBase) -> StoredTokens | None:
    stored = session.pop(TOKENS, None)
    return StoredTokens(**stored) if stored else None


def session_start(session: SessionBase, tokens: Tokens) -> None:
    """Keep the tokens and fix the session's absolute lifetime from now."""
    tokens_save(session, tokens)
    # An explicit expiry date is stored in the session, so later saves never extend it.
    session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
    session[LAST_SEEN] = time.time()
