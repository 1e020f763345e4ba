"""Fixtures shared by every test: the local AWS emulator on free ports, pointed at by settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings

from emulator.server import Emulator


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator for the whole run, on a free port, with the demo seed."""
    server = Emulator(host="localhost", port=0).start()
    server.add_app_url(django_settings.APP_URL)
    # Settings whose value depends on the emulator's port (see tests/settings.py).
    django_settings.AWS_ENDPOINT_URL = server.url
    django_settings.COGNITO_DOMAIN = server.url
    django_settings.COGNITO_ISSUER = server.issuer
    django_settings.DEMO_PANEL_URL = f"{server.url}/demo/panel.json"
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_emulator(request: pytest.FixtureRequest) -> None:
    """Tests that use the emulator start from its seed, so none depends on another's leftovers."""
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").reset()
