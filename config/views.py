"""The home page and the health checks: the pages that belong to no single flow."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.session import SIGNED_IN_WITH
from config.health import readiness_checks
from federation.services import providers_list


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Every way to sign in, or who is signed in, how, and what they can do next."""
    providers = providers_list()
    signed_in_with = request.session.get(SIGNED_IN_WITH)
    if signed_in_with:
        # The IdP's name as people know it ("Example Corp (OIDC)"), not the pool's key for it.
        shown = next((p.display_name for p in providers if p.name == signed_in_with["name"]), "")
        signed_in_with = {**signed_in_with, "display_name": shown or signed_in_with["name"]}
    context = {"identity_providers": providers, "signed_in_with": signed_in_with}
    return render(request, "home.html", context)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """`/favicon.ico`, which browsers ask for on every site: the SVG icon base.html links."""
    return redirect(static("favicon.svg"))


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the app can serve: settings loaded and the database answering."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when the database, the cache and the user pool's discovery document all answer."""
    checks = readiness_checks()
    ready = all(check.ok for check in checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: check.as_json() for name, check in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)
