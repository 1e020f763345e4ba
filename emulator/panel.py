"""`GET /demo/panel.json`: what the site's demo panel shows, read over HTTP (never imported)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pyotp
from werkzeug.wrappers import Request, Response

from emulator import seed
from emulator.idps import IDENTITY_PROVIDERS
from emulator.mfa import TOTP_STEP_SECONDS
from emulator.responses import json_response

if TYPE_CHECKING:
    from emulator.state import EmulatorState

LATEST_MESSAGES = 8


def demo_panel(state: EmulatorState, request: Request) -> Response:
    """Demo users with passwords, second factors and current TOTP codes; the latest mail."""
    now = time.time()
    users = [
        {
            "username": user.username,
            "password": user.password,
            "email": user.email,
            "mfa": user.mfa,
            "phone_number": user.phone_number or "",
            "must_change_password": user.must_change_password,
            # The secret the pool holds now: a user may have replaced the seed's authenticator.
            "totp_code": _code(state.totp_secrets.get(user.username), now),
        }
        for user in seed.DEMO_USERS
    ]
    providers = [
        {
            "name": spec.name,
            "display_name": spec.display_name,
            "type": spec.type,
            "users": [
                {
                    "username": user.username,
                    "password": user.password,
                    "email": user.email,
                    "totp_code": _code(user.totp_secret, now),
                    "refused": user.refused,
                }
                for user in spec.users
            ],
        }
        for spec in IDENTITY_PROVIDERS
    ]
    latest = list(reversed(state.inbox.messages()))[:LATEST_MESSAGES]
    return json_response(
        {
            "users": users,
            "identity_providers": providers,
            "totp_seconds_left": TOTP_STEP_SECONDS - int(now) % TOTP_STEP_SECONDS,
            "messages": [
                {"to": m.to, "subject": m.subject, "code": m.code or "", "time": m.time}
                for m in latest
            ],
            "inbox_url": f"{state.url}/inbox",
        }
    )


def _code(secret: str | None, now: float) -> str:
    return pyotp.TOTP(secret).at(now) if secret else ""
