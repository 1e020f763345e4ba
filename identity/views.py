"""The identity pages: who you are to the identity pool, and continuing as a guest."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from identity.forms import CredentialsForm, role_name
from identity.services import FLOW_LABELS_SHORT, IdentityError
from identity.session import NoIdentity, credentials_for_request, guest_start, owner_of

logger = logging.getLogger("identity")


@never_cache
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest) -> HttpResponse:
    """The identity ID, role, expiry and flow of this session's credentials (never the keys)."""
    form = CredentialsForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        messages.success(request, "New credentials obtained.")
        return redirect("identity:status")
    try:
        credentials = form.result or credentials_for_request(request)
    except NoIdentity:
        credentials = None
    except IdentityError as error:
        logger.warning("event=identity_failed reason=%s", error.code)
        return render(request, "identity/error.html", {"code": error.code}, status=error.status)
    context = {
        "credentials": credentials,
        "role": role_name(credentials.role_arn) if credentials else "",
        "expires": datetime.fromtimestamp(credentials.expires_at, tz=UTC) if credentials else None,
        "how": FLOW_LABELS_SHORT.get(credentials.flow, "") if credentials else "",
        "form": form,
        "signed_in": request.user.is_authenticated,
    }
    return render(request, "identity/status.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def guest(request: HttpRequest) -> HttpResponse:
    """Continue as a guest: the pool's unauthenticated role, which reads public files only."""
    if request.user.is_authenticated:
        return redirect("identity:status")
    if request.method == "GET":
        return render(request, "identity/guest.html", {"guest": owner_of(request) is not None})
    guest_start(request)
    try:
        credentials_for_request(request)
    except IdentityError as error:
        logger.warning("event=guest_failed reason=%s", error.code)
        return render(request, "identity/error.html", {"code": error.code}, status=error.status)
    return redirect("protected:objects")
