"""Cognito-shaped JWTs signed by the emulator's own keys, for the OAuth endpoints and moto alike.

Cognito signs ID and access tokens with two different keys; so does the emulator. moto signs
with one fixed key (`kid: dummy`) and an AWS issuer, so `install_moto_signing` replaces
`CognitoIdpUserPool.create_jwt`, the one place moto mints a JWT: tokens from InitiateAuth,
RespondToAuthChallenge and the rest then carry the local issuer and verify against the same JWKS.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

if TYPE_CHECKING:
    from moto.cognitoidp.models import (
        CognitoIdpUser,
        CognitoIdpUserPool,
        CognitoIdpUserPoolClient,
    )

# Access tokens from the native API carry exactly this scope (cognito-facts 2.3).
NATIVE_SCOPE = "aws.cognito.signin.user.admin"
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_PROFILE_EXCLUDED = {"sub", "email", "email_verified", "phone_number", "phone_number_verified"}
GROUP_CLAIMS = frozenset({"cognito:groups", "cognito:roles", "cognito:preferred_role"})
# Claims a pre token generation trigger cannot change (DG23:user-pool-lambda-pre-token-generation
# lists those of the ID token); group claims change only through groupOverrideDetails.
FIXED_ID_CLAIMS = GROUP_CLAIMS | {
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "cognito:username",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "sub",
    "token_use",
}
# In access tokens the scopes change through scopesToAdd/scopesToSuppress only, and the client,
# the username and the token version stay Cognito's.
FIXED_ACCESS_CLAIMS = FIXED_ID_CLAIMS | {"client_id", "scope", "username", "version"}


@dataclass(frozen=True)
class ClaimChanges:
    """What a pre token generation trigger adds, overrides and suppresses in one token."""

    add: Mapping[str, Any] = field(default_factory=dict)
    suppress: frozenset[str] = frozenset()

    def apply(self, claims: dict[str, Any], *, fixed: frozenset[str]) -> None:
        """Change `claims` in place; a claim both added and suppressed is suppressed."""
        claims.update({name: value for name, value in self.add.items() if name not in fixed})
        for name in self.suppress - fixed:
            claims.pop(name, None)


@dataclass(frozen=True)
class GroupOverride:
    """A trigger's groupOverrideDetails: the groups and roles both tokens carry instead."""

    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    preferred_role: str | None = None


NO_CHANGES = ClaimChanges()


@dataclass(frozen=True)
class SigningKey:
    """One RSA key and its `kid`."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh 2048-bit key; its kid is base64 of its public key's SHA-256 (Cognito-like)."""
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        kid = base64.b64encode(hashlib.sha256(der).digest()).decode()
        return cls(kid=kid, private_key=private_key)

    def public_jwk(self) -> dict[str, str]:
        """The public half as a JWKS entry."""
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {
            "alg": "RS256",
            "e": jwk["e"],
            "kid": self.kid,
            "kty": "RSA",
            "n": jwk["n"],
            "use": "sig",
        }


@dataclass(frozen=True)
class KeySet:
    """The two signing keys: one for ID tokens, one for access tokens."""

    id_key: SigningKey
    access_key: SigningKey

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The document served at `{issuer}/.well-known/jwks.json`."""
        return {"keys": [self.id_key.public_jwk(), self.access_key.public_jwk()]}

    def key_for(self, token_use: str) -> SigningKey:
        """The key that signs tokens of this use."""
        return self.id_key if token_use == "id" else self.access_key


@functools.cache
def process_keys() -> KeySet:
    """The keys of this process, generated once (key generation is the slow part of a start)."""
    return KeySet(id_key=SigningKey.generate(), access_key=SigningKey.generate())


@dataclass(frozen=True)
class Lifetimes:
    """Token lifetimes in seconds, from the app client's settings."""

    access: int = 3600
    id: int = 3600
    refresh: int = 30 * 86400


def token_lifetimes(client: CognitoIdpUserPoolClient | None) -> Lifetimes:
    """The client's AccessTokenValidity/IdTokenValidity/RefreshTokenValidity in seconds."""
    if client is None:
        return Lifetimes()
    config = client.extended_config
    units = config.get("TokenValidityUnits") or {}

    def seconds(field: str, unit_key: str, default_unit: str, default: int) -> int:
        value = config.get(field)
        if not value:  # Cognito: 0 or absent means the default.
            return default
        return int(value) * _UNIT_SECONDS.get(units.get(unit_key, default_unit), 1)

    return Lifetimes(
        access=seconds("AccessTokenValidity", "AccessToken", "hours", 3600),
        id=seconds("IdTokenValidity", "IdToken", "hours", 3600),
        refresh=seconds("RefreshTokenValidity", "RefreshToken", "days", 30 * 86400),
    )


def at_hash(access_token: str) -> str:
    """OIDC `at_hash`: base64url of the left half of the SHA-256 of the access token."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def new_opaque_token() -> str:
    """An opaque, unguessable token (refresh tokens, codes, session ids)."""
    return secrets.token_urlsafe(48)


def user_attributes(user: CognitoIdpUser) -> dict[str, str]:
    """The user's attributes as a flat dict of strings."""
    return {attr["Name"]: attr["Value"] for attr in user.attributes}


def user_roles(user: CognitoIdpUser) -> dict[str, Any]:
    """`cognito:roles` and `cognito:preferred_role` from the user's groups that carry a role."""
    # The preferred role is the one of the group with the lowest precedence.
    groups = sorted((g for g in user.groups if g.role_arn), key=lambda g: g.precedence or 0)
    if not groups:
        return {}
    return {
        "cognito:roles": sorted({group.role_arn for group in groups}),
        "cognito:preferred_role": groups[0].role_arn,
    }


def userinfo_claims(user: CognitoIdpUser, *, scopes: Iterable[str]) -> dict[str, str]:
    """What /oauth2/userInfo returns for these scopes (attribute values stay strings)."""
    scopes = set(scopes)
    attributes = user_attributes(user)
    claims = {"sub": attributes.get("sub", user.id), "username": user.username}
    wanted: set[str] = set()
    if "email" in scopes:
        wanted |= {"email", "email_verified"}
    if "phone" in scopes:
        wanted |= {"phone_number", "phone_number_verified"}
    if "profile" in scopes:
        wanted |= {name for name in attributes if name not in _PROFILE_EXCLUDED}
    claims.update({name: value for name, value in attributes.items() if name in wanted})
    return claims


class TokenFactory:
    """Mints the ID and access tokens of one emulator: its keys, its issuer."""

    def __init__(self, *, keys: KeySet, base_url: str = "") -> None:
        self.keys = keys
        self.base_url = base_url
        # origin_jti -> original sign-in time, so refreshes keep `auth_time`.
        self._auth_times: dict[str, int] = {}
        # origin_jti -> access tokens minted in that session, so revoking it can end them.
        self._access_tokens: dict[str, list[str]] = {}

    def issuer(self, pool_id: str) -> str:
        """The local issuer of a user pool: `{emulator url}/{pool id}`."""
        return f"{self.base_url}/{pool_id}"

    def reset(self) -> None:
        """Forget every sign-in."""
        self._auth_times.clear()
        self._access_tokens.clear()

    def access_tokens_of(self, origin_jti: str) -> list[str]:
        """The access tokens minted in one refresh-token session."""
        return list(self._access_tokens.get(origin_jti, ()))

    def start_session(self, *, auth_time: int | None = None) -> str:
        """A new origin_jti (one per refresh-token session) remembered with its sign-in time."""
        origin_jti = str(uuid.uuid4())
        self._auth_times[origin_jti] = auth_time or int(time.time())
        return origin_jti

    def auth_time(self, origin_jti: str) -> int:
        """The sign-in time of a session (now, for a session first seen)."""
        return self._auth_times.setdefault(origin_jti, int(time.time()))

    def sign(self, claims: dict[str, Any], *, token_use: str) -> str:
        """RS256 with the key of this token use; the header is exactly `{kid, alg}` as Cognito's."""
        key = self.keys.key_for(token_use)
        headers = {"kid": key.kid, "typ": None}
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers=headers)

    def _common(
        self,
        *,
        user: CognitoIdpUser,
        origin_jti: str,
        lifetime: int,
        groups: GroupOverride | None = None,
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user_attributes(user).get("sub", user.id),
            "iss": self.issuer(user.user_pool_id),
            "auth_time": self.auth_time(origin_jti),
            "iat": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            "origin_jti": origin_jti,
        }
        names = groups.groups if groups else sorted(group.group_name for group in user.groups)
        if names:
            claims["cognito:groups"] = list(names)
        return claims

    def access_token(
        self,
        *,
        user: CognitoIdpUser,
        client_id: str,
        scopes: Iterable[str],
        origin_jti: str,
        lifetime: int,
        changes: ClaimChanges = NO_CHANGES,
        groups: GroupOverride | None = None,
    ) -> str:
        """An access token: `client_id`, never `aud` (cognito-facts 2.3)."""
        claims = self._common(user=user, origin_jti=origin_jti, lifetime=lifetime, groups=groups)
        claims.update(
            {
                "client_id": client_id,
                "username": user.username,
                "scope": " ".join(scopes),
                "token_use": "access",
                "version": 2,
            }
        )
        changes.apply(claims, fixed=FIXED_ACCESS_CLAIMS)
        token = self.sign(claims, token_use="access")
        self._access_tokens.setdefault(origin_jti, []).append(token)
        return token

    def machine_access_token(
        self,
        *,
        pool_id: str,
        client_id: str,
        scopes: Iterable[str],
        lifetime: int,
        changes: ClaimChanges = NO_CHANGES,
    ) -> str:
        """A client_credentials token: the client is its own subject; no user, no session."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": client_id,
            "token_use": "access",
            "scope": " ".join(scopes),
            "auth_time": now,
            "iss": self.issuer(pool_id),
            "exp": now + lifetime,
            "iat": now,
            "version": 2,
            "jti": str(uuid.uuid4()),
            "client_id": client_id,
        }
        changes.apply(claims, fixed=FIXED_ACCESS_CLAIMS)
        return self.sign(claims, token_use="access")

    def id_token(
        self,
        *,
        user: CognitoIdpUser,
        client: CognitoIdpUserPoolClient | None,
        client_id: str,
        origin_jti: str,
        lifetime: int,
        nonce: str | None = None,
        access_token: str | None = None,
        changes: ClaimChanges = NO_CHANGES,
        groups: GroupOverride | None = None,
    ) -> str:
        """An ID token with the attributes the client may read (`*_verified` as booleans)."""
        claims = self._common(user=user, origin_jti=origin_jti, lifetime=lifetime, groups=groups)
        readable = set(client.get_readable_fields()) if client else set()
        for name, value in user_attributes(user).items():
            if name == "identities":  # federated users: a JSON array, always present
                claims[name] = json.loads(value)
                continue
            if name == "sub" or (readable and name not in readable):
                continue
            claims[name] = value == "true" if name.endswith("_verified") else value
        claims.update({"aud": client_id, "token_use": "id", "cognito:username": user.username})
        # Groups with roles give the ID token its roles (token-based role selection in identity
        # pools), unless a trigger's groupOverrideDetails replaced them.
        if groups is not None:
            if groups.roles:
                claims["cognito:roles"] = list(groups.roles)
            if groups.preferred_role:
                claims["cognito:preferred_role"] = groups.preferred_role
        else:
            claims.update(user_roles(user))
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            claims["at_hash"] = at_hash(access_token)
        changes.apply(claims, fixed=FIXED_ID_CLAIMS)
        return self.sign(claims, token_use="id")

    def decode_access_token(self, token: str, *, pool_id: str) -> dict[str, Any]:
        """Verify an access token's signature, issuer and expiry; raise `jwt.InvalidTokenError`."""
        header = jwt.get_unverified_header(token)
        key = self.keys.access_key
        if header.get("kid") != key.kid:
            raise jwt.InvalidTokenError("not signed by the access-token key")
        claims = jwt.decode(
            token,
            key.private_key.public_key(),
            algorithms=["RS256"],
            issuer=self.issuer(pool_id),
            options={"require": ["exp", "iat", "iss", "token_use"], "verify_aud": False},
        )
        if claims.get("token_use") != "access":
            raise jwt.InvalidTokenError("not an access token")
        return claims


_original_create_jwt: Any = None
_original_jwk_module: Any = None


class _ImportedOnceJwk:
    """Stands in for joserfc's `jwk` inside moto's models: every pool imports the same fixed key.

    moto parses its fixed private key for each new user pool (about 0.1 s, most of a reset);
    once `create_jwt` is ours that key signs nothing, so importing it once is enough.
    """

    class RSAKey:
        @staticmethod
        def import_key(value: Any, *args: Any, **kwargs: Any) -> Any:
            return _moto_fixed_key(_original_jwk_module)


@functools.cache
def _moto_fixed_key(jwk_module: Any) -> Any:
    from moto.utilities.utils import load_resource

    return jwk_module.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def install_moto_signing(factory: TokenFactory) -> None:
    """Make moto mint JWTs through `factory`: local issuer, our keys, client lifetimes."""
    from moto.cognitoidp import models
    from moto.cognitoidp.models import CognitoIdpUserPool

    global _original_create_jwt, _original_jwk_module
    if _original_create_jwt is None:
        _original_create_jwt = CognitoIdpUserPool.create_jwt
        _original_jwk_module = models.jwk
        models.jwk = _ImportedOnceJwk

    def create_jwt(
        pool: CognitoIdpUserPool,
        client_id: str,
        username: str,
        token_use: str,
        expires_in: int = 3600,
        extra_data: dict[str, Any] | None = None,
    ) -> tuple[str, int]:
        extra = extra_data or {}
        origin_jti = extra.get("origin_jti") or factory.start_session()
        user = pool._get_user(username)
        client = pool.clients.get(client_id)
        lifetimes = token_lifetimes(client)
        if token_use == "access":
            scopes = str(extra.get("scope", NATIVE_SCOPE)).split()
            token = factory.access_token(
                user=user,
                client_id=client_id,
                scopes=scopes,
                origin_jti=origin_jti,
                lifetime=lifetimes.access,
            )
            return token, lifetimes.access
        token = factory.id_token(
            user=user,
            client=client,
            client_id=client_id,
            origin_jti=origin_jti,
            lifetime=lifetimes.id,
        )
        return token, lifetimes.id

    CognitoIdpUserPool.create_jwt = create_jwt  # type: ignore[method-assign]


def uninstall_moto_signing() -> None:
    """Give moto its own `create_jwt` back."""
    from moto.cognitoidp import models

    global _original_create_jwt, _original_jwk_module
    if _original_create_jwt is not None:
        models.CognitoIdpUserPool.create_jwt = _original_create_jwt  # type: ignore[method-assign]
        models.jwk = _original_jwk_module
        _original_create_jwt = _original_jwk_module = None
