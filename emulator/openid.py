"""The identity pool's OpenID tokens: GetOpenIdToken's answer, STS's web identity."""

from __future__ import annotations

import functools
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from emulator import seed

ISSUER = "https://cognito-identity.amazonaws.com"
# Cognito signs these with RS512 under a kid named after the region (cognito-facts 6.3).
ALGORITHM = "RS512"
KID = f"{seed.REGION}1"
DEFAULT_LIFETIME = 10 * 60


@functools.cache
def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict[str, list[dict[str, str]]]:
    """The public key, as served at `https://cognito-identity.amazonaws.com/.well-known/jwks_uri`."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(_private_key().public_key(), as_dict=True)
    return {
        "keys": [
            {"kty": "RSA", "alg": ALGORITHM, "use": "sig", "kid": KID, "n": jwk["n"], "e": jwk["e"]}
        ]
    }


def openid_token(
    *, pool_id: str, identity_id: str, amr: list[str], lifetime: int = DEFAULT_LIFETIME
) -> str:
    """A signed OpenID token for an identity: `aud` the pool, `sub` the identity, `amr` how."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": identity_id,
        "aud": pool_id,
        "amr": amr,
        "https://cognito-identity.amazonaws.com/identity-pool-arn": (
            f"arn:aws:cognito-identity:{seed.REGION}:{seed.ACCOUNT_ID}:identitypool/{pool_id}"
        ),
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, _private_key(), algorithm=ALGORITHM, headers={"kid": KID})


def decode(token: str) -> dict[str, Any]:
    """Verify signature, issuer and expiry of an OpenID token; raise `jwt.InvalidTokenError`."""
    if jwt.get_unverified_header(token).get("kid") != KID:
        raise jwt.InvalidTokenError("unknown key")
    return jwt.decode(
        token,
        _private_key().public_key(),
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        options={"require": ["exp", "iat", "iss", "sub", "aud"], "verify_aud": False},
    )
