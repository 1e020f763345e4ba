"""The managed-login pages' CSRF check: a cookie, and a form token that is its HMAC."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from emulator.tokens import new_opaque_token

if TYPE_CHECKING:
    from emulator.state import EmulatorState

CSRF_COOKIE = "cognito-demo-csrf"


def pair(state: EmulatorState, request: Request) -> tuple[str, str]:
    """The browser's CSRF cookie value (a new one if absent) and the form token tied to it."""
    cookie = request.cookies.get(CSRF_COOKIE) or new_opaque_token()
    return cookie, _token(state, cookie)


def valid(state: EmulatorState, request: Request) -> bool:
    """The posted form's token matches the browser's cookie."""
    cookie = request.cookies.get(CSRF_COOKIE)
    token = request.form.get("_csrf", "")
    return bool(cookie) and hmac.compare_digest(_token(state, cookie).encode(), token.encode())


def with_cookie(response: Response, cookie: str) -> Response:
    """The response, setting the CSRF cookie its form's token is tied to."""
    response.set_cookie(CSRF_COOKIE, cookie, path="/", httponly=True, samesite="Lax")
    return response


def _token(state: EmulatorState, cookie: str) -> str:
    return hmac.new(state.csrf_secret, cookie.encode(), hashlib.sha256).hexdigest()
