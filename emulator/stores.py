"""The stores behind the native sign-in and self-service operations, beside `EmulatorState`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


def on_pool(pool: Any, name: str, new: Callable[[], T]) -> T:
    """A store kept on moto's pool object under `name` (so a reset clears it), made on first use."""
    found = getattr(pool, name, None)
    if found is None:
        found = new()
        setattr(pool, name, found)
    return found


@dataclass(frozen=True)
class SrpRecord:
    """A user's SRP salt and verifier, and a fingerprint of the password they came from."""

    salt: str
    verifier: int
    fingerprint: bytes


@dataclass(frozen=True)
class SrpExchange:
    """The server's half of one SRP exchange (USER_SRP_AUTH to PASSWORD_VERIFIER)."""

    user_id: str
    salt: str
    verifier: int
    small_b: int
    big_b: int
    big_a: int
    secret_block: str


@dataclass(frozen=True)
class AuthSession:
    """One sign-in between InitiateAuth and its tokens: the challenge the `Session` answers."""

    username: str
    client_id: str
    challenge: str
    expires_at: float
    admin: bool = False
    simulated: bool = False
    attempts: int = 0
    srp: SrpExchange | None = None
    code: str | None = None
    code_expires_at: float = 0.0
    totp_secret: str | None = None
    totp_verified: bool = False
    custom: bool = False
    custom_session: tuple[dict[str, Any], ...] = ()
    private_parameters: dict[str, str] = field(default_factory=dict)
    challenge_metadata: str | None = None
    # USER_AUTH: a first-factor code or passkey challenge (not MFA), and the caller's device.
    first_factor: bool = False
    webauthn_challenge: bytes | None = None
    device_key: str = ""


@dataclass(frozen=True)
class Passkey:
    """A user's registered WebAuthn credential (CompleteWebAuthnRegistration)."""

    credential_id: str  # base64url, as WebAuthn JSON writes it
    public_key: bytes  # COSE
    sign_count: int
    rp_id: str
    transports: tuple[str, ...]
    attachment: str | None
    created_at: float
    name: str


@dataclass(frozen=True)
class PasskeyRegistration:
    """A StartWebAuthnRegistration whose CompleteWebAuthnRegistration is still due."""

    challenge: bytes
    client_id: str
    expires_at: float


@dataclass(frozen=True)
class Device:
    """A device a user signed in on (NewDeviceMetadata), confirmed and perhaps remembered."""

    key: str
    group_key: str
    username: str
    created_at: float
    confirmed: bool = False
    remembered: bool = False
    name: str = ""
    salt: str = ""  # hex
    verifier: int = 0
    last_modified: float = 0.0
    last_authenticated: float = 0.0


@dataclass(frozen=True)
class OneTimeCode:
    """A code sent to a user (sign-up, password reset, attribute verification)."""

    code: str
    expires_at: float
    destination: str


@dataclass(frozen=True)
class HostedStep:
    """What a managed-login sign-in still needs: a new password, or a TOTP, SMS or email code."""

    kind: str  # new_password, totp, sms or email
    code: str | None = None
    code_expires_at: float = 0.0


@dataclass(frozen=True)
class Lockout:
    """Failed password attempts of one user and how long they are locked out."""

    failures: int
    locked_until: float
    last_attempt: float


@dataclass
class FlowStores:
    """Sessions, codes, verifiers, lockouts and pending changes; `clear()` empties them."""

    auth_sessions: dict[str, AuthSession] = field(default_factory=dict)
    codes: dict[tuple[str, str], OneTimeCode] = field(default_factory=dict)
    srp_records: dict[str, SrpRecord] = field(default_factory=dict)
    lockouts: dict[str, Lockout] = field(default_factory=dict)
    email_mfa: set[str] = field(default_factory=set)
    pending_totp: dict[str, str] = field(default_factory=dict)
    pending_attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    # Refresh tokens rotated out, each with the time its retry grace period ends.
    rotated_refresh_tokens: dict[str, float] = field(default_factory=dict)
    triggers: dict[str, dict[str, str]] = field(default_factory=dict)
    hosted_steps: dict[str, HostedStep] = field(default_factory=dict)
    # Passkeys by username, pending registrations by username, devices by device key, the
    # device each refresh token was issued to, and the WebAuthnConfiguration of each pool.
    passkeys: dict[str, tuple[Passkey, ...]] = field(default_factory=dict)
    passkey_registrations: dict[str, PasskeyRegistration] = field(default_factory=dict)
    devices: dict[str, Device] = field(default_factory=dict)
    refresh_devices: dict[str, str] = field(default_factory=dict)
    webauthn_config: dict[str, dict[str, str]] = field(default_factory=dict)
    # SignUp's and ConfirmSignUp's Session strings: a sign-in straight after sign-up (userauth).
    sign_up_sessions: dict[str, AuthSession] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget everything."""
        for store in (
            self.auth_sessions,
            self.codes,
            self.srp_records,
            self.lockouts,
            self.email_mfa,
            self.pending_totp,
            self.pending_attributes,
            self.rotated_refresh_tokens,
            self.triggers,
            self.hosted_steps,
            self.passkeys,
            self.passkey_registrations,
            self.devices,
            self.refresh_devices,
            self.webauthn_config,
            self.sign_up_sessions,
        ):
            store.clear()
