"""The token parser and validator, fuzzed: any string, any JWT-shaped JSON, any claim types signed
with the issuer's own key. Every input is either accepted with well-typed claims or refused with
TokenInvalid; nothing else escapes (which would be a 500 wherever a token is checked)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.tokens import CognitoTokenValidator, JwksCache, TokenInvalid
from tests.accounts.jwks_server import SigningKey, new_key
from tests.security.fuzz import JSON, TEXT, fuzz
from tests.security.jwks import publishing

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_FUZZpool"
CLIENT_ID = "fuzz0client0id0000000001"


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_key("fuzz-key-1=")


@pytest.fixture(scope="module")
def validator(key: SigningKey) -> Iterator[CognitoTokenValidator]:
    with publishing(key) as state:
        yield CognitoTokenValidator(
            issuer=ISSUER, client_id=CLIENT_ID, jwks=JwksCache(state.url, timeout=(1.0, 1.0))
        )


def good_claims(token_use: str) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "8f1c2a6e-0000-4000-8000-00000000f022",
        "iss": ISSUER,
        "token_use": token_use,
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    }
    if token_use == "id":
        return {**claims, "aud": CLIENT_ID, "cognito:username": "fuzz"}
    return {**claims, "client_id": CLIENT_ID, "username": "fuzz", "scope": "openid"}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def outcome(validator: CognitoTokenValidator, token: Any) -> list[dict[str, Any] | str]:
    """What each validation made of `token`: its claims, or the TokenInvalid code."""
    results: list[dict[str, Any] | str] = []
    checks = (
        lambda: validator.validate_id_token(token),
        # With this login's nonce and access token, as the callback checks them.
        lambda: validator.validate_id_token(token, nonce="a-nonce", access_token="an.access.token"),
        lambda: validator.validate_access_token(token),
    )
    for check in checks:
        try:
            results.append(check())
        except TokenInvalid as refused:
            results.append(refused.code)
    return results


def test_the_well_formed_twin_is_accepted(
    validator: CognitoTokenValidator, key: SigningKey
) -> None:
    assert validator.validate_id_token(key.sign(good_claims("id")))["sub"].endswith("f022")
    assert validator.validate_access_token(key.sign(good_claims("access")))["username"] == "fuzz"


@fuzz
@given(token=st.one_of(TEXT, st.binary().map(lambda b: b.decode("latin-1")), JSON))
def test_any_value_is_refused_as_token_invalid(
    validator: CognitoTokenValidator, token: Any
) -> None:
    assert all(isinstance(result, str) for result in outcome(validator, token))


@fuzz
@given(header=JSON, payload=JSON, signature=st.binary(max_size=300))
def test_any_jwt_shaped_json_is_refused_as_token_invalid(
    validator: CognitoTokenValidator, header: Any, payload: Any, signature: bytes
) -> None:
    token = ".".join(b64(json.dumps(part).encode()) for part in (header, payload)) + "."
    token += b64(signature)

    assert all(isinstance(result, str) for result in outcome(validator, token))


@fuzz
@given(
    header=st.dictionaries(st.text(max_size=8), JSON, max_size=4),
    alg=st.sampled_from(["RS256", "none", "HS256", "rs256", None]),
)
def test_any_header_is_judged_without_crashing(
    validator: CognitoTokenValidator, key: SigningKey, header: dict[str, Any], alg: str | None
) -> None:
    # PyJWT signs by the header's alg: sign RS256, then put the chosen alg in the header.
    signed = {name: value for name, value in header.items() if name != "alg"}
    token = key.sign(good_claims("id"), headers=signed)
    parts = token.split(".")
    # The drawn header as sent, with the algorithm the test chose (the signature may not match).
    forged = {**json.loads(base64.urlsafe_b64decode(parts[0] + "==")), **header, "alg": alg}
    token = ".".join([b64(json.dumps(forged).encode()), *parts[1:]])

    results = outcome(validator, token)

    if alg != "RS256":
        assert results == ["bad_alg"] * 3


@fuzz
@given(
    token_use=st.sampled_from(["id", "access"]),
    changes=st.dictionaries(
        st.sampled_from(
            [
                "sub",
                "iss",
                "aud",
                "client_id",
                "token_use",
                "exp",
                "iat",
                "nbf",
                "auth_time",
                "nonce",
                "at_hash",
                "azp",
                "scope",
                "username",
                "cognito:username",
                "cognito:groups",
            ]
        ),
        JSON,
        min_size=1,
        max_size=4,
    ),
)
def test_claims_of_any_type_signed_with_the_right_key_never_crash(
    validator: CognitoTokenValidator, key: SigningKey, token_use: str, changes: dict[str, Any]
) -> None:
    token = key.sign({**good_claims(token_use), **changes})

    for result in outcome(validator, token):
        if isinstance(result, dict):
            # Accepted: the claims the app relies on kept their meaning.
            assert result["iss"] == ISSUER and result["token_use"] in ("id", "access")
            assert isinstance(result["sub"], str)


@pytest.mark.parametrize("claim", ["nonce", "at_hash"])
def test_a_non_ascii_nonce_or_at_hash_is_a_mismatch_not_a_crash(
    validator: CognitoTokenValidator, key: SigningKey, claim: str
) -> None:
    # Found by the fuzzer: hmac.compare_digest raised TypeError on non-ASCII str.
    token = key.sign({**good_claims("id"), "nonce": "a-nonce", claim: "é"})

    with pytest.raises(TokenInvalid) as refused:
        validator.validate_id_token(token, nonce="a-nonce", access_token="an.access.token")

    assert refused.value.code == f"{claim}_mismatch"
