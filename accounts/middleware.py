"""Keep a signed-in session alive and private: idle timeout, token refresh, no-store."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control

from accounts.errors import BoundaryError
from accounts.models import TokenRefreshLock
from accounts.session import LAST_SEEN, REFRESHERS, TOKENS, StoredTokens, tokens_get, tokens_save
from accounts.tokens import Tokens

logger = logging.getLogger("accounts")

# Longer than a token request can take (connect + read timeouts), so a live holder keeps it.
LOCK_TTL = 30
LOCK_WAIT = 10.0
# What a request whose tokens expired is told when another request's refresh is still running.
RETRY_AFTER = 5
# Writing the last-seen time on every request would save the session on every request.
LAST_SEEN_RESOLUTION = 60


class TokenRefreshMiddleware:
    """For signed-in users: end idle sessions, refresh tokens before they expire, forbid caching."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            signed_in = request.user.is_authenticated and session_keep_alive(request)
        except RefreshStillRunning:
            signed_in, response = True, _try_again_shortly(request)
        else:
            response = self.get_response(request)
        if getattr(request, "refresh_outlasted", False):
            # Saved after this, the session must not put back tokens older than the store's.
            _keep_newer_stored_tokens(request.session)
        if signed_in or request.user.is_authenticated:
            # Pages for a signed-in user must not be kept by the browser or any shared cache.
            patch_cache_control(response, no_store=True, private=True)
        return response


class RefreshStillRunning(Exception):
    """Another request is still refreshing this session's expired tokens: try again shortly."""


def session_keep_alive(request: HttpRequest) -> bool:
    """False when the user was just signed out; RefreshStillRunning if expired tokens must wait."""
    session = request.session
    now = time.time()
    last_seen = session.get(LAST_SEEN)
    if last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT:
        logger.info("event=session_idle_timeout user_id=%s", request.user.pk)
        _sign_out(request, "You were signed out after a period of inactivity.")
        return False
    if last_seen is None or now - last_seen > LAST_SEEN_RESOLUTION:
        session[LAST_SEEN] = now
    tokens = tokens_get(session)
    if tokens is None or tokens.expires_at - now > settings.TOKEN_REFRESH_MARGIN:
        return True
    try:
        _refresh_once(request)
    except _LockWaitTimeout:
        # The other request is slow, not failed: never sign out for it. Its refresh is due
        # ahead of expiry (the margin), so a token that is still valid serves this request.
        request.refresh_outlasted = True  # type: ignore[attr-defined]
        if tokens.expires_at > time.time():
            logger.info("event=refresh_wait_timeout user_id=%s outcome=proceed", request.user.pk)
            return True
        logger.warning("event=refresh_wait_timeout user_id=%s outcome=retry", request.user.pk)
        raise RefreshStillRunning from None
    except BoundaryError as failure:
        logger.warning("event=refresh_failed user_id=%s reason=%s", request.user.pk, failure.code)
        _sign_out(request, "Your session has ended. Please sign in again.")
        return False
    return True


def _refresh_once(request: HttpRequest) -> None:
    """Refresh this session's tokens; a concurrent request waits for this one instead."""
    session = request.session
    # The lock row names a hash: the session key itself is a credential.
    lock_key = hashlib.sha256(session.session_key.encode()).hexdigest()
    if not _lock_acquire(lock_key):
        _lock_wait(lock_key)
        _adopt_stored_tokens(session)
        logger.info("event=refresh_adopted user_id=%s", request.user.pk)
        return
    try:
        # Another request may have refreshed between our read and the lock: trust the store.
        current = _stored_tokens(session.session_key)
        if current is None:
            raise BoundaryError("session_ended")
        if not _expiring(current):
            _adopt_stored_tokens(session)
            return
        tokens_save(session, _refreshed(current), flow=current.flow)
        # Saved before the lock is released, so the waiting requests read the new tokens.
        session.save()
        logger.info("event=refresh user_id=%s", request.user.pk)
    finally:
        TokenRefreshLock.objects.filter(session_key=lock_key).delete()


def _refreshed(current: StoredTokens) -> Tokens:
    """New tokens the way this session got its first ones (`REFRESHERS`, by flow).

    Managed-login sessions refresh at the token endpoint (accounts.services); API sign-ins
    through the user pools API (signin.services, registered by the signin app). Each verifies
    the new tokens and the same identity. A flow whose app is not installed cannot refresh.
    """
    refresher = REFRESHERS.get(current.flow)
    if refresher is None:
        raise BoundaryError("session_ended")
    return refresher(current)


def _adopt_stored_tokens(session: SessionBase) -> None:
    """Take the tokens another request saved, so this request's own save keeps them."""
    current = _stored_tokens(session.session_key)
    if current is None or _expiring(current):
        # The other request failed and signed the session out, or never finished.
        raise BoundaryError("refresh_lost")
    session[TOKENS] = asdict(current)


def _expiring(tokens: StoredTokens) -> bool:
    return tokens.expires_at - time.time() <= settings.TOKEN_REFRESH_MARGIN


def _stored_tokens(session_key: str) -> StoredTokens | None:
    """The tokens as saved in the session store right now, not as this request loaded them."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    return tokens_get(store)


def _lock_acquire(lock_key: str) -> bool:
    now = timezone.now()
    # A holder that died (killed worker) must not block its session forever.
    TokenRefreshLock.objects.filter(
        session_key=lock_key, acquired_at__lt=now - timedelta(seconds=LOCK_TTL)
    ).delete()
    try:
        with transaction.atomic():
            TokenRefreshLock.objects.create(session_key=lock_key, acquired_at=now)
    except IntegrityError:
        return False
    return True


class _LockWaitTimeout(Exception):
    """The request holding the refresh lock outlasted LOCK_WAIT."""


def _lock_wait(lock_key: str) -> None:
    deadline = time.monotonic() + LOCK_WAIT
    while TokenRefreshLock.objects.filter(session_key=lock_key).exists():
        if time.monotonic() > deadline:
            raise _LockWaitTimeout
        time.sleep(0.05)


def _keep_newer_stored_tokens(session: SessionBase) -> None:
    """Take the store's tokens if another request saved newer ones while this one ran."""
    current = _stored_tokens(session.session_key) if session.session_key else None
    mine = tokens_get(session)
    if current is not None and mine is not None and current.expires_at > mine.expires_at:
        session[TOKENS] = asdict(current)


def _try_again_shortly(request: HttpRequest) -> HttpResponse:
    message = "We are renewing your sign-in. Please try again in a few seconds."
    response = render(request, "accounts/try_again.html", {"message": message}, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


def _sign_out(request: HttpRequest, message: str) -> None:
    auth_logout(request)
    messages.info(request, message)
