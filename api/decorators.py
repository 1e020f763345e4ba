"""`@scope_required`: the one line a view needs to trust only access tokens with a scope."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from api.bearer import INVALID_TOKEN, BearerRefused, BearerUnavailable, bearer_authenticate

logger = logging.getLogger("api")
REALM = "api"


def api_error(
    status: int, error: str, description: str, *, challenge: str | None = None
) -> JsonResponse:
    """A JSON error (never an HTML page), with RFC 6750's challenge when there is one."""
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    if challenge is not None:
        response["WWW-Authenticate"] = challenge
    response["Cache-Control"] = "no-store"
    return response


def scope_required(scope: str | None) -> Callable[[Callable[..., HttpResponse]], Any]:
    """Only a valid bearer access token, with `scope` unless None, reaches the view.

    The view finds the caller in `request.bearer`. csrf_exempt is safe here: cookies are never
    read, so a cross-site request carries no credential the API would honour.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                bearer = bearer_authenticate(authorization=request.headers.get("Authorization", ""))
            except BearerRefused as refused:
                logger.info("event=api_token_refused reason=%s", refused.reason)
                # RFC 6750 3.1: a request without a token gets the challenge but no error code.
                challenge = f'Bearer realm="{REALM}"'
                if refused.error:
                    challenge += f', error="{refused.error}", error_description="{INVALID_TOKEN}"'
                return api_error(401, "invalid_token", INVALID_TOKEN, challenge=challenge)
            except BearerUnavailable:
                response = api_error(
                    503, "temporarily_unavailable", "Tokens cannot be checked right now."
                )
                response["Retry-After"] = "5"
                return response
            if scope is not None and scope not in bearer.scopes:
                description = f"This request needs the scope {scope}."
                challenge = (
                    f'Bearer realm="{REALM}", error="insufficient_scope", '
                    f'error_description="{description}", scope="{scope}"'
                )
                return api_error(403, "insufficient_scope", description, challenge=challenge)
            request.bearer = bearer  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
