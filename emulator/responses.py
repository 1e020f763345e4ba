"""Small request and response helpers shared by the endpoints."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from emulator.errors import InvalidParameter

JSON_UTF8 = "application/json;charset=UTF-8"
AMZ_JSON = "application/x-amz-json-1.1"


def json_response(data: Any, *, status: int = 200, content_type: str = JSON_UTF8) -> Response:
    """A JSON answer that no cache keeps."""
    response = Response(json.dumps(data), status=status, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def redirect(location: str) -> Response:
    """A 302 to `location`."""
    response = Response("", status=302)
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response


def with_query(url: str, params: dict[str, str | None]) -> str:
    """`url` with `params` (those not None) added to its query string."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query}"


def json_params(request: Request) -> dict[str, Any]:
    """The request's JSON body, which must be an object."""
    try:
        params = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        params = None
    if not isinstance(params, dict):
        raise InvalidParameter("The request body is not a JSON object.")
    return params
