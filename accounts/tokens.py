"""Verify Cognito JWTs: as strict as aws-jwt-verify, plus the checks an OIDC relying party adds."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import logging
import math
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from django.dispatch import Signal
from jwt.algorithms import RSAAlgorithm

from accounts.errors import BoundaryError

logger = logging.getLogger("accounts")

# Sent with `token` ("id" or "access"), `claims` and any extra check once a token passes every
# check: the demo's flow trace (flows/trace.py) shows them. The foundation imports no flow app.
token_verified = Signal()

ALGORITHM = "RS256"
# A Cognito token is about 1 KB; anything far larger is not one, so it is refused before parsing.
MAX_TOKEN_LENGTH = 16 * 1024
MAX_JWKS_BYTES = 256 * 1024
# Cognito's longest ID or access token validity is one day; a token meant to live longer, or
# issued longer ago, was not issued by the pool as configured today (or is a replay).
MAX_TOKEN_LIFETIME = 24 * 60 * 60
TIME_CLAIMS = ("exp", "iat", "nbf", "auth_time")


class TokenInvalid(BoundaryError):
    """A token failed verification; `code` says which check, for logs and tests."""

    # The message key of every check a form does not name on its own.
    fallback = "token_invalid"

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.args = (f"{code}: {detail}" if detail else code,)


class JwksUnavailable(TokenInvalid):
    """The issuer's keys could not be fetched, and none were known: an upstream failure."""

    fallback = "unexpected"

    def __init__(self, detail: str = "") -> None:
        super().__init__("jwks_unavailable", detail)


# PyJWT's exceptions mapped to the codes callers and logs see (looked up along the class's MRO).
_PYJWT_CODES: dict[type[Exception], str] = {
    jwt.ExpiredSignatureError: "expired",
    jwt.ImmatureSignatureError: "not_yet_valid",
    jwt.InvalidSignatureError: "bad_signature",
    jwt.InvalidAlgorithmError: "bad_alg",
    jwt.InvalidIssuerError: "wrong_issuer",
    jwt.InvalidAudienceError: "wrong_audience",
    jwt.MissingRequiredClaimError: "missing_claim",
    jwt.InvalidIssuedAtError: "malformed",
    jwt.exceptions.InvalidSubjectError: "malformed",
    jwt.exceptions.InvalidJTIError: "malformed",
    jwt.DecodeError: "malformed",
}


def _pyjwt_code(error: jwt.PyJWTError) -> str:
    return next((_PYJWT_CODES[c] for c in type(error).__mro__ if c in _PYJWT_CODES), "invalid")


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class _CognitoJWT(jwt.PyJWT):
    """PyJWT, but time claims must be JSON numbers: PyJWT would read "9999999999" as one."""

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        # Called after the signature check and before PyJWT compares the times.
        payload = super()._decode_payload(decoded)
        for name in TIME_CLAIMS:
            if name in payload and not _is_number(payload[name]):
                raise jwt.DecodeError(f"{name} must be a number")
        return payload


def _is_number(value: object) -> bool:
    # bool is an int in Python, and json.loads reads NaN and Infinity: none is a time.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class JwksCache:
    """An issuer's signing keys: fetched lazily, refetched at once for a kid not yet seen."""

    def __init__(
        self,
        jwks_url: str,
        *,
        timeout: tuple[float, float] = (2.0, 3.0),
        penalty_seconds: float = 10.0,
    ) -> None:
        self.jwks_url = jwks_url
        self.timeout = timeout
        self.penalty_seconds = penalty_seconds
        self.fetch_count = 0
        self._keys: dict[str, RSAPublicKey] = {}
        self._penalty_until = 0.0
        self._last_fetch_failed = False
        self._lock = threading.Lock()
        self._http = requests.Session()

    def get_key(self, kid: str) -> RSAPublicKey:
        """The public key for `kid`; raises TokenInvalid("unknown_kid") when the issuer has none."""
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            key = self._keys.get(kid)
            if key is None and time.monotonic() >= self._penalty_until:
                self._refresh()
                key = self._keys.get(kid)
                # As aws-jwt-verify's penalty box: a key the issuer just published is fetched
                # at once, but a fetch that did not find the kid (or failed) holds every further
                # fetch back for a while, so kids an attacker makes up cannot flood the issuer.
                if key is None:
                    self._penalty_until = time.monotonic() + self.penalty_seconds
        if key is not None:
            return key
        if not self._keys and self._last_fetch_failed:
            raise JwksUnavailable(self.jwks_url)
        raise TokenInvalid("unknown_kid")

    def _refresh(self) -> None:
        self.fetch_count += 1
        try:
            keys = self._fetch()
        except (requests.RequestException, ValueError) as error:
            # Keep the last good keys: a flaky issuer must not sign everyone out.
            self._last_fetch_failed = True
            logger.warning(
                "event=jwks_fetch_failed url=%s error=%s", self.jwks_url, type(error).__name__
            )
            return
        self._last_fetch_failed = False
        self._keys = keys

    def _fetch(self) -> dict[str, RSAPublicKey]:
        # No redirects: the keys must come from the issuer's own URL, nowhere else.
        response = self._http.get(self.jwks_url, timeout=self.timeout, allow_redirects=False)
        if response.status_code != 200:
            raise ValueError(f"JWKS answered HTTP {response.status_code}")
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError("JWKS too large")
        document = response.json()
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("JWKS has no keys list")
        keys: dict[str, RSAPublicKey] = {}
        for jwk in document["keys"]:
            key = _signing_key(jwk)
            if key is not None:
                keys[jwk["kid"]] = key
        if not keys:
            raise ValueError("JWKS has no RS256 signing keys")
        return keys


def _signing_key(jwk: object) -> RSAPublicKey | None:
    """The RSA public key of an RS256 signing JWK, or None for any other kind of key."""
    if not isinstance(jwk, dict):
        return None
    if (
        jwk.get("kty") != "RSA"
        or jwk.get("use") != "sig"
        or jwk.get("alg") != ALGORITHM
        or not isinstance(jwk.get("kid"), str)
    ):
        return None
    try:
        key = RSAAlgorithm.from_jwk(jwk)
    except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
        return None
    return key if isinstance(key, RSAPublicKey) else None


class CognitoTokenValidator:
    """Verifies a user pool's ID and access tokens for one app client."""

    def __init__(self, *, issuer: str, client_id: str, jwks: JwksCache, leeway: int = 30) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks
        self.leeway = leeway
        # Built once: PyJWT merges per-call options on every decode, so pass none per call.
        self._jwt = _CognitoJWT(
            {
                "require": ["exp", "iat", "sub", "iss", "token_use"],
                "strict_aud": True,
                "verify_signature": True,
            }
        )

    def validate_id_token(
        self, token: str, *, nonce: str | None = None, access_token: str | None = None
    ) -> dict[str, Any]:
        """The claims of a verified ID token for this client (and this login's nonce, if given)."""
        claims = self._decode(token, audience=self.client_id)
        if claims["token_use"] != "id":
            raise TokenInvalid("wrong_token_use")
        # OIDC: when present, azp names the party the token was issued to; it must be us.
        if "azp" in claims and claims["azp"] != self.client_id:
            raise TokenInvalid("wrong_audience", "azp")
        if nonce is not None and not _same(claims.get("nonce"), nonce):
            raise TokenInvalid("nonce_mismatch")
        claimed_hash = claims.get("at_hash")
        if (
            access_token is not None
            and claimed_hash is not None
            and not _same(claimed_hash, at_hash(access_token))
        ):
            raise TokenInvalid("at_hash_mismatch")
        at_hash_checked = access_token and claimed_hash
        token_verified.send(
            CognitoTokenValidator, token="id", claims=claims, nonce=nonce, at_hash=at_hash_checked
        )
        return claims

    def validate_access_token(
        self, token: str, *, client_ids: Collection[str] | None = None
    ) -> dict[str, Any]:
        """The claims of a verified access token issued to this client (or one of `client_ids`)."""
        # Cognito access tokens carry client_id and no aud, so PyJWT must see no audience.
        claims = self._decode(token, audience=None)
        if claims["token_use"] != "access":
            raise TokenInvalid("wrong_token_use")
        # A resource server may accept several app clients of the pool (a machine client too).
        allowed = (self.client_id,) if client_ids is None else client_ids
        client_id = claims.get("client_id")
        if not isinstance(client_id, str) or client_id not in allowed:
            raise TokenInvalid("wrong_audience", "client_id")
        token_verified.send(CognitoTokenValidator, token="access", claims=claims)
        return claims

    def _decode(self, token: str, *, audience: str | None) -> dict[str, Any]:
        key = self.jwks.get_key(_header_kid(token))
        try:
            claims = self._jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                leeway=self.leeway,
            )
        except jwt.PyJWTError as error:
            raise TokenInvalid(_pyjwt_code(error), str(error)) from None
        # PyJWT checks only that iat is not in the future. Bounding the lifetime also bounds
        # the age: exp is not yet past, so iat is at most MAX_TOKEN_LIFETIME (+ leeway) ago.
        if claims["exp"] - claims["iat"] > MAX_TOKEN_LIFETIME:
            raise TokenInvalid("lifetime_too_long")
        return claims


def _header_kid(token: object) -> str:
    """The kid of an RS256 token's header; any other header is refused before a key is looked up."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenInvalid("malformed", "not a token")
    if token.count(".") != 2:
        raise TokenInvalid("malformed", "not three segments")
    try:
        header = json.loads(_b64url_decode(token[: token.index(".")]))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise TokenInvalid("malformed", "header") from None
    if not isinstance(header, dict):
        raise TokenInvalid("malformed", "header")
    # Only the configured algorithm; keys offered by the token itself (jwk, jku, x5u) are
    # never read: the key always comes from the issuer's JWKS by kid.
    if header.get("alg") != ALGORITHM:
        raise TokenInvalid("bad_alg")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenInvalid("missing_kid")
    return kid


def _same(claimed: object, expected: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not a refusal).
    return isinstance(claimed, str) and hmac.compare_digest(claimed.encode(), expected.encode())


def at_hash(access_token: str) -> str:
    """OIDC at_hash for RS256: base64url of the left half of SHA-256 of the access token."""
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def token_validator() -> CognitoTokenValidator:
    """The validator for the configured pool and client, one per process (its JWKS stays warm)."""
    return _validator(settings.COGNITO_ISSUER, settings.COGNITO_CLIENT_ID)


@functools.cache
def _validator(issuer: str, client_id: str) -> CognitoTokenValidator:
    jwks = JwksCache(f"{issuer}/.well-known/jwks.json", timeout=settings.HTTP_TIMEOUT)
    return CognitoTokenValidator(issuer=issuer, client_id=client_id, jwks=jwks)


@dataclass(frozen=True)
class Tokens:
    """A verified token set and the ID token's claims."""

    id_token: str
    access_token: str
    refresh_token: str
    expires_at: int
    claims: dict[str, Any]


def tokens_verified(
    *, id_token: Any, access_token: Any, refresh_token: Any, nonce: str | None = None
) -> Tokens:
    """Verify a token set as every flow must: the ID token (with nonce and at_hash when given)
    and the access token of the same subject. Raises `TokenInvalid`, logged here once."""
    if not all(isinstance(t, str) for t in (id_token, access_token, refresh_token)):
        raise TokenInvalid("incomplete_token_response")
    validator = token_validator()
    try:
        claims = validator.validate_id_token(id_token, nonce=nonce, access_token=access_token)
        access_claims = validator.validate_access_token(access_token)
        if access_claims["sub"] != claims["sub"]:
            raise TokenInvalid("subject_mismatch")
    except TokenInvalid as error:
        logger.warning("event=token_rejected reason=%s", error.code)
        raise
    return Tokens(
        id_token=id_token,
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=min(int(access_claims["exp"]), int(claims["exp"])),
        claims=claims,
    )
