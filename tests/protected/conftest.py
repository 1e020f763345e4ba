"""Signing in through managed login, as tests/accounts does it."""

from __future__ import annotations

from tests.accounts.conftest import _plain_static_storage, bob, sign_in

__all__ = ["_plain_static_storage", "bob", "sign_in"]
