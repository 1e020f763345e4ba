"""Local identity providers a person can sign in at, each a small server on its own origin.

Three kinds, as a user pool meets them: a social provider (configured in the pool as Google is),
a generic OpenID Connect provider, and a SAML 2.0 provider (signed assertions, pysaml2). Each has
its own users, a sign-in page with a Cancel button, and a TOTP step for users that have a secret.
They share nothing with the user pool but what an admin would configure: client credentials,
endpoints or metadata, and the pool's `/oauth2/idpresponse` or `/saml2/idpresponse` URL.
"""

from __future__ import annotations

import functools
import hmac
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import jwt
import pyotp
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from emulator import pages, saml
from emulator.responses import json_response, redirect, with_query
from emulator.serving import QuietRequestHandler, serve_in_thread, shut_down
from emulator.tokens import SigningKey, new_opaque_token

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

PENDING_SECONDS = 5 * 60
ID_TOKEN_SECONDS = 5 * 60


@dataclass(frozen=True)
class IdpUser:
    """A user of a local IdP: what they type, and what the IdP says about them."""

    username: str
    password: str
    subject: str
    email: str
    email_verified: bool = True
    given_name: str = ""
    family_name: str = ""
    totp_secret: str | None = None
    # The IdP knows this user but refuses to sign them in (a disabled account, a policy).
    refused: bool = False

    def claims(self) -> dict[str, Any]:
        """What the IdP asserts about the user (OIDC claim names)."""
        claims: dict[str, Any] = {
            "email": self.email,
            "email_verified": self.email_verified,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "name": f"{self.given_name} {self.family_name}".strip(),
        }
        return {name: value for name, value in claims.items() if value != ""}


@dataclass(frozen=True)
class IdpSpec:
    """One IdP as the pool is configured for it: name, type, domains, client and users."""

    name: str
    type: str  # the pool's ProviderType: Google, OIDC or SAML
    display_name: str
    users: tuple[IdpUser, ...]
    identifiers: tuple[str, ...] = ()
    client_id: str = ""
    client_secret: str = ""
    attribute_mapping: tuple[tuple[str, str], ...] = ()

    def user(self, username: str) -> IdpUser | None:
        return next((u for u in self.users if u.username == username.strip().lower()), None)


@dataclass(frozen=True)
class _Pending:
    """A sign-in in progress at the IdP: what to answer the relying party when it ends."""

    kind: str  # oidc or saml
    params: dict[str, str]
    expires_at: float
    username: str = ""


@dataclass(frozen=True)
class _Code:
    username: str
    nonce: str | None
    expires_at: float


class LocalIdp:
    """A local IdP as a threaded server: `start()`, `url`, `stop()`, `clear()`."""

    def __init__(self, spec: IdpSpec, host: str = "localhost") -> None:
        self.spec = spec
        self.host = host
        self.url = ""
        self.relying_party_urls: list[str] = []
        self._pending: dict[str, _Pending] = {}
        self._codes: dict[str, _Code] = {}
        self._totp_last_steps: dict[str, int] = {}
        self._lock = threading.RLock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._urls = Map(self.rules(), strict_slashes=False)

    # --- the server --------------------------------------------------------------------------
    def rules(self) -> list[Rule]:
        return [
            Rule("/login", endpoint=self.login, methods=["POST"]),
            Rule("/mfa", endpoint=self.mfa, methods=["POST"]),
        ]

    def start(self) -> LocalIdp:
        """Serve on a free port of `host` in a daemon thread."""
        self._server = make_server(
            self.host, 0, self._app, threaded=True, request_handler=QuietRequestHandler
        )
        self.url = f"http://{self.host}:{self._server.server_port}"
        self.configure()
        self._thread = serve_in_thread(self._server, name=f"idp-{self.spec.name}")
        return self

    def configure(self) -> None:
        """Build what depends on the IdP's own URL (known once bound)."""

    def stop(self) -> None:
        shut_down(self._server, self._thread)
        self._server = self._thread = None

    def clear(self) -> None:
        """Forget sign-ins in progress, codes and used TOTP codes."""
        with self._lock:
            self._pending.clear()
            self._codes.clear()
            self._totp_last_steps.clear()

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == "/site.css":  # the stylesheet its pages link (emulator/pages.py)
            return pages.stylesheet()(environ, start_response)
        try:
            endpoint, args = self._urls.bind_to_environ(environ).match()
            response = endpoint(request, **args)
        except NotFound:
            response = pages.error_page("not_found")
            response.status_code = 404
        except HTTPException as exc:
            response = pages.error_page("invalid_request")
            response.status_code = exc.code or 400
        return response(environ, start_response)

    # --- the pages ---------------------------------------------------------------------------
    def login_page(self, pending_id: str, *, error: str | None = None) -> Response:
        """Username and password, and a way out (Cancel) that tells the relying party."""
        error_html = f'<p class="error" data-testid="error">{escape(error)}</p>' if error else ""
        body = (
            f"{error_html}"
            f'<form method="post" action="/login"><input type="hidden" name="pending"'
            f' value="{escape(pending_id)}">'
            '<label for="username">Username</label>'
            '<input id="username" name="username" data-testid="username" autocomplete="username"'
            " autofocus>"
            '<label for="password">Password</label>'
            '<input id="password" name="password" type="password" data-testid="password"'
            ' autocomplete="current-password">'
            '<button type="submit" name="action" value="sign-in" data-testid="submit">Sign in'
            "</button>"
            '<button type="submit" name="action" value="cancel" data-testid="idp-cancel"'
            ' formnovalidate style="background:#545b64">Cancel</button></form>'
        )
        return pages.page(f"Sign in to {self.spec.display_name}", body)

    def mfa_page(self, pending_id: str, *, error: str | None = None) -> Response:
        error_html = f'<p class="error" data-testid="error">{escape(error)}</p>' if error else ""
        body = (
            f"{error_html}"
            f'<form method="post" action="/mfa"><input type="hidden" name="pending"'
            f' value="{escape(pending_id)}">'
            '<label for="mfa-code">Code from your authenticator app</label>'
            '<input id="mfa-code" name="code" data-testid="mfa-code" inputmode="numeric"'
            ' autocomplete="one-time-code" required autofocus>'
            '<button type="submit" data-testid="submit">Verify</button></form>'
        )
        return pages.page(f"{self.spec.display_name}: two-step verification", body)

    def begin(self, kind: str, params: dict[str, str]) -> Response:
        """Remember the relying party's request and show the sign-in page."""
        pending_id = new_opaque_token()
        with self._lock:
            self._pending[pending_id] = _Pending(
                kind=kind, params=params, expires_at=time.time() + PENDING_SECONDS
            )
        return self.login_page(pending_id)

    def login(self, request: Request) -> Response:
        """POST: check the password (or cancel), then finish or ask for the TOTP code."""
        pending_id = request.form.get("pending", "")
        pending = self._live_pending(pending_id)
        if request.form.get("action") == "cancel":
            self._drop(pending_id)
            return self.deny(pending, "access_denied", "The user cancelled the sign-in.")
        user = self.spec.user(request.form.get("username", ""))
        password = request.form.get("password", "")
        if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
            return self.login_page(pending_id, error="Incorrect username or password.")
        if user.refused:
            self._drop(pending_id)
            return self.deny(pending, "access_denied", "This account may not sign in here.")
        if user.totp_secret:
            with self._lock:
                self._pending[pending_id] = _Pending(
                    kind=pending.kind,
                    params=pending.params,
                    expires_at=pending.expires_at,
                    username=user.username,
                )
            return self.mfa_page(pending_id)
        self._drop(pending_id)
        return self.finish(pending, user)

    def mfa(self, request: Request) -> Response:
        """POST: check the TOTP code of the user whose password was right."""
        pending_id = request.form.get("pending", "")
        pending = self._live_pending(pending_id)
        user = self.spec.user(pending.username) if pending.username else None
        if user is None:
            return pages.error_page("session_expired")
        if not self._totp_accept(user, request.form.get("code", "")):
            return self.mfa_page(pending_id, error="That code is not valid. Try the next one.")
        self._drop(pending_id)
        return self.finish(pending, user)

    # --- what each kind answers --------------------------------------------------------------
    def finish(self, pending: _Pending, user: IdpUser) -> Response:
        raise NotImplementedError

    def deny(self, pending: _Pending, error: str, description: str) -> Response:
        raise NotImplementedError

    # --- helpers -----------------------------------------------------------------------------
    def _live_pending(self, pending_id: str) -> _Pending:
        with self._lock:
            pending = self._pending.get(pending_id)
        if pending is None or pending.expires_at < time.time():
            raise _Expired()
        return pending

    def _drop(self, pending_id: str) -> None:
        with self._lock:
            self._pending.pop(pending_id, None)

    def _totp_accept(self, user: IdpUser, code: str) -> bool:
        """One step of tolerance either way; each accepted code only once."""
        code = code.strip()
        if not user.totp_secret or len(code) != 6 or not code.isdigit():
            return False
        totp = pyotp.TOTP(user.totp_secret)
        now_step = int(time.time()) // 30
        for step in (now_step - 1, now_step, now_step + 1):
            if hmac.compare_digest(totp.at(step * 30).encode(), code.encode()):
                with self._lock:
                    if step <= self._totp_last_steps.get(user.username, -1):
                        return False
                    self._totp_last_steps[user.username] = step
                return True
        return False


class _Expired(HTTPException):
    code = 400


@functools.cache
def _signing_key(name: str) -> SigningKey:
    """One key per IdP per process (key generation is the slow part of a start)."""
    return SigningKey.generate()


class OidcIdp(LocalIdp):
    """An OpenID Connect provider: discovery, JWKS, authorize (code flow), token."""

    def __init__(self, spec: IdpSpec, host: str = "localhost") -> None:
        super().__init__(spec, host)
        self.key = _signing_key(spec.name)
        # Fault injection for tests: `id_token()` overrides (audience, issuer, key) for the
        # tokens this IdP issues, as a misconfigured or hostile IdP would; `clear()` resets it.
        self.tamper: dict[str, Any] = {}

    def rules(self) -> list[Rule]:
        return [
            *super().rules(),
            Rule("/.well-known/openid-configuration", endpoint=self.discovery, methods=["GET"]),
            Rule("/jwks.json", endpoint=self.jwks, methods=["GET"]),
            Rule("/authorize", endpoint=self.authorize, methods=["GET"]),
            Rule("/token", endpoint=self.token, methods=["POST"]),
        ]

    @property
    def issuer(self) -> str:
        return self.url

    def clear(self) -> None:
        super().clear()
        self.tamper = {}

    def discovery(self, request: Request) -> Response:
        return json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks.json",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    def jwks(self, request: Request) -> Response:
        return json_response({"keys": [self.key.public_jwk()]})

    def authorize(self, request: Request) -> Response:
        """The relying party's request: this IdP's client, one of its registered redirect URIs."""
        args = request.args
        if args.get("client_id") != self.spec.client_id or args.get("redirect_uri") not in (
            self.relying_party_urls
        ):
            return pages.error_page("invalid_client_or_redirect_uri")
        if args.get("response_type") != "code":
            return redirect(
                with_query(
                    args["redirect_uri"],
                    {"error": "unsupported_response_type", "state": args.get("state")},
                )
            )
        params = {
            name: args[name]
            for name in ("redirect_uri", "state", "nonce", "scope")
            if args.get(name) is not None
        }
        return self.begin("oidc", params)

    def finish(self, pending: _Pending, user: IdpUser) -> Response:
        code = new_opaque_token()
        with self._lock:
            self._codes[code] = _Code(
                username=user.username,
                nonce=pending.params.get("nonce"),
                expires_at=time.time() + 60,
            )
        target = pending.params["redirect_uri"]
        return redirect(with_query(target, {"code": code, "state": pending.params.get("state")}))

    def deny(self, pending: _Pending, error: str, description: str) -> Response:
        target = pending.params["redirect_uri"]
        params = {"error": error, "error_description": description}
        return redirect(with_query(target, {**params, "state": pending.params.get("state")}))

    def token(self, request: Request) -> Response:
        """authorization_code only; the client authenticates by Basic or in the body."""
        authorization = request.authorization
        if authorization is not None and authorization.type == "basic":
            client_id = unquote_plus(authorization.username or "")
            secret = unquote_plus(authorization.password or "")
        else:
            client_id = request.form.get("client_id", "")
            secret = request.form.get("client_secret", "")
        if client_id != self.spec.client_id or not hmac.compare_digest(
            secret.encode(), self.spec.client_secret.encode()
        ):
            return json_response({"error": "invalid_client"}, status=401)
        if request.form.get("grant_type") != "authorization_code":
            return json_response({"error": "unsupported_grant_type"}, status=400)
        with self._lock:
            issued = self._codes.pop(request.form.get("code", ""), None)
        if issued is None or issued.expires_at < time.time():
            return json_response({"error": "invalid_grant"}, status=400)
        user = self.spec.user(issued.username)
        assert user is not None
        return json_response(
            {
                "access_token": new_opaque_token(),
                "token_type": "Bearer",
                "expires_in": ID_TOKEN_SECONDS,
                "id_token": self.id_token(user, nonce=issued.nonce, **self.tamper),
            }
        )

    def id_token(
        self,
        user: IdpUser,
        *,
        nonce: str | None,
        audience: str | None = None,
        issuer: str | None = None,
        key: SigningKey | None = None,
    ) -> str:
        """An ID token for `user` (tests pass another audience, issuer or key to forge one)."""
        now = int(time.time())
        claims = {
            "iss": issuer or self.issuer,
            "sub": user.subject,
            "aud": audience or self.spec.client_id,
            "iat": now,
            "exp": now + ID_TOKEN_SECONDS,
            "auth_time": now,
            **user.claims(),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        signer = key or self.key
        return jwt.encode(
            claims, signer.private_key, algorithm="RS256", headers={"kid": signer.kid}
        )


class SamlIdp(LocalIdp):
    """A SAML 2.0 provider: metadata, single sign-on (HTTP-Redirect in, HTTP-POST out)."""

    def __init__(self, spec: IdpSpec, host: str = "localhost") -> None:
        super().__init__(spec, host)
        self._saml_server: Any = None
        self._metadata_xml = ""
        self.service_providers: list[tuple[str, str]] = []  # (entity ID, ACS URL)

    def rules(self) -> list[Rule]:
        return [
            *super().rules(),
            Rule("/metadata", endpoint=self.metadata, methods=["GET"]),
            Rule("/sso", endpoint=self.sso, methods=["GET"]),
        ]

    @property
    def entity_id(self) -> str:
        return f"{self.url}/metadata"

    @property
    def certificate(self) -> saml.Certificate:
        return saml.certificate(f"{self.spec.name} local SAML IdP")

    def trust(self, *, entity_id: str, acs_url: str) -> None:
        """Know a service provider (a user pool), as an admin registers it at the IdP."""
        with self._lock:
            if (entity_id, acs_url) in self.service_providers:
                return
            self.service_providers.append((entity_id, acs_url))
            self._saml_server = None  # rebuilt, knowing this provider too, when next used
            self._metadata_xml = saml.idp_metadata(
                entity_id=self.entity_id, sso_url=f"{self.url}/sso", cert=self.certificate
            )

    @property
    def server(self) -> Any:
        """The pysaml2 IdP, built by the first SAML request rather than at start (seconds)."""
        with self._lock:
            if self._saml_server is None:
                self._saml_server = saml.idp_server(
                    entity_id=self.entity_id,
                    sso_url=f"{self.url}/sso",
                    cert=self.certificate,
                    sp_metadata_xml=[
                        saml.sp_metadata(entity_id=sp, acs_url=acs)
                        for sp, acs in self.service_providers
                    ],
                )
            return self._saml_server

    def metadata_xml(self) -> str:
        return self._metadata_xml

    def metadata(self, request: Request) -> Response:
        return Response(self.metadata_xml(), content_type="application/samlmetadata+xml")

    def sso(self, request: Request) -> Response:
        """An AuthnRequest from a known service provider, with its RelayState."""
        try:
            parsed = self.server.parse_authn_request(
                request.args.get("SAMLRequest", ""), saml.BINDING_HTTP_REDIRECT
            )
            message = parsed.message
            entity_id = message.issuer.text
        except Exception:
            return pages.error_page("invalid_saml_request")
        acs = next((a for sp, a in self.service_providers if sp == entity_id), None)
        if acs is None:
            return pages.error_page("unknown_service_provider")
        params = {
            "request_id": message.id,
            "audience": entity_id,
            "acs": acs,
            "relay_state": request.args.get("RelayState", ""),
        }
        return self.begin("saml", params)

    def finish(self, pending: _Pending, user: IdpUser) -> Response:
        return self.post_to_acs(
            pending.params,
            saml.signed_response(
                self.server,
                in_response_to=pending.params["request_id"],
                destination=pending.params["acs"],
                audience=pending.params["audience"],
                name_id=user.subject,
                attributes=self.attributes(user),
            ),
        )

    def deny(self, pending: _Pending, error: str, description: str) -> Response:
        return self.post_to_acs(
            pending.params,
            saml.error_response(
                self.server,
                in_response_to=pending.params["request_id"],
                destination=pending.params["acs"],
                message=description,
            ),
        )

    @staticmethod
    def attributes(user: IdpUser) -> dict[str, str]:
        """The SAML attributes this IdP releases (names as many enterprise IdPs send them)."""
        claims = user.claims()
        return {
            "email": claims["email"],
            "firstName": claims.get("given_name", ""),
            "lastName": claims.get("family_name", ""),
        }

    @staticmethod
    def post_to_acs(params: dict[str, str], saml_response: str) -> Response:
        """The HTTP-POST binding: a form the browser submits to the pool's ACS by itself."""
        body = (
            f'<form method="post" action="{escape(params["acs"])}" id="saml-post">'
            f'<input type="hidden" name="SAMLResponse" value="{escape(saml_response)}">'
            f'<input type="hidden" name="RelayState" value="{escape(params["relay_state"])}">'
            '<noscript><button type="submit">Continue</button></noscript></form>'
            "<script>document.getElementById('saml-post').submit()</script>"
        )
        return pages.page("Signing you in", body)


def local_idp(spec: IdpSpec) -> LocalIdp:
    """The server for an IdP of this type."""
    return SamlIdp(spec) if spec.type == "SAML" else OidcIdp(spec)


# Google and the generic OIDC provider send the standard claims; the pool maps them alike.
_OIDC_ATTRIBUTE_MAPPING = (
    ("email", "email"),
    ("email_verified", "email_verified"),
    ("given_name", "given_name"),
    ("family_name", "family_name"),
    ("username", "sub"),
)

IDENTITY_PROVIDERS: tuple[IdpSpec, ...] = (
    IdpSpec(
        name="Google",
        type="Google",
        display_name="Google",
        client_id="local-social-client.apps.example",
        client_secret="local-social-client-secret-0123456789",
        attribute_mapping=_OIDC_ATTRIBUTE_MAPPING,
        users=(
            IdpUser(
                username="gina@gmail.example",
                password="Gina-Social-Passw0rd!",
                subject="104857600000000000001",
                email="gina@gmail.example",
                given_name="Gina",
                family_name="Social",
            ),
        ),
    ),
    IdpSpec(
        name="ExampleOIDC",
        type="OIDC",
        display_name="Example Corp (OIDC)",
        identifiers=("oidc.example.com",),
        client_id="cognito-demo-pool",
        client_secret="example-oidc-client-secret-0123456789",
        attribute_mapping=_OIDC_ATTRIBUTE_MAPPING,
        users=(
            IdpUser(
                username="olivia@oidc.example.com",
                password="Olivia-Oidc-Passw0rd!",
                subject="oidc-user-0001",
                email="olivia@oidc.example.com",
                given_name="Olivia",
                family_name="Oidc",
                totp_secret="OLIVIAOIDCTOTPSECRET2345",
            ),
            IdpUser(
                username="oscar@oidc.example.com",
                password="Oscar-Oidc-Passw0rd!",
                subject="oidc-user-0002",
                email="oscar@oidc.example.com",
                email_verified=False,
                given_name="Oscar",
                family_name="Unverified",
            ),
            IdpUser(
                username="otto@oidc.example.com",
                password="Otto-Oidc-Passw0rd!",
                subject="oidc-user-0003",
                email="otto@oidc.example.com",
                refused=True,
            ),
        ),
    ),
    IdpSpec(
        name="ExampleSAML",
        type="SAML",
        display_name="Example Corp (SAML)",
        identifiers=("saml.example.com",),
        attribute_mapping=(
            ("email", "email"),
            ("given_name", "firstName"),
            ("family_name", "lastName"),
        ),
        users=(
            IdpUser(
                username="sofia@saml.example.com",
                password="Sofia-Saml-Passw0rd!",
                subject="sofia@saml.example.com",
                email="sofia@saml.example.com",
                given_name="Sofia",
                family_name="Saml",
                totp_secret="SOFIASAMLTOTPSECRET23456",
            ),
            IdpUser(
                username="sam@saml.example.com",
                password="Sam-Saml-Passw0rd!",
                subject="sam@saml.example.com",
                email="sam@saml.example.com",
                given_name="Sam",
                family_name="Saml",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class FederatedRequest:
    """An authorize request handed to an IdP, waiting for its answer (keyed by our relay state)."""

    provider: str
    query: str
    nonce: str
    saml_request_id: str | None
    expires_at: float


@dataclass
class Federation:
    """The local IdPs (kept across resets) and the sign-ins in flight at them (not kept)."""

    idps: dict[str, LocalIdp] = field(default_factory=dict)
    requests: dict[str, FederatedRequest] = field(default_factory=dict)

    def start(self) -> None:
        """Start one local IdP server per seeded provider, each on its own port."""
        for spec in IDENTITY_PROVIDERS:
            if spec.name not in self.idps:
                self.idps[spec.name] = local_idp(spec).start()

    def stop(self) -> None:
        for idp in self.idps.values():
            idp.stop()
        self.idps.clear()

    def clear(self) -> None:
        self.requests.clear()
        for idp in self.idps.values():
            idp.clear()
