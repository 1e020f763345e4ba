"""Response headers every page of the site gets: its CSP, Retry-After, and no referrer for codes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from config.logs import carries_secret


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (CONTENT_SECURITY_POLICY), with the managed login origin in form-action.

    Chromium checks form-action on every redirect after a form post, and sign-out posts to this
    site, which redirects to the pool's `/logout`. The origin is read per response from
    COGNITO_DOMAIN, like every other use of that setting.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        domain = urlsplit(settings.COGNITO_DOMAIN)
        sources = [f"{domain.scheme}://{domain.netloc}"]
        if getattr(response, "_form_action_to_identity_providers", False):
            # Any https origin; with a local pool (http is only accepted on loopback), its IdPs.
            sources += ["https:", "http://localhost:*"] if domain.scheme == "http" else ["https:"]
        update = dict(parts.update or {})
        update["form-action"] = [*update.get("form-action", ()), *sources]
        parts.update = update
        return parts


def form_action_to_identity_providers(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """For a page whose form ends at an IdP the pool picks: form-action allows any https origin.

    Chromium checks form-action on each redirect after the post: site, pool, then the
    organisation's IdP, whose origin only the pool knows.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response._form_action_to_identity_providers = True  # type: ignore[attr-defined]
        return response

    return wrapper


class ResponseHeadersMiddleware:
    """`Retry-After` on every 429, and `Referrer-Policy: no-referrer` where the URL holds a code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 429 and "Retry-After" not in response:
            # A view that knows when its limit lifts sets its own; this is the longest it can be.
            response["Retry-After"] = str(settings.RETRY_AFTER_SECONDS)
        if carries_secret(request.GET):
            # The page's own requests (its stylesheet, a link followed) must not carry the code
            # in their Referer, not even to this site, whose proxy may log Referer headers.
            response["Referrer-Policy"] = "no-referrer"
        return response
