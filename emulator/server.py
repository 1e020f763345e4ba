"""The local Cognito: moto plus managed login, OAuth2 endpoints and the demo seed, on one port."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from emulator import seed, world
from emulator.app import create_app
from emulator.idps import IDENTITY_PROVIDERS
from emulator.inbox import Inbox
from emulator.serving import QuietRequestHandler, serve_in_thread, shut_down
from emulator.state import EmulatorState
from emulator.tokens import install_moto_signing, process_keys, uninstall_moto_signing
from emulator.usernames import install_case_insensitive_lookup, uninstall_case_insensitive_lookup


class Emulator:
    """The emulator as a threaded server: `Emulator().start()`, then `.url`, `.reset()`, `.stop()`.

    Only one Emulator per process is supported: moto's backends are process-global, and the
    emulator replaces moto's token signing for the whole process while it runs.

    Short-lived tokens for tests: set the demo client's validity as on AWS, e.g.
    `UpdateUserPoolClient(AccessTokenValidity=2, TokenValidityUnits={"AccessToken": "seconds"})`
    (the emulator accepts any number of seconds; AWS wants 5 minutes or more); every token issued
    afterwards, by the token endpoint or by InitiateAuth, lives that long until `reset()`.
    """

    _running: Emulator | None = None

    def __init__(
        self,
        host: str = "localhost",
        port: int = 0,
        *,
        access_keys: Mapping[str, str] | None = None,
    ) -> None:
        """`access_keys` (id -> secret) are the account's keys; the seed's pair by default."""
        self.host = host
        self.port = port
        self.state = EmulatorState(keys=process_keys())
        if access_keys is not None:
            self.state.access_keys = dict(access_keys)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Emulator:
        """Bind (port 0 picks a free port), provision the seed and serve in a daemon thread."""
        if Emulator._running is not None:
            raise RuntimeError("An Emulator is already running in this process.")
        from moto.moto_server.werkzeug_app import MotoRequestHandler

        class RequestHandler(QuietRequestHandler, MotoRequestHandler):
            pass

        self._server = make_server(
            self.host,
            self.port,
            create_app(self.state),
            threaded=True,
            request_handler=RequestHandler,
        )
        self.port = self._server.server_port
        self.state.set_url(f"http://{self.host}:{self.port}")
        install_moto_signing(self.state.tokens)
        install_case_insensitive_lookup()
        self.state.federation.start()  # the local IdPs, each on a port of its own
        world.reset(self.state)
        self._thread = serve_in_thread(self._server, name="cognito-emulator")
        Emulator._running = self
        return self

    def stop(self) -> None:
        """Stop serving and give moto its own token signing and user lookup back."""
        shut_down(self._server, self._thread)
        self._server = self._thread = None
        uninstall_moto_signing()
        uninstall_case_insensitive_lookup()
        self.state.federation.stop()
        if Emulator._running is self:
            Emulator._running = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL of the API, the issuer and the managed login, e.g. `http://localhost:54321`."""
        return self.state.url

    @property
    def issuer(self) -> str:
        """The local issuer of the demo pool: `{url}/{pool id}`."""
        return self.state.issuer

    @property
    def domain(self) -> str:
        """The managed-login base URL (the emulator's own origin)."""
        return self.state.url

    @property
    def idps(self) -> dict[str, str]:
        """The local identity providers' base URLs, by provider name."""
        return {name: idp.url for name, idp in self.state.federation.idps.items()}

    @property
    def inbox(self) -> Inbox:
        """Every message the user pool sent: iterate it or call `.messages()`; `.send()` adds."""
        return self.state.inbox

    def add_app_url(self, app_url: str) -> None:
        """Register `{app_url}/accounts/callback/` and `{app_url}/` with the demo client."""
        base = app_url.rstrip("/")
        with self.state.lock:
            for urls, url in (
                (self.state.callback_urls, f"{base}/accounts/callback/"),
                (self.state.logout_urls, f"{base}/"),
            ):
                if url not in urls:
                    urls.append(url)
            client = self.state.client(seed.CLIENT_ID)
            if client is not None:
                client.extended_config["CallbackURLs"] = list(self.state.callback_urls)
                client.extended_config["LogoutURLs"] = list(self.state.logout_urls)

    def reset(self) -> None:
        """Restore the demo world to its seed (fast: it runs before every test that uses it)."""
        world.reset(self.state)

    def manifest(self, app_url: str) -> dict[str, Any]:
        """The test-target manifest (DESIGN.md) for a site served at `app_url`."""
        return {
            "app_url": app_url,
            "region": seed.REGION,
            "user_pool_id": seed.USER_POOL_ID,
            "client_id": seed.CLIENT_ID,
            "client_secret": seed.CLIENT_SECRET,
            "public_client_id": seed.PUBLIC_CLIENT_ID,
            "machine_client": {
                "client_id": seed.MACHINE_CLIENT_ID,
                "client_secret": seed.MACHINE_CLIENT_SECRET,
                "scopes": list(seed.MACHINE_SCOPES),
            },
            "issuer": self.issuer,
            "managed_login_url": self.domain,
            "aws_endpoint_url": self.url,
            # The only long-term key the emulator accepts (SigV4 is checked), for admin calls.
            "aws_access_key_id": next(iter(self.state.access_keys)),
            "aws_secret_access_key": next(iter(self.state.access_keys.values())),
            "inbox_url": f"{self.url}/inbox.json",
            "reset_url": f"{self.url}/reset",
            "identity_pool_id": seed.IDENTITY_POOL_ID,
            "bucket": seed.BUCKET,
            "users": [
                {
                    "username": user.username,
                    "password": user.password,
                    "email": user.email,
                    "mfa": user.mfa,
                    **({"totp_secret": user.totp_secret} if user.mfa == "totp" else {}),
                    **({"phone_number": user.phone_number} if user.phone_number else {}),
                    **({"must_change_password": True} if user.must_change_password else {}),
                }
                for user in seed.DEMO_USERS
            ]
            + [
                # Choice-based sign-in (USER_AUTH): grace has no password at all, only codes;
                # heidi has a password and a registered passkey whose key a test may load.
                {
                    "username": seed.PASSWORDLESS_USER.username,
                    "password": None,
                    "email": seed.PASSWORDLESS_USER.email,
                    "phone_number": seed.PASSWORDLESS_USER.phone_number,
                    "mfa": "none",
                    "first_factors": ["EMAIL_OTP", "SMS_OTP"],
                },
                {
                    "username": seed.PASSKEY_USER.username,
                    "password": seed.PASSKEY_USER.password,
                    "email": seed.PASSKEY_USER.email,
                    "mfa": "none",
                    "first_factors": ["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"],
                    "passkey": {
                        "credential_id": seed.PASSKEY_CREDENTIAL_ID,
                        "private_key": seed.PASSKEY_PRIVATE_KEY,
                        "rp_id": seed.WEBAUTHN_RELYING_PARTY_ID,
                    },
                },
            ],
            "identity_providers": [
                {
                    "name": spec.name,
                    "type": spec.type,
                    "display_name": spec.display_name,
                    "url": self.idps.get(spec.name),
                    "email_domains": list(spec.identifiers),
                    "users": [
                        {
                            "username": user.username,
                            "password": user.password,
                            "email": user.email,
                            "email_verified": user.email_verified,
                            "mfa": "totp" if user.totp_secret else "none",
                            **({"totp_secret": user.totp_secret} if user.totp_secret else {}),
                            **({"refused": True} if user.refused else {}),
                        }
                        for user in spec.users
                    ],
                }
                for spec in IDENTITY_PROVIDERS
            ],
        }
