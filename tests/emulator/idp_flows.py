"""What a browser does at the local identity providers, hop by hop, over real HTTP."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin

import pyotp
import requests

from emulator.idps import IDENTITY_PROVIDERS, IdpSpec, IdpUser

SPECS = {spec.name: spec for spec in IDENTITY_PROVIDERS}
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def idp_user(provider: str, username: str) -> IdpUser:
    user = SPECS[provider].user(username)
    assert user is not None
    return user


def form_of(page: requests.Response) -> tuple[str, dict[str, str]]:
    """The page's first form: its absolute action and hidden fields."""
    action = _ACTION.search(page.text)
    assert action, page.text[:500]
    fields = {name: unescape(value) for name, value in _HIDDEN.findall(page.text)}
    return urljoin(page.url, unescape(action.group(1))), fields


class IdpBrowser:
    """A cookie jar that follows no redirects, through the pool and a local IdP."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.http.trust_env = False

    def get(self, url: str, **kwargs: object) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=10, **kwargs)

    def post(self, url: str, **kwargs: object) -> requests.Response:
        return self.http.post(url, allow_redirects=False, timeout=10, **kwargs)

    def open_idp(self, authorize_url: str) -> requests.Response:
        """From the pool's authorize URL to the IdP's sign-in page."""
        response = self.get(authorize_url)
        assert response.status_code == 302, response.text[:300]
        page = self.get(response.headers["Location"])
        assert page.status_code == 200, page.text[:300]
        assert 'data-testid="password"' in page.text
        return page

    def submit(
        self, page: requests.Response, *, action: str = "sign-in", **fields: str
    ) -> requests.Response:
        url, hidden = form_of(page)
        return self.post(url, data={**hidden, "action": action, **fields})

    def sign_in_at_idp(
        self, page: requests.Response, user: IdpUser, *, password: str | None = None
    ) -> requests.Response:
        """Password, then the TOTP step when the user has one: the IdP's answer to the pool."""
        answer = self.submit(
            page,
            username=user.username,
            password=user.password if password is None else password,
        )
        if user.totp_secret and answer.status_code == 200 and 'name="code"' in answer.text:
            answer = self.submit(answer, code=totp_now(user.totp_secret))
        return answer

    def back_to_pool(self, answer: requests.Response) -> requests.Response:
        """Deliver the IdP's answer to the pool: follow its redirect, or post its SAML form."""
        if answer.status_code == 302:
            return self.get(answer.headers["Location"])
        assert answer.status_code == 200 and "SAMLResponse" in answer.text, answer.text[:300]
        url, fields = form_of(answer)
        return self.post(url, data=fields)


def totp_now(secret: str) -> str:
    """The TOTP code for now (each test starts from a reset IdP, so it is unused)."""
    return pyotp.TOTP(secret).now()


def spec(provider: str) -> IdpSpec:
    return SPECS[provider]
