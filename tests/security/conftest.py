"""Fixtures of the security suite: the accounts suite's sign-in fixtures, and no leftovers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts.conftest import (  # noqa: F401 (fixtures)
    _no_rate_limit_leftovers,
    _plain_static_storage,
    api_signed_in,
    bob,
    sign_in,
)


@pytest.fixture
def no_rate_limits(settings: Any) -> None:
    """Fuzzed input reaches the pool every time instead of stopping at the app's limits."""
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 10**6
    settings.AUTH_RATE_LIMIT_PER_ADDRESS = 10**6
