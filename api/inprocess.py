"""The site asking its own API, in-process: the user's access token never leaves the server."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import resolve, reverse


@dataclass(frozen=True)
class ApiAnswer:
    """One call, its answer, and the scope that decided it (None: any valid token)."""

    method: str
    path: str
    status: int
    body: object
    scope: str | None
    challenge: str

    @property
    def allowed(self) -> bool:
        return 200 <= self.status < 300

    @property
    def body_json(self) -> str:
        return json.dumps(self.body, indent=2)


def api_call(*, method: str, path: str, access_token: str, scope: str | None) -> ApiAnswer:
    """Run the API view of `path` on a request that carries only the bearer token."""
    request = HttpRequest()
    request.method = method
    request.path = request.path_info = path
    request.META = {
        "REQUEST_METHOD": method,
        "HTTP_AUTHORIZATION": f"Bearer {access_token}",
        "SERVER_NAME": "in-process",
        "SERVER_PORT": "443",
    }
    match = resolve(path)
    response = match.func(request, *match.args, **match.kwargs)
    body = json.loads(response.content) if response.content else None
    return ApiAnswer(
        method=method,
        path=path,
        status=response.status_code,
        body=body,
        scope=scope,
        challenge=response.get("WWW-Authenticate", ""),
    )


def api_overview(*, access_token: str) -> list[ApiAnswer]:
    """Who the API thinks the caller is, and whether it may read the caller's notes.

    Only reads: a page view changes nothing, so writing is shown as the scope it would need.
    """
    return [
        api_call(method="GET", path=reverse("api:me"), access_token=access_token, scope=None),
        api_call(
            method="GET", path=reverse("api:notes"), access_token=access_token, scope="notes/read"
        ),
    ]
