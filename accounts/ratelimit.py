"""App-side limits on failed attempts, per account and per client address (Django's cache).

Cognito has limits of its own (lockout after failed passwords, throttling), but they are per pool
and per user; these stop one client address from trying many accounts, and one account from
being tried from many places, before a request reaches Cognito.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

# What is limited: failed passwords, failed MFA codes, failed confirmation and reset codes.
SIGNIN = "signin"
MFA = "mfa"
CODE = "code"


def attempt_allowed(*, scope: str, account: str, address: str) -> bool:
    """False when this account or this address has failed too often in the current window."""
    account_failures = cache.get(_key(scope, "account", account), 0)
    address_failures = cache.get(_key(scope, "address", address), 0)
    return (
        account_failures < settings.AUTH_RATE_LIMIT_PER_ACCOUNT
        and address_failures < settings.AUTH_RATE_LIMIT_PER_ADDRESS
    )


def failure_record(*, scope: str, account: str, address: str) -> None:
    """Count one failure against the account and the address, for the rest of the window."""
    for key in (_key(scope, "account", account), _key(scope, "address", address)):
        # add() starts the window only once; incr() then counts within it.
        cache.add(key, 0, timeout=settings.AUTH_RATE_LIMIT_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=settings.AUTH_RATE_LIMIT_WINDOW)


def _key(scope: str, kind: str, value: str) -> str:
    # Hashed: usernames and addresses are personal data and cache keys can end up in logs.
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"accounts.ratelimit.{scope}.{kind}.{digest}"
