"""Attack: time claims that are not numbers, and tokens that live longer than Cognito allows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from accounts.tokens import MAX_TOKEN_LIFETIME, CognitoTokenValidator, JwksCache, TokenInvalid
from tests.accounts.jwks_server import SigningKey, new_key
from tests.accounts.test_tokens import CLIENT_ID, ISSUER, SUB
from tests.security.jwks import publishing


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_key("id-key-1=")


@pytest.fixture(scope="module")
def validator(key: SigningKey) -> Iterator[CognitoTokenValidator]:
    with publishing(key) as state:
        yield CognitoTokenValidator(issuer=ISSUER, client_id=CLIENT_ID, jwks=JwksCache(state.url))


def id_claims(now: int, **overrides: Any) -> dict[str, Any]:
    claims = {
        "sub": SUB,
        "aud": CLIENT_ID,
        "iss": ISSUER,
        "token_use": "id",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    }
    return {**claims, **overrides}


def access_claims(now: int, **overrides: Any) -> dict[str, Any]:
    claims = {
        "sub": SUB,
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    }
    return {**claims, **overrides}


def validate(validator: CognitoTokenValidator, token_use: str, token: str) -> dict[str, Any]:
    if token_use == "id":
        return validator.validate_id_token(token)
    return validator.validate_access_token(token)


def claims_for(token_use: str, now: int, **overrides: Any) -> dict[str, Any]:
    return (id_claims if token_use == "id" else access_claims)(now, **overrides)


# Each value as it would be computed from "now" at signing time; None means "a valid time".
NOT_NUMBERS = [
    pytest.param(lambda t: t, None, id="integer"),
    pytest.param(lambda t: t + 0.5, None, id="float"),
    pytest.param(lambda t: str(t), "malformed", id="numeric-string"),
    pytest.param(lambda t: f"{t}.0", "malformed", id="decimal-string"),
    pytest.param(lambda t: True, "malformed", id="true"),
    pytest.param(lambda t: False, "malformed", id="false"),
    pytest.param(lambda t: None, "malformed", id="null"),
    pytest.param(lambda t: [t], "malformed", id="list"),
    pytest.param(lambda t: float("nan"), "malformed", id="NaN"),
    pytest.param(lambda t: float("inf"), "malformed", id="Infinity"),
]
# Where each claim sits relative to now when it is valid.
OFFSETS = {"exp": 3600, "iat": 0, "nbf": 0, "auth_time": 0}


@pytest.mark.parametrize("token_use", ["id", "access"])
@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "auth_time"])
@pytest.mark.parametrize(("make", "code"), NOT_NUMBERS)
def test_time_claims_must_be_json_numbers(
    validator: CognitoTokenValidator,
    key: SigningKey,
    token_use: str,
    claim: str,
    make: Any,
    code: str | None,
) -> None:
    now = int(time.time())
    token = key.sign(claims_for(token_use, now, **{claim: make(now + OFFSETS[claim])}))
    if code is None:
        assert validate(validator, token_use, token)[claim] == make(now + OFFSETS[claim])
    else:
        with pytest.raises(TokenInvalid) as caught:
            validate(validator, token_use, token)
        assert caught.value.code == code


@pytest.mark.parametrize("token_use", ["id", "access"])
@pytest.mark.parametrize(
    ("iat_ago", "lives", "code"),
    [
        pytest.param(0, 3600, None, id="cognito-default-hour"),
        pytest.param(0, MAX_TOKEN_LIFETIME, None, id="cognito-maximum-day"),
        pytest.param(MAX_TOKEN_LIFETIME - 60, MAX_TOKEN_LIFETIME, None, id="day-old-still-valid"),
        pytest.param(0, MAX_TOKEN_LIFETIME + 1, "lifetime_too_long", id="longer-than-a-day"),
        pytest.param(0, 10 * 365 * 86400, "lifetime_too_long", id="ten-years"),
        pytest.param(2 * 86400, 2 * 86400 + 3600, "lifetime_too_long", id="issued-two-days-ago"),
        pytest.param(365 * 86400, 365 * 86400 + 60, "lifetime_too_long", id="issued-a-year-ago"),
    ],
)
def test_a_token_cannot_outlive_cognitos_longest_validity(
    validator: CognitoTokenValidator,
    key: SigningKey,
    token_use: str,
    iat_ago: int,
    lives: int,
    code: str | None,
) -> None:
    now = int(time.time())
    iat = now - iat_ago
    token = key.sign(claims_for(token_use, now, iat=iat, auth_time=iat, exp=iat + lives))
    if code is None:
        assert validate(validator, token_use, token)["iat"] == iat
    else:
        with pytest.raises(TokenInvalid) as caught:
            validate(validator, token_use, token)
        assert caught.value.code == code


def test_an_old_sign_in_time_is_fine_after_refreshes(
    validator: CognitoTokenValidator, key: SigningKey
) -> None:
    # auth_time is the original sign-in, unchanged by refreshes: it may be months old.
    now = int(time.time())
    token = key.sign(id_claims(now, auth_time=now - 90 * 86400))
    assert validator.validate_id_token(token)["auth_time"] == now - 90 * 86400
