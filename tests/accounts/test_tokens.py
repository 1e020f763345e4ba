"""The token validator: every rejection beside the token it would accept."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from accounts.tokens import (
    CognitoTokenValidator,
    JwksCache,
    JwksUnavailable,
    TokenInvalid,
    at_hash,
    token_validator,
)
from tests.accounts.jwks_server import MOVED_PATH, JwksServer, SigningKey, new_key, serve_jwks

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TESTpool"
CLIENT_ID = "test0client0id0000000001"
OTHER_CLIENT_ID = "other0client0id000000002"
SUB = "8f1c2a6e-0000-4000-8000-000000000001"
NONCE = "nonce-of-this-login"
ACCESS_TOKEN = "an.access.token"


@pytest.fixture(scope="module")
def id_key() -> SigningKey:
    return new_key("id-key-1=")


@pytest.fixture(scope="module")
def access_key() -> SigningKey:
    return new_key("access-key-1=")


@pytest.fixture(scope="module")
def rogue_key() -> SigningKey:
    """A key the issuer never published."""
    return new_key("rogue-key=")


@pytest.fixture
def jwks_server(id_key: SigningKey, access_key: SigningKey) -> Iterator[JwksServer]:
    state = JwksServer(keys=[id_key.jwk(), access_key.jwk()])
    server, thread = serve_jwks(state)
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=2)


@pytest.fixture
def validator(jwks_server: JwksServer) -> CognitoTokenValidator:
    return CognitoTokenValidator(
        issuer=ISSUER, client_id=CLIENT_ID, jwks=JwksCache(jwks_server.url, timeout=(1.0, 1.0))
    )


def id_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": SUB,
        "aud": CLIENT_ID,
        "iss": ISSUER,
        "token_use": "id",
        "cognito:username": "alice",
        "email": "alice@example.com",
        "email_verified": True,
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "nonce": NONCE,
        "at_hash": at_hash(ACCESS_TOKEN),
    }
    return without_missing({**claims, **overrides})


def access_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": SUB,
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": "openid email profile",
        "username": "alice",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    }
    return without_missing({**claims, **overrides})


MISSING = object()


def without_missing(claims: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in claims.items() if value is not MISSING}


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def assert_rejected(code: str | None, call: Any) -> None:
    """`code` None: the call must succeed; otherwise it must fail with exactly that code."""
    if code is None:
        assert call()["sub"] == SUB
    else:
        with pytest.raises(TokenInvalid) as caught:
            call()
        assert caught.value.code == code


# --- claims --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FromNow:
    """A time claim relative to signing: parameters are built at import, tests run much later."""

    seconds: int


def at_signing(overrides: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return {k: now + v.seconds if isinstance(v, FromNow) else v for k, v in overrides.items()}


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({}, None, id="all-claims-right"),
        pytest.param({"iss": ISSUER + "/"}, "wrong_issuer", id="iss-trailing-slash"),
        pytest.param(
            {"iss": ISSUER.replace("TESTpool", "OTHERpool")}, "wrong_issuer", id="iss-other-pool"
        ),
        pytest.param({"iss": [ISSUER]}, "wrong_issuer", id="iss-as-list"),
        pytest.param({"iss": MISSING}, "missing_claim", id="iss-missing"),
        pytest.param({"aud": OTHER_CLIENT_ID}, "wrong_audience", id="aud-other-client-same-pool"),
        pytest.param({"aud": [CLIENT_ID, OTHER_CLIENT_ID]}, "wrong_audience", id="aud-list"),
        pytest.param({"aud": MISSING}, "missing_claim", id="aud-missing"),
        pytest.param({"azp": CLIENT_ID}, None, id="azp-this-client"),
        pytest.param({"azp": OTHER_CLIENT_ID}, "wrong_audience", id="azp-other-client"),
        pytest.param({"token_use": "access"}, "wrong_token_use", id="token-use-access"),
        pytest.param({"token_use": MISSING}, "missing_claim", id="token-use-missing"),
        pytest.param({"exp": FromNow(-10)}, None, id="exp-just-past-within-leeway"),
        pytest.param({"exp": FromNow(-120)}, "expired", id="exp-past-beyond-leeway"),
        pytest.param({"exp": MISSING}, "missing_claim", id="exp-missing"),
        pytest.param({"exp": "tomorrow"}, "malformed", id="exp-not-a-number"),
        pytest.param({"iat": FromNow(10)}, None, id="iat-slightly-ahead-within-leeway"),
        pytest.param({"iat": FromNow(3600)}, "not_yet_valid", id="iat-in-the-future"),
        pytest.param({"iat": MISSING}, "missing_claim", id="iat-missing"),
        pytest.param({"iat": "now"}, "malformed", id="iat-not-a-number"),
        pytest.param({"nbf": FromNow(3600)}, "not_yet_valid", id="nbf-in-the-future"),
        pytest.param({"sub": MISSING}, "missing_claim", id="sub-missing"),
        pytest.param({"sub": 42}, "malformed", id="sub-not-a-string"),
    ],
)
def test_id_token_claims_are_checked(
    validator: CognitoTokenValidator,
    id_key: SigningKey,
    overrides: dict[str, Any],
    code: str | None,
) -> None:
    token = id_key.sign(id_claims(**at_signing(overrides)))
    assert_rejected(code, lambda: validator.validate_id_token(token))


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        pytest.param({}, None, id="all-claims-right"),
        pytest.param({"client_id": OTHER_CLIENT_ID}, "wrong_audience", id="client-id-other-client"),
        pytest.param({"client_id": MISSING}, "wrong_audience", id="client-id-missing"),
        pytest.param({"aud": CLIENT_ID}, "wrong_audience", id="aud-present"),
        pytest.param({"token_use": "id"}, "wrong_token_use", id="token-use-id"),
        pytest.param({"iss": "https://evil.example.com"}, "wrong_issuer", id="iss-foreign"),
        pytest.param({"exp": FromNow(-120)}, "expired", id="expired"),
        pytest.param({"sub": MISSING}, "missing_claim", id="sub-missing"),
    ],
)
def test_access_token_claims_are_checked(
    validator: CognitoTokenValidator,
    access_key: SigningKey,
    overrides: dict[str, Any],
    code: str | None,
) -> None:
    token = access_key.sign(access_claims(**at_signing(overrides)))
    assert_rejected(code, lambda: validator.validate_access_token(token))


@pytest.mark.parametrize(
    ("in_token", "expected", "code"),
    [
        pytest.param(NONCE, NONCE, None, id="nonce-matches"),
        pytest.param("another-login", NONCE, "nonce_mismatch", id="nonce-wrong"),
        pytest.param(MISSING, NONCE, "nonce_mismatch", id="nonce-missing"),
        pytest.param(["x"], NONCE, "nonce_mismatch", id="nonce-not-a-string"),
        pytest.param(MISSING, None, None, id="nonce-not-expected-refresh"),
    ],
)
def test_nonce_must_match_when_expected(
    validator: CognitoTokenValidator,
    id_key: SigningKey,
    in_token: object,
    expected: str | None,
    code: str | None,
) -> None:
    token = id_key.sign(id_claims(nonce=in_token))
    assert_rejected(code, lambda: validator.validate_id_token(token, nonce=expected))


@pytest.mark.parametrize(
    ("claim", "code"),
    [
        pytest.param(at_hash(ACCESS_TOKEN), None, id="at-hash-matches"),
        pytest.param(at_hash("another.access.token"), "at_hash_mismatch", id="at-hash-other-token"),
        pytest.param(MISSING, None, id="at-hash-absent"),
    ],
)
def test_at_hash_binds_the_access_token(
    validator: CognitoTokenValidator, id_key: SigningKey, claim: object, code: str | None
) -> None:
    token = id_key.sign(id_claims(at_hash=claim))
    assert_rejected(
        code, lambda: validator.validate_id_token(token, nonce=NONCE, access_token=ACCESS_TOKEN)
    )


def test_at_hash_is_the_left_half_of_sha256() -> None:
    digest = hashlib.sha256(b"an.access.token").digest()[:16]
    assert at_hash("an.access.token") == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# --- header, algorithm and key --------------------------------------------------------------------


def forged_header_token(
    key: SigningKey,
    header: dict[str, Any],
    claims: dict[str, Any],
    *,
    hmac_secret: bytes | None = None,
) -> str:
    """A token with exactly this header, signed by `key` (RS256) or `hmac_secret` (HS256)."""
    signing_input = f"{b64(header)}.{b64(claims)}".encode()
    if hmac_secret is not None:
        signature = hmac.new(hmac_secret, signing_input, hashlib.sha256).digest()
    else:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = key.private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input.decode()}.{b64(signature)}"


def test_rs256_token_with_a_published_kid_is_accepted(
    validator: CognitoTokenValidator, id_key: SigningKey
) -> None:
    token = forged_header_token(id_key, {"alg": "RS256", "kid": id_key.kid}, id_claims())
    assert validator.validate_id_token(token, nonce=NONCE)["sub"] == SUB


def test_alg_none_is_rejected(validator: CognitoTokenValidator, id_key: SigningKey) -> None:
    token = f"{b64({'alg': 'none', 'kid': id_key.kid})}.{b64(id_claims())}."
    assert_rejected("bad_alg", lambda: validator.validate_id_token(token))


def test_hs256_signed_with_the_public_key_is_rejected(
    validator: CognitoTokenValidator, id_key: SigningKey
) -> None:
    public_pem = id_key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = forged_header_token(
        id_key, {"alg": "HS256", "kid": id_key.kid}, id_claims(), hmac_secret=public_pem
    )
    assert_rejected("bad_alg", lambda: validator.validate_id_token(token))


@pytest.mark.parametrize(
    ("header", "code"),
    [
        pytest.param({"alg": "RS256"}, None, id="rs256"),
        pytest.param({"alg": "RS384"}, "bad_alg", id="rs384"),
        pytest.param({"alg": "PS256"}, "bad_alg", id="ps256"),
        pytest.param({"alg": "ES256"}, "bad_alg", id="es256"),
        pytest.param({"alg": MISSING}, "bad_alg", id="alg-missing"),
        pytest.param({"kid": MISSING}, "missing_kid", id="kid-missing"),
        pytest.param({"kid": ""}, "missing_kid", id="kid-empty"),
        pytest.param({"kid": 1}, "missing_kid", id="kid-not-a-string"),
        pytest.param({"kid": "never-published="}, "unknown_kid", id="kid-unknown"),
    ],
)
def test_header_must_name_rs256_and_a_published_kid(
    validator: CognitoTokenValidator, id_key: SigningKey, header: dict[str, Any], code: str | None
) -> None:
    full_header = without_missing({"alg": "RS256", "kid": id_key.kid, **header})
    token = forged_header_token(id_key, full_header, id_claims())
    assert_rejected(code, lambda: validator.validate_id_token(token))


@pytest.mark.parametrize("header_field", ["jwk", "jku", "x5u"])
def test_keys_offered_in_the_header_are_ignored(
    validator: CognitoTokenValidator,
    id_key: SigningKey,
    rogue_key: SigningKey,
    header_field: str,
) -> None:
    offered: object = rogue_key.jwk() if header_field == "jwk" else "https://evil.example.com/keys"
    # The twin: the same header field on a token signed by the real key changes nothing.
    genuine = id_key.sign(id_claims(), headers={header_field: offered})
    assert validator.validate_id_token(genuine)["sub"] == SUB
    forged = rogue_key.sign(id_claims(), headers={"kid": id_key.kid, header_field: offered})
    assert_rejected("bad_signature", lambda: validator.validate_id_token(forged))


@pytest.mark.parametrize(
    ("signer", "code"),
    [
        pytest.param("id_key", None, id="signed-by-the-kids-key"),
        pytest.param("access_key", "bad_signature", id="signed-by-another-published-key"),
        pytest.param("rogue_key", "bad_signature", id="signed-by-an-unpublished-key"),
    ],
)
def test_signature_must_come_from_the_kids_key(
    validator: CognitoTokenValidator,
    id_key: SigningKey,
    request: pytest.FixtureRequest,
    signer: str,
    code: str | None,
) -> None:
    key: SigningKey = request.getfixturevalue(signer)
    token = forged_header_token(key, {"alg": "RS256", "kid": id_key.kid}, id_claims())
    assert_rejected(code, lambda: validator.validate_id_token(token))


def test_a_tampered_payload_breaks_the_signature(
    validator: CognitoTokenValidator, id_key: SigningKey
) -> None:
    header, _, signature = id_key.sign(id_claims()).split(".")
    tampered = f"{header}.{b64(id_claims(sub='someone-else'))}.{signature}"
    assert_rejected("bad_signature", lambda: validator.validate_id_token(tampered))


# --- malformed tokens -----------------------------------------------------------------------------

KID_HEADER = b64({"alg": "RS256", "kid": "id-key-1="})


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param(b"a.b.c", id="bytes"),
        pytest.param(12345, id="int"),
        pytest.param("not-a-jwt", id="one-segment"),
        pytest.param("a.b", id="two-segments"),
        pytest.param("a.b.c.d", id="four-segments"),
        pytest.param("..", id="empty-segments"),
        pytest.param("!!!.e30.sig", id="header-not-base64"),
        pytest.param(f"{b64(b'not json')}.e30.sig", id="header-not-json"),
        pytest.param(f"{b64(b'[1, 2]')}.e30.sig", id="header-json-array"),
        pytest.param(b64(bytes([0xFF, 0xFE])) + ".e30.sig", id="header-not-utf8"),
        pytest.param(f"{KID_HEADER}.!!!.sig", id="payload-not-base64"),
        pytest.param(f"{KID_HEADER}.e30.!!!", id="signature-not-base64"),
        pytest.param(f"{KID_HEADER}.{'A' * 20000}.sig", id="oversized"),
        pytest.param("é.é.é", id="non-ascii"),
    ],
)
def test_malformed_tokens_are_rejected_as_token_invalid(
    validator: CognitoTokenValidator, token: object
) -> None:
    with pytest.raises(TokenInvalid) as caught:
        validator.validate_id_token(token)  # type: ignore[arg-type]
    assert caught.value.code in {"malformed", "bad_signature"}
    with pytest.raises(TokenInvalid):
        validator.validate_access_token(token)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        pytest.param(json.dumps(id_claims()).encode(), None, id="json-object"),
        pytest.param(b"not json", "malformed", id="not-json"),
        pytest.param(b"[1, 2, 3]", "malformed", id="json-array"),
        pytest.param(b'"a string"', "malformed", id="json-string"),
    ],
)
def test_signed_payload_must_be_a_json_object(
    validator: CognitoTokenValidator, id_key: SigningKey, payload: bytes, code: str | None
) -> None:
    import jwt

    token = jwt.api_jws.encode(
        payload, id_key.private, algorithm="RS256", headers={"kid": id_key.kid}
    )
    assert_rejected(code, lambda: validator.validate_id_token(token))


# --- JWKS cache -----------------------------------------------------------------------------------


def test_jwks_is_fetched_lazily_and_once_for_many_validations(
    jwks_server: JwksServer, id_key: SigningKey, access_key: SigningKey
) -> None:
    validator = CognitoTokenValidator(
        issuer=ISSUER, client_id=CLIENT_ID, jwks=JwksCache(jwks_server.url)
    )
    assert jwks_server.hits == 0
    id_token, access_token = id_key.sign(id_claims()), access_key.sign(access_claims())
    for _ in range(50):
        validator.validate_id_token(id_token)
        validator.validate_access_token(access_token)
    assert jwks_server.hits == 1


def test_unknown_kid_refetches_once_then_waits_out_the_penalty(
    jwks_server: JwksServer, id_key: SigningKey, rogue_key: SigningKey
) -> None:
    jwks = JwksCache(jwks_server.url, penalty_seconds=0.3)
    validator = CognitoTokenValidator(issuer=ISSUER, client_id=CLIENT_ID, jwks=jwks)
    validator.validate_id_token(id_key.sign(id_claims()))
    unknown = rogue_key.sign(id_claims())
    for _ in range(20):
        assert_rejected("unknown_kid", lambda: validator.validate_id_token(unknown))
    assert jwks_server.hits == 2
    time.sleep(0.35)
    assert_rejected("unknown_kid", lambda: validator.validate_id_token(unknown))
    assert jwks_server.hits == 3


def test_a_rotated_in_key_is_found_by_refetching(
    jwks_server: JwksServer, id_key: SigningKey, rogue_key: SigningKey
) -> None:
    validator = CognitoTokenValidator(
        issuer=ISSUER, client_id=CLIENT_ID, jwks=JwksCache(jwks_server.url, penalty_seconds=0)
    )
    validator.validate_id_token(id_key.sign(id_claims()))
    jwks_server.keys.append(rogue_key.jwk())
    assert validator.validate_id_token(rogue_key.sign(id_claims()))["sub"] == SUB
    assert jwks_server.hits == 2


def test_a_failed_refetch_keeps_the_last_good_keys(
    jwks_server: JwksServer, id_key: SigningKey, rogue_key: SigningKey
) -> None:
    validator = CognitoTokenValidator(
        issuer=ISSUER, client_id=CLIENT_ID, jwks=JwksCache(jwks_server.url, penalty_seconds=0)
    )
    token = id_key.sign(id_claims())
    validator.validate_id_token(token)
    jwks_server.status = 500
    assert_rejected("unknown_kid", lambda: validator.validate_id_token(rogue_key.sign(id_claims())))
    assert jwks_server.hits == 2
    assert validator.validate_id_token(token)["sub"] == SUB


@pytest.mark.parametrize(("redirect", "code"), [(False, None), (True, "jwks_unavailable")])
def test_jwks_redirects_are_not_followed(
    jwks_server: JwksServer, id_key: SigningKey, redirect: bool, code: str | None
) -> None:
    jwks_server.redirect = redirect
    validator = CognitoTokenValidator(
        issuer=ISSUER, client_id=CLIENT_ID, jwks=JwksCache(jwks_server.url)
    )
    assert_rejected(code, lambda: validator.validate_id_token(id_key.sign(id_claims())))
    assert MOVED_PATH not in jwks_server.requests


def test_unreachable_jwks_is_an_upstream_failure(id_key: SigningKey) -> None:
    validator = CognitoTokenValidator(
        issuer=ISSUER, client_id=CLIENT_ID, jwks=JwksCache("http://127.0.0.1:1/jwks.json")
    )
    with pytest.raises(JwksUnavailable) as caught:
        validator.validate_id_token(id_key.sign(id_claims()))
    assert caught.value.code == "jwks_unavailable"


def test_a_slow_jwks_times_out_quickly(jwks_server: JwksServer, id_key: SigningKey) -> None:
    jwks_server.delay = 2.0
    jwks = JwksCache(jwks_server.url, timeout=(0.5, 0.2))
    validator = CognitoTokenValidator(issuer=ISSUER, client_id=CLIENT_ID, jwks=jwks)
    started = time.monotonic()
    with pytest.raises(JwksUnavailable):
        validator.validate_id_token(id_key.sign(id_claims()))
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    ("jwk_overrides", "code"),
    [
        pytest.param({}, None, id="rsa-rs256-sig"),
        pytest.param({"use": "enc"}, "unknown_kid", id="use-enc"),
        pytest.param({"use": MISSING}, "unknown_kid", id="use-missing"),
        pytest.param({"alg": "RS512"}, "unknown_kid", id="alg-rs512"),
        pytest.param({"alg": "RSA-OAEP"}, "unknown_kid", id="alg-rsa-oaep"),
        pytest.param({"kty": "EC"}, "unknown_kid", id="kty-ec"),
        pytest.param({"n": "not-a-modulus!"}, "unknown_kid", id="n-garbage"),
    ],
)
def test_only_rs256_signing_keys_are_used(
    jwks_server: JwksServer,
    id_key: SigningKey,
    rogue_key: SigningKey,
    jwk_overrides: dict[str, Any],
    code: str | None,
) -> None:
    jwks_server.keys.append(without_missing(rogue_key.jwk(**jwk_overrides)))
    validator = CognitoTokenValidator(
        issuer=ISSUER, client_id=CLIENT_ID, jwks=JwksCache(jwks_server.url)
    )
    assert_rejected(code, lambda: validator.validate_id_token(rogue_key.sign(id_claims())))


def test_token_validator_is_one_per_issuer_and_client(settings: Any) -> None:
    settings.COGNITO_ISSUER = ISSUER
    settings.COGNITO_CLIENT_ID = CLIENT_ID
    first = token_validator()
    assert token_validator() is first
    assert (first.issuer, first.client_id) == (ISSUER, CLIENT_ID)
    assert first.jwks.jwks_url == f"{ISSUER}/.well-known/jwks.json"
    settings.COGNITO_CLIENT_ID = OTHER_CLIENT_ID
    other = token_validator()
    assert other is not first
    assert other.client_id == OTHER_CLIENT_ID
