"""The seed's part for choice-based sign-in: first factors, passkeys, devices and their users."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_private_key
from moto.cognitoidp.models import UserStatus

from emulator import seed, srp, webauthn
from emulator.stores import Passkey

if TYPE_CHECKING:
    from moto.cognitoidp.models import CognitoIdpUser

    from emulator.seed import DemoUser
    from emulator.state import EmulatorState


def provision(state: EmulatorState, *, user_sub: Callable[[str], str]) -> None:
    """The pool's first factors, relying party and device tracking; grace and heidi."""
    pool = state.pool
    policies = dict(pool.extended_config.get("Policies") or {})
    policies["SignInPolicy"] = {"AllowedFirstAuthFactors": list(seed.FIRST_AUTH_FACTORS)}
    pool.extended_config["Policies"] = policies
    pool.extended_config["DeviceConfiguration"] = dict(seed.DEVICE_CONFIGURATION)
    webauthn.configure(
        state,
        {
            "RelyingPartyId": seed.WEBAUTHN_RELYING_PARTY_ID,
            "UserVerification": seed.WEBAUTHN_USER_VERIFICATION,
        },
    )
    grace = _create(state, seed.PASSWORDLESS_USER, user_sub=user_sub)
    # No password at all: only EMAIL_OTP, SMS_OTP (or a passkey she adds) sign her in.
    grace.password = None
    heidi = _create(state, seed.PASSKEY_USER, user_sub=user_sub)
    srp.remember(state, heidi)
    state.flows.passkeys[heidi.username] = (
        Passkey(
            credential_id=seed.PASSKEY_CREDENTIAL_ID,
            public_key=cose_public_key(seed.PASSKEY_PRIVATE_KEY),
            sign_count=0,
            rp_id=seed.WEBAUTHN_RELYING_PARTY_ID,
            transports=("internal",),
            attachment="platform",
            created_at=time.time(),
            name="Passkey on this device",
        ),
    )


def cose_public_key(private_key_pkcs8: str) -> bytes:
    """The COSE_Key (EC2, P-256, ES256) of a base64 PKCS#8 private key."""
    key = load_der_private_key(base64.b64decode(private_key_pkcs8), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    numbers = key.public_key().public_numbers()
    return cbor2.dumps(
        {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
    )


def _create(
    state: EmulatorState, demo_user: DemoUser, *, user_sub: Callable[[str], str]
) -> CognitoIdpUser:
    backend = state.backend
    user = backend.admin_create_user(
        state.pool.id,
        demo_user.username,
        "SUPPRESS",
        demo_user.password or None,
        demo_user.attributes,
    )
    user.status = UserStatus.CONFIRMED
    user.id = user_sub(demo_user.username)
    user.update_attributes([{"Name": "sub", "Value": user.id}])
    return user
