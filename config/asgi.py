"""The ASGI entry point, with the body limit applied before Django reads a byte of the body.

Django's ASGI handler reads the whole body into a temporary file before any middleware runs, so
the WSGI-side check (protected.uploads.BodySizeLimitMiddleware) would come too late here.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from protected.uploads import MAX_BODY_BYTES  # noqa: E402 (needs the settings loaded)

Scope = dict[str, Any]


async def application(scope: Scope, receive: Any, send: Any) -> None:
    """Django, with bodies cut at MAX_BODY_BYTES: announced ones unread, streamed ones cut off."""
    if scope["type"] != "http":
        return await django_application(scope, receive, send)
    announced = dict(scope.get("headers", [])).get(b"content-length", b"0")
    too_large = not announced.isdigit() or int(announced) > MAX_BODY_BYTES
    received = 0
    body_refused = False

    async def limited_receive() -> dict[str, Any]:
        nonlocal received, body_refused
        if too_large:
            if body_refused:
                # Django then listens for a disconnect until it has answered; nothing more comes.
                await asyncio.Event().wait()
            body_refused = True
            # Django answers 413 from the Content-Length header: give it no body to read.
            return {"type": "http.request", "body": b"", "more_body": False}
        message = await receive()
        received += len(message.get("body", b""))
        if received > MAX_BODY_BYTES:
            return {"type": "http.disconnect"}  # Django stops reading and answers nothing
        return message

    await django_application(scope, limited_receive, send)
