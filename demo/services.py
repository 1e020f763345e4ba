"""The demo panel's data, read over HTTP from the emulator (the site never imports it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import requests
from django.conf import settings

logger = logging.getLogger("demo")
# The emulator runs on this machine: a short wait, and no proxy from the environment.
TIMEOUT = (1.0, 2.0)
_http = requests.Session()
_http.trust_env = False


class DemoUnavailable(Exception):
    """The emulator did not answer, or answered something that is not its panel."""


@dataclass(frozen=True)
class Panel:
    """Demo users (with their current TOTP codes), IdP users and the inbox's latest messages."""

    users: list[dict[str, Any]]
    identity_providers: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    inbox_url: str
    seconds_left: int


def panel_fetch() -> Panel:
    """The emulator's panel JSON at DEMO_PANEL_URL."""
    try:
        response = _http.get(settings.DEMO_PANEL_URL, timeout=TIMEOUT)
        response.raise_for_status()
        data = response.json()
        return Panel(
            users=list(data["users"]),
            identity_providers=list(data["identity_providers"]),
            messages=list(data["messages"]),
            inbox_url=str(data["inbox_url"]),
            seconds_left=int(data["totp_seconds_left"]),
        )
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        logger.warning("event=demo_panel_unavailable reason=%s", type(error).__name__)
        raise DemoUnavailable from error


def demo_reset() -> None:
    """Put the emulator's world back to its seed (users, MFA, codes, sessions, inbox)."""
    # The emulator answers its reset at the root of the origin that serves the panel.
    try:
        _http.post(urljoin(settings.DEMO_PANEL_URL, "/reset"), timeout=TIMEOUT).raise_for_status()
    except requests.RequestException as error:
        logger.warning("event=demo_reset_failed reason=%s", type(error).__name__)
        raise DemoUnavailable from error
