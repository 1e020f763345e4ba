"""Remembered devices on this site's side: which browser holds which device, and its refresh.

The browser carries a random id (`BROWSER_COOKIE`); the device's key and SRP password live in
the database (signin.models), keyed by that id and the username.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from accounts.tokens import Tokens
from signin.models import DeviceRefreshToken, RememberedDevice, token_digest
from signin.services import DeviceSecret, SignedIn, tokens_refresh

BROWSER_COOKIE = "browser_id"
BROWSER_COOKIE_AGE = 365 * 24 * 3600


def browser_id(request: HttpRequest) -> str:
    """This browser's random id, or "" when it has none (or a malformed one)."""
    value = request.COOKIES.get(BROWSER_COOKIE, "")
    return (
        value
        if 20 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()
        else ""
    )


def browser_id_new() -> str:
    return secrets.token_urlsafe(32)


def browser_cookie_set(response: HttpResponse, request: HttpRequest, value: str) -> None:
    """The long-lived id: HttpOnly, Lax, Secure as the session cookie is."""
    response.set_cookie(
        BROWSER_COOKIE,
        value,
        max_age=BROWSER_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def devices_for(*, browser: str) -> dict[str, DeviceSecret]:
    """The devices this browser remembers, by the pool's internal username.

    All of them, whoever signs in: the pool tells which user a typed name (an alias, another
    case) is only during the sign-in (USER_ID_FOR_SRP), and signin_start picks from these then.
    """
    if not browser:
        return {}
    return {
        row.username: DeviceSecret(
            key=row.device_key, group_key=row.group_key, password=row.password
        )
        for row in RememberedDevice.objects.filter(browser=browser)
    }


def device_save(*, browser: str, username: str, secret: DeviceSecret) -> None:
    """Keep a device under the pool's internal username (cognito:username), never as typed."""
    RememberedDevice.objects.update_or_create(
        browser=browser,
        username=username,
        defaults={
            "device_key": secret.key,
            "group_key": secret.group_key,
            "password": secret.password,
        },
    )


def device_drop(*, device_key: str) -> None:
    """Forget a device here too (its secret, and the refresh tokens bound to it)."""
    RememberedDevice.objects.filter(device_key=device_key).delete()
    DeviceRefreshToken.objects.filter(device_key=device_key).delete()


def device_forgotten(*, browser: str, username: str) -> None:
    """The pool no longer knows this browser's device for `username`: drop it here too."""
    for key in RememberedDevice.objects.filter(browser=browser, username=username).values_list(
        "device_key", flat=True
    ):
        device_drop(device_key=key)


def remembered_here(*, browser: str) -> set[str]:
    """The keys of the devices this browser holds."""
    if not browser:
        return set()
    return set(
        RememberedDevice.objects.filter(browser=browser).values_list("device_key", flat=True)
    )


def refresh_bind(tokens: Tokens) -> None:
    """Note which device a sign-in's refresh token belongs to, for its refreshes.

    A device is one browser, whose new sign-in replaced its earlier session: the earlier
    session's binding goes (its refresh token was revoked at sign-out, or is no one's now).
    """
    if isinstance(tokens, SignedIn) and tokens.device_key and tokens.refresh_token:
        DeviceRefreshToken.objects.filter(device_key=tokens.device_key).delete()
        DeviceRefreshToken.objects.create(
            digest=token_digest(tokens.refresh_token), device_key=tokens.device_key
        )


def stored_tokens_refresh(current: Any) -> Tokens:
    """The refresher of API sign-in sessions (accounts.session.REFRESHERS), device-aware."""
    bound = DeviceRefreshToken.objects.filter(digest=token_digest(current.refresh_token)).first()
    device_key = bound.device_key if bound else ""
    tokens = tokens_refresh(
        refresh_token=current.refresh_token,
        username=current.username,
        previous_claims=current.identity,
        device_key=device_key,
    )
    if bound and tokens.refresh_token != current.refresh_token:  # rotated: the new one too
        DeviceRefreshToken.objects.create(
            digest=token_digest(tokens.refresh_token), device_key=device_key
        )
        bound.delete()
    return tokens
