"""An issuer's JWKS endpoint on loopback for the token attacks (tests/accounts/jwks_server.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.accounts.jwks_server import JwksServer, SigningKey, serve_jwks


@contextmanager
def publishing(*keys: SigningKey) -> Iterator[JwksServer]:
    """Serve `keys` as the issuer's JWKS while the block runs."""
    state = JwksServer(keys=[key.jwk() for key in keys])
    server, thread = serve_jwks(state)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)
