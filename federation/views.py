"""The identity provider chooser: a button per IdP, and sign-in by work email."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.forms import LoginStartForm
from accounts.services import login_start
from accounts.session import pending_login_add
from config.middleware import form_action_to_identity_providers
from federation.forms import WorkEmailForm
from federation.services import providers_list


@never_cache
@require_http_methods(["GET", "POST"])
@form_action_to_identity_providers
def chooser(request: HttpRequest) -> HttpResponse:
    """GET: the IdP buttons. POST: a work email, sent to its IdP with `idp_identifier`."""
    form = WorkEmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The same state, nonce, PKCE and callback as managed login: only the IdP hint differs.
        started = login_start(
            next_url=LoginStartForm(request.GET).next_url, idp_identifier=form.idp_identifier
        )
        pending_login_add(request.session, started.pending)
        return redirect(started.url)
    context = {"providers": providers_list(), "form": form}
    return render(request, "federation/chooser.html", context, status=400 if form.errors else 200)
