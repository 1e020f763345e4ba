"""Codes and states in the request log: the demo's log never shows them, and still shows the line.

The demo's site (a `runserver` child) logs every request line; the emulator (werkzeug) logs only
malformed requests and errors, which quote the request line. Both go through one redaction.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from config.logs import SecretsRedacted, secrets_redacted
from tests.accounts.conftest import hosted_sign_in
from tests.demo_process import Demo, start_demo, stop, wait_ready


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        (
            "GET /accounts/callback/?code=abc123&state=xyz HTTP/1.1",
            "GET /accounts/callback/?code=[redacted]&state=[redacted] HTTP/1.1",
        ),
        (
            "GET /oauth2/authorize?client_id=c&state=s1&nonce=n HTTP/1.1",
            "GET /oauth2/authorize?client_id=c&state=[redacted]&nonce=n HTTP/1.1",
        ),
        (
            "GET /logout?id_token_hint=eyJ.x.y HTTP/1.1",
            "GET /logout?id_token_hint=[redacted] HTTP/1.1",
        ),
        (
            "GET /saml2/idpresponse?SAMLResponse=PHNhbWw%2B&RelayState=r HTTP/1.1",
            "GET /saml2/idpresponse?SAMLResponse=[redacted]&RelayState=[redacted] HTTP/1.1",
        ),
        (
            "GET /b/k?X-Amz-Security-Token=t&X-Amz-Signature=s&X-Amz-Expires=60 HTTP/1.1",
            "GET /b/k?X-Amz-Security-Token=[redacted]&X-Amz-Signature=[redacted]"
            "&X-Amz-Expires=60 HTTP/1.1",
        ),
    ],
)
def test_secret_parameters_are_redacted(line: str, redacted: str) -> None:
    assert secrets_redacted(line) == redacted


@pytest.mark.parametrize(
    "line",
    [
        "GET /accounts/login/?next=/protected/ HTTP/1.1",
        "GET /protected/?folder=private HTTP/1.1",
        "GET /accounts/signin/?username=bob HTTP/1.1",
        "POST /accounts/callback/ HTTP/1.1",
        "GET /?encoded=a%26code%3Dx HTTP/1.1",  # `code=` inside a value, not a parameter
    ],
)
def test_other_parameters_and_paths_are_kept(line: str) -> None:
    assert secrets_redacted(line) == line


def test_the_filter_rewrites_the_record_runserver_logs() -> None:
    record = logging.LogRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s %s',
        ("GET /accounts/callback/?code=abc&state=xyz HTTP/1.1", "302", "0"), None,
    )  # fmt: skip

    assert SecretsRedacted().filter(record) is True
    assert (
        record.getMessage()
        == '"GET /accounts/callback/?code=[redacted]&state=[redacted] HTTP/1.1" 302 0'
    )


# --- the real demo ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, dict]]:
    running = start_demo(Path(tmp_path_factory.mktemp("logs")))
    manifest = wait_ready(running)
    yield running, manifest
    stop(running)


def raw_request_line(url: str, line: bytes) -> bytes:
    """Send one (malformed) request line; the server's answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(line + b"\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):  # both servers close after a malformed request
            answer += chunk
        return answer


def logged(demo: Demo, text: str, timeout: float = 10.0) -> str:
    """The demo's log once it holds `text` (the site's child writes it a moment after answering)."""
    deadline = time.monotonic() + timeout
    while text not in (output := demo.output()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return output


def test_a_real_sign_in_leaves_no_code_or_state_in_the_demo_log(demo: tuple[Demo, dict]) -> None:
    running, manifest = demo
    site = manifest["app_url"]
    browser = requests.Session()
    start = browser.get(f"{site}/accounts/login/?next=/protected/", allow_redirects=False)
    callback = hosted_sign_in(start.headers["Location"], "bob", app_url=site)
    query = parse_qs(urlsplit(callback).query)
    code, state = query["code"][0], query["state"][0]

    assert browser.get(callback, allow_redirects=False).status_code == 302

    output = logged(running, "/accounts/callback/?code=[redacted]&state=[redacted]")
    assert "/accounts/callback/?code=[redacted]&state=[redacted]" in output
    assert "/accounts/login/?next=/protected/" in output  # other parameters stay readable
    assert code not in output
    assert state not in output


def test_a_replayed_code_is_redacted_in_the_log_too(demo: tuple[Demo, dict]) -> None:
    running, manifest = demo

    answer = requests.get(
        f"{manifest['app_url']}/accounts/callback/",
        params={"code": "replayed-code-0001", "state": "foreign-state-0001"},
        timeout=10,
    )

    assert answer.status_code == 400
    output = logged(
        running, '"GET /accounts/callback/?code=[redacted]&state=[redacted] HTTP/1.1" 400'
    )
    assert "replayed-code-0001" not in output and "foreign-state-0001" not in output


@pytest.mark.parametrize(
    ("server", "path"),
    [("app_url", "/accounts/callback/"), ("aws_endpoint_url", "/oauth2/idpresponse")],
)
def test_a_malformed_request_line_is_logged_without_its_code(
    demo: tuple[Demo, dict], server: str, path: str
) -> None:
    """Both servers log a bad request line as an error, quoting it: that quote is redacted too."""
    running, manifest = demo
    secret = f"bad-line-code-{server}"

    answer = raw_request_line(
        manifest[server], f"GET {path}?code={secret}&state=s extra HTTP/1.1".encode()
    )

    assert b"Bad request syntax" in answer
    output = logged(running, f"{path}?code=[redacted]&state=[redacted] extra HTTP/1.1")
    assert f"{path}?code=[redacted]&state=[redacted] extra HTTP/1.1" in output
    assert secret not in output
