"""Response headers every page of the site gets: its CSP, Retry-After, and no referrer for codes."""

from __future__ import annotations

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
        update = dict(parts.update or {})
        update["form-action"] = [
            *update.get("form-action", ()),
            f"{domain.scheme}://{domain.netloc}",
        ]
        parts.update = update
        return parts


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
