"""A software WebAuthn authenticator for tests: an ES256 key, 'none' attestation, real signatures.

authenticatorData is built by hand as the WebAuthn spec lays it out (section 6.1): SHA-256 of the
RP ID, a flags byte (UP 0x01, UV 0x04, AT 0x40), a 4-byte big-endian sign count, and for a new
credential the attested credential data (AAGUID, 2-byte id length, id, COSE public key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_private_key

UP, UV, AT = 0x01, 0x04, 0x40
ORIGIN = "http://localhost:8000"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Authenticator:
    """One passkey: its private key, credential id and signature counter."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    sign_count: int = 0
    user_handle: bytes = b""

    @classmethod
    def from_pkcs8(cls, pkcs8_b64: str, credential_id: str) -> Authenticator:
        key = load_der_private_key(base64.b64decode(pkcs8_b64), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cls(key=key, credential_id=unb64url(credential_id))

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def create(
        self, options: dict[str, Any], *, origin: str = ORIGIN, rp_id: str | None = None
    ) -> dict[str, Any]:
        """A RegistrationResponseJSON for CredentialCreationOptions (credentials.create)."""
        rp = rp_id or options["rp"]["id"]
        self.user_handle = unb64url(options["user"]["id"])
        client_data = _client_data("webauthn.create", options["challenge"], origin)
        attested = (
            bytes(16)
            + len(self.credential_id).to_bytes(2, "big")
            + self.credential_id
            + self.cose_key()
        )
        auth_data = _auth_data(rp, UP | UV | AT, self.sign_count) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return self._credential(
            client_data, attestationObject=b64url(attestation), transports=["internal"]
        )

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        sign_count: int | None = None,
        user_verified: bool = True,
    ) -> dict[str, Any]:
        """An AuthenticationResponseJSON for CREDENTIAL_REQUEST_OPTIONS (credentials.get)."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data = _client_data("webauthn.get", options["challenge"], origin)
        flags = UP | (UV if user_verified else 0)
        auth_data = _auth_data(rp_id or options["rpId"], flags, self.sign_count)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return self._credential(
            client_data,
            authenticatorData=b64url(auth_data),
            signature=b64url(signature),
            userHandle=b64url(self.user_handle),
        )

    def _credential(self, client_data: bytes, **response: Any) -> dict[str, Any]:
        """The PublicKeyCredential JSON around an authenticator response."""
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(client_data), **response},
        }


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()


def _auth_data(rp_id: str, flags: int, sign_count: int) -> bytes:
    return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + sign_count.to_bytes(4, "big")
