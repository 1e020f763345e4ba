"""Fixtures of the attack tests: each test starts with no rate-limit counts left by another."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _no_rate_limit_leftovers() -> None:
    """Rate-limit counters live in the cache: each test starts with none."""
    cache.clear()
