"""The verified-token cache: bounded, never past exp, one entry per whole token."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from accounts.tokens import token_validator
from api.bearer import VerifiedTokenCache, verified_tokens
from emulator.server import Emulator

from .conftest import machine_token


def claims(exp_in: float) -> dict[str, Any]:
    return {"sub": "s", "client_id": "c", "exp": time.time() + exp_in}


def test_a_repeated_token_is_served_from_the_cache(emulator: Emulator, call: Callable) -> None:
    token = machine_token(emulator)
    assert call("GET", "/api/me", token).status_code == 200
    fetches = token_validator().jwks.fetch_count

    assert verified_tokens.get(token) is not None
    assert call("GET", "/api/me", token).status_code == 200
    assert token_validator().jwks.fetch_count == fetches


def test_an_entry_is_never_served_at_its_exp() -> None:
    cache = VerifiedTokenCache()
    cache.put("live", claims(60))
    cache.put("dead", claims(-1))

    assert cache.get("live") is not None
    assert cache.get("dead") is None
    assert len(cache) == 1


def test_tokens_that_differ_anywhere_are_different_entries() -> None:
    cache = VerifiedTokenCache()
    cache.put("header.payload.signature", claims(60))

    assert cache.get("header.payload.signaturf") is None
    assert cache.get("header.payload.") is None
    assert cache.get("header.payload.signature") is not None


def test_the_cache_keeps_at_most_its_size_dropping_the_least_recently_used() -> None:
    cache = VerifiedTokenCache(max_size=2)
    cache.put("a", claims(60))
    cache.put("b", claims(60))
    cache.get("a")
    cache.put("c", claims(60))

    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None
