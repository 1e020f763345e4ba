"""What the header needs on every page: who the visitor is, and whether the demo panel is on."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from federation.services import providers_list
from identity.session import GUEST


def visitor(request: HttpRequest) -> dict[str, object]:
    """`display_name` (a federated user's name or email), `is_guest` and `demo_panel`."""
    # Error pages answered before the session and auth middleware ran (a 400 for a bad Host
    # header) have neither: the visitor is then nobody in particular.
    user = getattr(request, "user", None)
    session = getattr(request, "session", {})
    display_name = ""
    if user is not None and user.is_authenticated:
        display_name = user.get_username()
        if is_federated(display_name):
            display_name = user.get_full_name() or user.email or display_name
    return {
        "display_name": display_name,
        "is_guest": not display_name and bool(session.get(GUEST)),
        "demo_panel": bool(settings.DEMO_PANEL_URL),
    }


def is_federated(username: str) -> bool:
    """Whether the pool made this username for a federated user: `<ProviderName>_<their id>`."""
    prefix, underscore, _ = username.partition("_")
    # Only a prefix naming one of the client's IdPs counts: `ann_smith` stays a plain username.
    return bool(underscore) and any(provider.name == prefix for provider in providers_list())
