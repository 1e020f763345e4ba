"""What the emulator keeps beside moto: codes, sessions, refresh tokens, TOTP and the inbox."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emulator import seed
from emulator.identity import IdentityStore
from emulator.idps import Federation
from emulator.inbox import Inbox
from emulator.stores import FlowStores
from emulator.sts import SessionStore
from emulator.tokens import KeySet, TokenFactory

if TYPE_CHECKING:
    from moto.cognitoidp.models import (
        CognitoIdpBackend,
        CognitoIdpUserPool,
        CognitoIdpUserPoolClient,
    )

AUTH_CODE_SECONDS = 5 * 60
HOSTED_SESSION_SECONDS = 60 * 60
PENDING_SIGNIN_SECONDS = 3 * 60


@dataclass(frozen=True)
class AuthCode:
    """An authorization code and what it was issued for."""

    client_id: str
    redirect_uri: str
    username: str
    scopes: tuple[str, ...]
    nonce: str | None
    code_challenge: str | None
    auth_time: int
    expires_at: float


@dataclass(frozen=True)
class HostedSession:
    """The managed-login session behind the browser's cookie."""

    username: str
    auth_time: int
    expires_at: float


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in whose password was right and whose MFA code is still due."""

    username: str
    query: str
    expires_at: float
    attempts: int = 0


@dataclass(frozen=True)
class RefreshSession:
    """What a refresh token from the token endpoint stands for."""

    client_id: str
    username: str
    scopes: tuple[str, ...]
    auth_time: int
    origin_jti: str
    expires_at: float


@dataclass
class EmulatorState:
    """The emulator's own stores; `clear()` empties them (the seed is in `emulator.world`)."""

    keys: KeySet
    url: str = ""
    # The account's long-term keys, access key id -> secret (SigV4 is checked against them).
    access_keys: dict[str, str] = field(
        default_factory=lambda: {seed.ACCESS_KEY_ID: seed.SECRET_ACCESS_KEY}
    )
    callback_urls: list[str] = field(default_factory=list)
    logout_urls: list[str] = field(default_factory=list)
    inbox: Inbox = field(default_factory=Inbox)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    hosted_sessions: dict[str, HostedSession] = field(default_factory=dict)
    pending_signins: dict[str, PendingSignIn] = field(default_factory=dict)
    refresh_sessions: dict[str, RefreshSession] = field(default_factory=dict)
    revoked_origins: set[str] = field(default_factory=set)
    totp_secrets: dict[str, str] = field(default_factory=dict)
    totp_last_steps: dict[str, int] = field(default_factory=dict)
    flows: FlowStores = field(default_factory=FlowStores)
    identities: IdentityStore = field(default_factory=IdentityStore)
    sessions: SessionStore = field(default_factory=SessionStore)
    federation: Federation = field(default_factory=Federation)
    csrf_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.tokens = TokenFactory(keys=self.keys, base_url=self.url)

    def set_url(self, url: str) -> None:
        """Point the emulator at its own address (known once the server is bound)."""
        self.url = url
        self.tokens.base_url = url

    @property
    def issuer(self) -> str:
        """The local issuer, `{url}/{pool id}`, which every token's `iss` carries."""
        return self.tokens.issuer(seed.USER_POOL_ID)

    @property
    def backend(self) -> CognitoIdpBackend:
        """moto's cognito-idp backend for the demo account and region."""
        from moto.cognitoidp.models import cognitoidp_backends

        return cognitoidp_backends[seed.ACCOUNT_ID][seed.REGION]

    @property
    def pool(self) -> CognitoIdpUserPool:
        """The demo user pool."""
        return self.backend.user_pools[seed.USER_POOL_ID]

    def client(self, client_id: str) -> CognitoIdpUserPoolClient | None:
        """An app client of the demo pool, or None."""
        pool = self.backend.user_pools.get(seed.USER_POOL_ID)
        return pool.clients.get(client_id) if pool else None

    def clear(self) -> None:
        """Forget codes, sessions, refresh tokens, TOTP state and mail."""
        with self.lock:
            for store in (
                self.codes,
                self.hosted_sessions,
                self.pending_signins,
                self.refresh_sessions,
                self.revoked_origins,
                self.totp_secrets,
                self.totp_last_steps,
            ):
                store.clear()
            self.inbox.clear()
            self.federation.clear()
            self.identities.clear()
            self.sessions.clear()
            self.flows.clear()
            self.tokens.reset()

    def purge_expired(self) -> None:
        """Drop codes, sessions and pending sign-ins that have expired."""
        now = time.time()
        with self.lock:
            for store in (self.codes, self.hosted_sessions, self.pending_signins):
                for key in [k for k, v in store.items() if v.expires_at < now]:
                    store.pop(key, None)
