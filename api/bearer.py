"""Bearer access tokens for the API: read the header, verify the token once, cache the result.

Only `Authorization: Bearer <access token>` is read (RFC 6750 section 2.1): never a cookie, a
query parameter or a form field, so a browser never sends credentials by itself and the API
has no CSRF surface. The token is checked by the project's validator (accounts/tokens.py):
RS256 with a key from the issuer's JWKS, the issuer, `token_use: access`, times, and a
`client_id` on the allow-list (`API_ALLOWED_CLIENT_IDS`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from accounts.tokens import JwksUnavailable, TokenInvalid, token_validator

logger = logging.getLogger("api")

# One description for every refused token: which check failed is for the log, not the caller.
INVALID_TOKEN = "The access token is missing, malformed, expired or not accepted by this API."


class BearerRefused(Exception):
    """No usable bearer token: 401 (`error` None when the request carried no token at all)."""

    def __init__(self, *, error: str | None, reason: str) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason


class BearerUnavailable(Exception):
    """The issuer's keys could not be fetched: the token cannot be checked right now (503)."""


@dataclass(frozen=True)
class BearerToken:
    """Who a verified access token stands for, and what it may do."""

    claims: dict[str, Any]

    @property
    def client_id(self) -> str:
        return str(self.claims["client_id"])

    @property
    def is_machine(self) -> bool:
        # client_credentials tokens name no user: no `username`, and `sub` is the client.
        return "username" not in self.claims

    @property
    def owner(self) -> str:
        """The key of the caller's data: the user's `sub`, or a machine's `client_id`."""
        return f"client:{self.client_id}" if self.is_machine else f"user:{self.claims['sub']}"

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(str(self.claims.get("scope", "")).split())

    @property
    def groups(self) -> list[str]:
        groups = self.claims.get("cognito:groups")
        return [str(group) for group in groups] if isinstance(groups, list) else []


class VerifiedTokenCache:
    """Claims of tokens that passed verification, so a repeated token costs a hash and a lookup.

    Keyed by the SHA-256 of the whole token, so two tokens never share an entry (a prefix or the
    `jti` alone could be forged onto another signature); bounded (least recently used out
    first); an entry is never served at or after its token's `exp`.
    """

    def __init__(self, *, max_size: int = 4096) -> None:
        self.max_size = max_size
        self._entries: OrderedDict[bytes, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> dict[str, Any] | None:
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            claims = self._entries.get(key)
            if claims is None:
                return None
            if time.time() >= claims["exp"]:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return claims

    def put(self, token: str, claims: dict[str, Any]) -> None:
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        with self._lock:
            self._entries[key] = claims
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


verified_tokens = VerifiedTokenCache()


def bearer_authenticate(*, authorization: str) -> BearerToken:
    """The caller of an `Authorization` header value; raises BearerRefused or BearerUnavailable."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise BearerRefused(error=None, reason="no_bearer_token")
    allowed = settings.API_ALLOWED_CLIENT_IDS
    claims = verified_tokens.get(token)
    if claims is None:
        try:
            claims = token_validator().validate_access_token(token, client_ids=allowed)
        except JwksUnavailable:
            raise BearerUnavailable() from None
        except TokenInvalid as error:
            raise BearerRefused(error="invalid_token", reason=error.code) from None
        verified_tokens.put(token, claims)
    elif claims["client_id"] not in allowed:  # the allow-list may differ from the cached check's
        raise BearerRefused(error="invalid_token", reason="wrong_audience")
    return BearerToken(claims=claims)
