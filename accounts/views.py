"""Managed login: the redirect to the pool's sign-in pages, the callback, and signing out."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from accounts.forms import CallbackForm, LoginStartForm
from accounts.services import login_start, logout_url
from accounts.session import FLOW_MANAGED, pending_login_add, sign_user_in, sign_user_out

logger = logging.getLogger("accounts")

# Why the last managed login failed, shown at /accounts/login/failed/: the callback's own URL
# still holds the code and state, so the callback never answers with a page.
LOGIN_FAILURE = "accounts.login_failure"


@never_cache
@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """Send the browser to the pool's sign-in pages, remembering state, nonce and PKCE verifier."""
    form = LoginStartForm(request.GET)
    request.session.pop(LOGIN_FAILURE, None)
    started = login_start(next_url=form.next_url, identity_provider=form.identity_provider)
    pending_login_add(request.session, started.pending)
    return redirect(started.url)


@never_cache
@require_GET
@sensitive_variables("form")
def callback(request: HttpRequest) -> HttpResponse:
    """Finish managed login and sign the user in.

    Checked before any token request: `state` present, started in this session, unused, fresh;
    `iss`, when sent (RFC 9207), our pool;
    no `?error=`. Then the code is exchanged with the configured redirect_uri and the PKCE
    verifier, and the ID token (signature, iss, aud, token_use, exp, nonce, at_hash) and access
    token (signature, iss, client_id, token_use, exp) are verified.
    """
    form = CallbackForm(request.GET, session=request.session)
    if not form.is_valid():
        logger.warning("event=signin_failed flow=managed reason=%s", form.failure_code)
        failure = {"message": form.failure_message, "status": form.failure_status}
        request.session[LOGIN_FAILURE] = failure
        return redirect("accounts:login_failed")
    sign_user_in(request, form.tokens, flow=FLOW_MANAGED)
    return redirect(form.pending.next_url)


@never_cache
@require_GET
def login_failed(request: HttpRequest) -> HttpResponse:
    """Why the last managed login failed, with its status, at a URL that holds no code or state."""
    failure = request.session.get(LOGIN_FAILURE)
    if not isinstance(failure, dict):
        return redirect("home")
    context = {"message": failure["message"]}
    return render(request, "accounts/login_failed.html", context, status=failure["status"])


@never_cache
@require_POST
@csrf_protect
def logout(request: HttpRequest) -> HttpResponse:
    """Revoke the refresh token, end this session, then end the pool's managed-login session."""
    sign_user_out(request)
    return redirect(logout_url())
