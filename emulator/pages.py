"""The managed-login pages: small inline HTML, every value escaped, `data-testid` for tests."""

from __future__ import annotations

import datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

from werkzeug.wrappers import Response

from emulator import branding
from emulator.inbox import Message

# The site's own stylesheet (static/site.css), so managed login and the inbox look like the site;
# a client's branding (its colours, logo) goes over it.
STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "site.css"
_STYLE = ".brand-logo{display:block;max-width:10rem;max-height:4rem;margin:0 auto 1rem}"


def page(title: str, body: str, *, status: int = 200, wide: bool = False) -> Response:
    """A whole HTML page around an already-escaped body, in the look of the client that asked."""
    look = branding.current()
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="stylesheet" href="/site.css">'
        f"<style>{_STYLE}{look.css() if look else ''}</style>{look.head() if look else ''}</head>"
        f'<body class="emulator"><main class="{"wide" if wide else ""}">'
        f"{look.banner() if look else ''}<h1>{escape(title)}</h1>{body}"
        '<p class="note">Local Cognito emulator</p></main></body></html>'
    )
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def stylesheet(*_: object) -> Response:
    """`GET /site.css` (the emulator's and each local IdP's): the site's stylesheet, read at each
    request so edits show at once."""
    response = Response(STYLESHEET.read_bytes(), content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache"
    return response


def _error(message: str | None) -> str:
    return f'<p class="error" data-testid="error">{escape(message)}</p>' if message else ""


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def login_page(
    *,
    action: str,
    csrf: str,
    username: str = "",
    error: str | None = None,
    providers: list[str] | None = None,
    query: str = "",
    first_factors: list[str] | None = None,
) -> Response:
    """The sign-in form, a button per third-party IdP, and the pool's passwordless factors."""
    passkeys = "WEB_AUTHN" in (first_factors or [])
    body = (
        f"{_error(error)}{_provider_buttons(providers or [], query)}"
        f'<form method="post" action="{escape(action)}">{_hidden("_csrf", csrf)}'
        f"{PASSKEY_READY_FIELD if passkeys else ''}"
        '<label for="username">Username</label>'
        f'<input id="username" name="username" data-testid="username" autocomplete="username"'
        f' value="{escape(username)}" required autofocus>'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" data-testid="password"'
        ' autocomplete="current-password" required>'
        '<button type="submit" data-testid="submit">Sign in</button></form>'
        f"{PASSKEY_READY_SCRIPT if passkeys else ''}"
    )
    return page(
        "Sign in", body + _passwordless_links(first_factors or [], query) + _account_links(action)
    )


# After a password sign-in, managed login offers a passkey only to a browser that can make one
# (emulator/hostedpasskeys.py): this field is "1" only when the device has a platform
# authenticator that verifies its user ("0" when the script found none; empty without script).
PASSKEY_READY_FIELD = '<input type="hidden" name="passkey_ready" id="passkey-ready" value="">'
PASSKEY_READY_SCRIPT = """<script>
if (window.PublicKeyCredential
    && PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable) {
  const field = document.getElementById("passkey-ready");
  PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable().then(
    (available) => { field.value = available ? "1" : "0"; },
    () => { field.value = "0"; });
}
</script>"""


def _passwordless_links(first_factors: list[str], query: str) -> str:
    """Managed login's other first factors (emulator/hostedpasswordless.py)."""
    links = []
    if "EMAIL_OTP" in first_factors:
        href = escape(f"/login/code?{query}")
        links.append(f'<a href="{href}" data-testid="code-signin-link">Sign in with a code</a>')
    if "WEB_AUTHN" in first_factors:
        href = escape(f"/login/passkey?{query}")
        links.append(
            f'<a href="{href}" data-testid="passkey-signin-link">Sign in with a passkey</a>'
        )
    return f'<p class="note">{" · ".join(links)}</p>' if links else ""


def _account_links(action: str) -> str:
    """Links to sign-up and forgot-password for the same authorize request."""
    query = action.partition("?")[2]
    forgot = escape(f"/forgotPassword?{query}")
    signup = escape(f"/signup?{query}")
    return (
        f'<p class="note"><a href="{forgot}" data-testid="forgot-password-link">'
        "Forgot your password?</a> · "
        f'<a href="{signup}" data-testid="signup-link">Sign up</a></p>'
    )


def _provider_buttons(providers: list[str], query: str) -> str:
    """Links that restart this authorize request with `identity_provider=<name>`."""
    if not providers:
        return ""
    links = "".join(
        f'<li><a href="{escape(f"/oauth2/authorize?{query}&identity_provider={quote(name)}")}"'
        f' data-testid="idp-{escape(name)}">Continue with {escape(name)}</a></li>'
        for name in providers
    )
    return f'<ul class="providers">{links}</ul><p class="note">or sign in with your username</p>'


def mfa_page(*, action: str, csrf: str, pending: str, error: str | None = None) -> Response:
    """The TOTP step of a sign-in."""
    body = (
        f"{_error(error)}"
        f'<form method="post" action="{escape(action)}">{_hidden("_csrf", csrf)}'
        f"{_hidden('pending', pending)}"
        '<label for="mfa-code">Code from your authenticator app</label>'
        '<input id="mfa-code" name="code" data-testid="mfa-code" inputmode="numeric"'
        ' autocomplete="one-time-code" required autofocus>'
        '<button type="submit" data-testid="submit">Sign in</button></form>'
    )
    return page("Multi-factor authentication", body)


def error_page(code: str) -> Response:
    """Cognito's generic error page, always HTTP 400."""
    body = (
        '<p data-testid="error">An error was encountered with the requested page.</p>'
        f'<p class="note">error: <code data-testid="error-code">{escape(code)}</code></p>'
    )
    return page("Error", body, status=400)


def _clock(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%H:%M:%S")


def inbox_page(messages: list[Message], *, sites: list[str]) -> Response:
    """Every message the user pool sent, newest first, and links back to the sites."""
    rows = "".join(
        "<tr>"
        f"<td>{_clock(m.time)}</td>"
        f'<td data-testid="inbox-to">{escape(m.to)}</td><td>{escape(m.subject)}</td>'
        f'<td data-testid="inbox-code">{escape(m.code or "")}</td><td>{escape(m.body)}</td>'
        "</tr>"
        for m in reversed(messages)
    )
    body = (
        '<table data-testid="inbox"><tr><th>Time (UTC)</th><th>To</th><th>Subject</th>'
        f"<th>Code</th><th>Body</th></tr>{rows}</table>"
        if messages
        else '<p data-testid="inbox-empty">No messages yet.</p>'
    )
    back = " · ".join(
        f'<a href="{escape(site)}" data-testid="inbox-back">Back to the site ({escape(site)})</a>'
        for site in sites
    )
    return page("Inbox", (f"<p>{back}</p>" if back else "") + _scrolling(body), wide=True)


def _scrolling(table: str) -> str:
    return f'<div class="table-scroll">{table}</div>'
