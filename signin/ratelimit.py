"""App-side limits on attempts, per account and per client address (Django's cache).

Cognito has limits of its own (lockout after failed passwords, throttling), but they are per pool
and per user; these stop one client address from trying many accounts, and one account from
being tried from many places, before a request reaches Cognito.

Each attempt takes a slot before the pool is asked, with the cache's atomic `incr`, so parallel
requests cannot all slip in under the limit; an attempt that did not fail in a counted way gives
its slot back. `incr` is atomic in the in-memory cache (one process) and in Redis or Memcached
(shared); Django's file and database caches only emulate it.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from accounts.models import User

# What is limited: failed passwords, failed MFA codes, failed confirmation and reset codes, and
# codes sent (sign-up, resend, forgot password, a code to sign in, an email change).
SIGNIN = "signin"
MFA = "mfa"
CODE = "code"
SEND = "send"

# Scopes where every attempt counts, whatever its outcome: each one sends a message.
_EVERY_ATTEMPT_COUNTS = {SEND}


class Slot:
    """One attempt counted against its account and address; `release()` gives it back."""

    def __init__(self, keys: tuple[str, ...] = (), *, kept: bool = False) -> None:
        self._keys = keys
        self._kept = kept

    def keep(self) -> None:
        """The attempt failed in a counted way: it stays counted for the rest of the window."""
        self._kept = True

    def release(self) -> None:
        """Uncount the attempt unless it was kept; a second call does nothing."""
        if not self._kept:
            for key in self._keys:
                _decrement(key)
        self._kept = True


def slot_take(*, scope: str, account: str, address: str) -> Slot | None:
    """Count one attempt now; None (and nothing counted) when the account or address is spent."""
    limits = (
        (_key(scope, "account", account_key(account)), settings.AUTH_RATE_LIMIT_PER_ACCOUNT),
        (_key(scope, "address", address), settings.AUTH_RATE_LIMIT_PER_ADDRESS),
    )
    taken: list[str] = []
    for key, limit in limits:
        taken.append(key)
        # The count after our own increment: the first `limit` callers get a slot, in parallel too.
        if _increment(key) > limit:
            Slot(tuple(taken)).release()
            return None
    return Slot(tuple(taken), kept=scope in _EVERY_ATTEMPT_COUNTS)


def account_key(typed: str) -> str:
    """The account a typed username or email stands for, so both share one counter.

    An email resolves through the site's own users, whose email is stored only once the pool
    verified it, and only when exactly one user has it: no pool call (it would need admin
    credentials and cost a request per attempt), and an address nobody here owns stays its own
    key. Lower case, as the deployed pool matches names (UsernameConfiguration CaseSensitive
    false, deploy/cognito-app.yaml): "Bob" and "bob" must share one counter, never two.
    """
    typed = typed.strip().lower()
    if "@" in typed:
        owners = list(User.objects.filter(email__iexact=typed).values_list("username")[:2])
        if len(owners) == 1:
            return owners[0][0].lower()
    return typed


def _increment(key: str) -> int:
    # add() starts the window once (a no-op when it runs); incr() then counts within it.
    cache.add(key, 0, timeout=settings.AUTH_RATE_LIMIT_WINDOW)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add() and incr(): this is a new one
        cache.add(key, 0, timeout=settings.AUTH_RATE_LIMIT_WINDOW)
        return cache.incr(key)


def _decrement(key: str) -> None:
    with contextlib.suppress(ValueError):  # the window ended meanwhile: nothing to give back
        cache.decr(key)


def _key(scope: str, kind: str, value: str) -> str:
    # Hashed: usernames and addresses are personal data and cache keys can end up in logs.
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"accounts.ratelimit.{scope}.{kind}.{digest}"


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or as far up X-Forwarded-For as trusted proxies vouch."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    # Each proxy appends the address it got the request from, after whatever the client wrote
    # itself. Read from the right while the address in hand is a trusted proxy: the hop it
    # appended is true; anything further left was written by someone it does not vouch for.
    while hops and _trusted_proxy(address):
        hop = hops.pop().strip()
        if not _ip_or_none(hop):
            break
        address = hop
    return address


def _trusted_proxy(address: str) -> bool:
    ip = _ip_or_none(address)
    return ip is not None and any(ip in network for network in settings.TRUSTED_PROXIES)


def _ip_or_none(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
