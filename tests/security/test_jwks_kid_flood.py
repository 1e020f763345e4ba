"""Attack: made-up kids flood the issuer's JWKS; twin: a key just published is found at once."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from accounts.tokens import CognitoTokenValidator, JwksCache, TokenInvalid
from tests.accounts.jwks_server import JwksServer, SigningKey, new_key
from tests.accounts.test_tokens import CLIENT_ID, ISSUER, SUB, id_claims
from tests.security.jwks import publishing


@pytest.fixture(scope="module")
def current_key() -> SigningKey:
    return new_key("current-key=")


@pytest.fixture(scope="module")
def next_key() -> SigningKey:
    """The key the pool rotates in: not published when the test starts."""
    return new_key("next-key=")


@pytest.fixture
def issuer(current_key: SigningKey) -> Iterator[JwksServer]:
    with publishing(current_key) as state:
        yield state


def validator_for(issuer: JwksServer, **jwks_options: Any) -> CognitoTokenValidator:
    jwks = JwksCache(issuer.url, timeout=(1.0, 1.0), **jwks_options)
    return CognitoTokenValidator(issuer=ISSUER, client_id=CLIENT_ID, jwks=jwks)


def id_token(key: SigningKey, *, kid: str | None = None) -> str:
    return key.sign(id_claims(), headers={"kid": kid} if kid else None)


def unknown_kid(validator: CognitoTokenValidator, token: str) -> bool:
    try:
        validator.validate_id_token(token)
    except TokenInvalid as error:
        assert error.code == "unknown_kid"
        return True
    return False


def test_a_newly_published_key_is_accepted_right_after_a_fetch(
    issuer: JwksServer, current_key: SigningKey, next_key: SigningKey
) -> None:
    # The default penalty (10 s) must not delay a key the pool has just published.
    validator = validator_for(issuer)
    assert validator.validate_id_token(id_token(current_key))["sub"] == SUB
    issuer.keys.append(next_key.jwk())
    assert validator.validate_id_token(id_token(next_key))["sub"] == SUB
    assert issuer.hits == 2


def test_made_up_kids_cause_one_fetch_per_penalty(
    issuer: JwksServer, current_key: SigningKey
) -> None:
    validator = validator_for(issuer)
    validator.validate_id_token(id_token(current_key))
    forged = [id_token(current_key, kid=secrets.token_urlsafe(8)) for _ in range(64)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        refused = list(pool.map(lambda token: unknown_kid(validator, token), forged))
    assert all(refused)
    assert issuer.hits == 2  # the first fetch, and one for the whole flood
    # The twin: during the flood the published key still validates, with no fetch.
    assert validator.validate_id_token(id_token(current_key))["sub"] == SUB
    assert issuer.hits == 2


def test_after_the_penalty_a_rotated_in_key_is_found(
    issuer: JwksServer, current_key: SigningKey, next_key: SigningKey
) -> None:
    validator = validator_for(issuer, penalty_seconds=0.3)
    validator.validate_id_token(id_token(current_key))
    assert unknown_kid(validator, id_token(current_key, kid="made-up"))
    issuer.keys.append(next_key.jwk())
    # Held back while the penalty lasts (the price aws-jwt-verify pays too) ...
    assert unknown_kid(validator, id_token(next_key))
    assert issuer.hits == 2
    time.sleep(0.35)
    # ... and found by the first request after it.
    assert validator.validate_id_token(id_token(next_key))["sub"] == SUB
    assert issuer.hits == 3


def test_a_failing_issuer_is_not_hammered_either(
    issuer: JwksServer, current_key: SigningKey
) -> None:
    validator = validator_for(issuer)
    validator.validate_id_token(id_token(current_key))
    issuer.status = 500
    for _ in range(20):
        assert unknown_kid(validator, id_token(current_key, kid=secrets.token_urlsafe(8)))
    assert issuer.hits == 2
    # The last good keys still work.
    assert validator.validate_id_token(id_token(current_key))["sub"] == SUB
