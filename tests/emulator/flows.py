"""What a browser and an app do against the emulator, step by step, over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pyotp
import requests
from django.conf import settings

from emulator import seed
from emulator.server import Emulator

REDIRECT_URI = f"{settings.APP_URL}/accounts/callback/"
LOGOUT_URI = f"{settings.APP_URL}/"
USERS = {user.username: user for user in seed.DEMO_USERS}
_CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
_PENDING = re.compile(r'name="pending" value="([^"]+)"')
_ERROR = re.compile(r'data-testid="error">([^<]*)<')


def wrong_code(code: str) -> str:
    """Another six-digit code: never the right one."""
    return f"{(int(code) + 1) % 10**6:06d}"


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


def authorize_params(**overrides: str | None) -> dict[str, str]:
    """A valid authorization request of the demo app, with overrides (None drops a parameter)."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": seed.CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": "state-123",
        "nonce": "nonce-456",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def query_of(response: requests.Response) -> dict[str, str]:
    """The query parameters of a redirect's Location."""
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def page_error(response: requests.Response) -> str | None:
    """The text of the page's `data-testid="error"` element."""
    match = _ERROR.search(response.text)
    return match.group(1) if match else None


def totp_code(username: str, *, steps_ahead: int = 0) -> str:
    """The user's TOTP code for now (or a later 30 s step, to sign in twice within one step)."""
    secret = USERS[username].totp_secret
    assert secret
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


class Browser:
    """A cookie jar that follows no redirects, so each hop can be checked."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.http = requests.Session()

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self._url(path), allow_redirects=False, timeout=5, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.post(self._url(path), allow_redirects=False, timeout=5, **kwargs)

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.emulator.url}{path}"

    def authorize(self, **overrides: str | None) -> requests.Response:
        return self.get("/oauth2/authorize", params=authorize_params(**overrides))

    def open_login(self, **overrides: str | None) -> tuple[str, str]:
        """Follow authorize to the sign-in page; return the page's path and its CSRF token."""
        response = self.authorize(**overrides)
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
        assert location.startswith("/login?")
        page = self.get(location)
        assert page.status_code == 200
        return location, _CSRF.search(page.text).group(1)

    def submit_password(
        self, username: str, password: str | None = None, **overrides: str | None
    ) -> requests.Response:
        """Authorize, then post the sign-in form."""
        login_path, csrf = self.open_login(**overrides)
        password = USERS[username].password if password is None else password
        return self.post(
            login_path, data={"username": username, "password": password, "_csrf": csrf}
        )

    def submit_mfa(self, mfa_page: requests.Response, code: str) -> requests.Response:
        """Post a TOTP code on the MFA page."""
        csrf = _CSRF.search(mfa_page.text).group(1)
        pending = _PENDING.search(mfa_page.text).group(1)
        return self.post("/mfa", data={"code": code, "pending": pending, "_csrf": csrf})

    def sign_in(self, username: str, *, steps_ahead: int = 0, **overrides: str | None) -> str:
        """Managed login of a demo user (the password only without a session); returns the code."""
        response = self.authorize(**overrides)
        if response.headers["Location"].startswith("/login?"):
            response = self.submit_password(username, **overrides)
            if USERS[username].mfa == "totp":
                assert response.status_code == 200, response.text
                response = self.submit_mfa(response, totp_code(username, steps_ahead=steps_ahead))
        assert response.status_code == 302, response.text
        params = query_of(response)
        assert params.get("state") == overrides.get("state", "state-123")
        return params["code"]


def exchange(
    emulator: Emulator,
    code: str,
    *,
    verifier: str | None = None,
    redirect_uri: str = REDIRECT_URI,
    basic: bool = True,
) -> requests.Response:
    """The app's code exchange at the token endpoint."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    return token_request(emulator, data, basic=basic)


def token_request(
    emulator: Emulator,
    data: dict[str, str],
    *,
    basic: bool = True,
    secret: str = seed.CLIENT_SECRET,
) -> requests.Response:
    """A POST to the token endpoint, client authenticated by Basic or in the body."""
    if basic:
        return requests.post(
            f"{emulator.url}/oauth2/token", data=data, auth=(seed.CLIENT_ID, secret), timeout=5
        )
    body = {**data, "client_id": seed.CLIENT_ID, "client_secret": secret}
    return requests.post(f"{emulator.url}/oauth2/token", data=body, timeout=5)


def jwks_client(emulator: Emulator) -> jwt.PyJWKClient:
    """A JWKS client for the emulator's keys, found through discovery."""
    discovery = requests.get(f"{emulator.issuer}/.well-known/openid-configuration", timeout=5)
    return jwt.PyJWKClient(discovery.json()["jwks_uri"], cache_keys=False)


def verify(emulator: Emulator, token: str, *, token_use: str) -> dict[str, Any]:
    """Verify a token as an app must: signature against the JWKS, issuer, expiry, audience."""
    key = jwks_client(emulator).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        issuer=emulator.issuer,
        audience=seed.CLIENT_ID if token_use == "id" else None,
        options={"verify_aud": token_use == "id", "require": ["exp", "iat", "iss"]},
    )
    assert claims["token_use"] == token_use
    if token_use == "access":
        assert claims["client_id"] == seed.CLIENT_ID
    return claims


def userinfo(emulator: Emulator, access_token: str) -> requests.Response:
    return requests.get(
        f"{emulator.url}/oauth2/userInfo",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=5,
    )


def signed_in_tokens(emulator: Emulator, username: str = "bob", **overrides: str | None) -> dict:
    """Tokens for a demo user through managed login and the code exchange."""
    code = Browser(emulator).sign_in(username, **overrides)
    response = exchange(emulator, code)
    assert response.status_code == 200, response.text
    return response.json()
