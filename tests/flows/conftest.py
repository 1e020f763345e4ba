"""Signing in every way, as tests/accounts and tests/federation do it."""

from __future__ import annotations

from tests.accounts.conftest import _no_rate_limit_leftovers, _plain_static_storage, sign_in

__all__ = ["_no_rate_limit_leftovers", "_plain_static_storage", "sign_in"]
