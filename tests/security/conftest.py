"""Fixtures of the security suite: the accounts suite's sign-in fixtures, and no leftovers."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from tests.accounts.conftest import api_signed_in, bob, sign_in  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def _no_rate_limit_leftovers() -> None:
    """Rate-limit counters live in the cache: each test starts with none."""
    cache.clear()


@pytest.fixture
def no_rate_limits(settings: Any) -> None:
    """Fuzzed input reaches the pool every time instead of stopping at the app's limits."""
    settings.AUTH_RATE_LIMIT_PER_ACCOUNT = 10**6
    settings.AUTH_RATE_LIMIT_PER_ADDRESS = 10**6
