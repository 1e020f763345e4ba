"""The demo panel: who can sign in, their live codes, the inbox, and a reset button."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from demo.services import DemoUnavailable, demo_reset, panel_fetch


def demo_only(view: Any) -> Any:
    """A 404 unless the site runs against the emulator (DEMO_PANEL_URL set)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DEMO_PANEL_URL:
            raise Http404("No demo panel here")
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@require_GET
@demo_only
def panel(request: HttpRequest) -> HttpResponse:
    """The demo users with passwords and second factors, live TOTP codes, the latest mail."""
    try:
        context = {"panel": panel_fetch()}
    except DemoUnavailable:
        context = {"panel": None}
    return render(request, "demo/panel.html", context, status=200 if context["panel"] else 503)


@require_POST
@demo_only
def reset(request: HttpRequest) -> HttpResponse:
    """Reset the emulator to its seed; this site's session goes too, as its tokens do."""
    try:
        demo_reset()
    except DemoUnavailable:
        messages.error(request, "The emulator did not answer: the demo was not reset.")
        return redirect("demo:panel")
    logout(request)
    messages.success(request, "The demo is back to its start: users, codes, sessions and inbox.")
    return redirect("demo:panel")
