"""Attack: a client writes its own X-Forwarded-For to dodge the per-address limit, or to make
Cognito see another address. Only trusted proxies (TRUSTED_PROXIES) may name the client; by
default the header is ignored and the client is REMOTE_ADDR.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from config import aws
from tests.accounts.conftest import api_signin
from tests.test_settings import PRODUCTION, load_settings

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # the load balancer, inside TRUSTED_PROXIES below


@pytest.fixture
def addresses_sent() -> Iterator[list[str]]:
    """The UserContextData.IpAddress of every cognito-idp call, as botocore is about to send it."""
    seen: list[str] = []

    def capture(params: dict[str, Any], **kwargs: Any) -> None:
        if "UserContextData" in params:
            seen.append(params["UserContextData"]["IpAddress"])

    events = aws.client("cognito-idp").meta.events
    events.register("provide-client-params.cognito-idp.*", capture)
    yield seen
    events.unregister("provide-client-params.cognito-idp.*", capture)


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]


def wrong_password(username: str, **meta: str) -> Any:
    return api_signin(Client(**meta), username, "Wrong-Passw0rd!")


# --- no trusted proxy (the default) ---------------------------------------------------------------


def test_a_forwarded_for_header_is_ignored_by_default(
    emulator: Any, addresses_sent: list[str]
) -> None:
    wrong_password("bob", REMOTE_ADDR="192.0.2.105", HTTP_X_FORWARDED_FOR="192.0.2.199")

    assert set(addresses_sent) == {"192.0.2.105"}


def test_rotating_a_forged_header_does_not_dodge_the_address_limit(
    emulator: Any, settings: Any
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ADDRESS = 2
    for n in range(2):
        wrong_password(f"nobody-{n}", REMOTE_ADDR="192.0.2.105", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}")

    forged = api_signin(Client(REMOTE_ADDR="192.0.2.105", HTTP_X_FORWARDED_FOR="1.1.1.77"), "bob")
    elsewhere = api_signin(Client(REMOTE_ADDR="192.0.2.106"), "bob")

    assert forged.status_code == 429
    assert elsewhere["Location"] == "/"


# --- behind a trusted proxy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        pytest.param(PROXY, "192.0.2.207", "192.0.2.207", id="proxy-names-the-client"),
        pytest.param(PROXY, "6.6.6.6, 192.0.2.207", "192.0.2.207", id="client-wrote-a-hop"),
        pytest.param(PROXY, "6.6.6.6, 192.0.2.207, 10.9.9.9", "192.0.2.207", id="two-proxies"),
        pytest.param(PROXY, "6.6.6.6, not-an-address", PROXY, id="garbage-stops-the-walk"),
        pytest.param(PROXY, "", PROXY, id="no-header"),
        pytest.param("192.0.2.105", "192.0.2.207", "192.0.2.105", id="untrusted-sender"),
    ],
)
def test_only_trusted_proxies_name_the_client(
    emulator: Any,
    behind_proxy: None,
    addresses_sent: list[str],
    remote: str,
    forwarded: str,
    client: str,
) -> None:
    wrong_password("bob", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert set(addresses_sent) == {client}


def test_a_client_behind_the_proxy_cannot_dodge_its_limit_with_a_forged_hop(
    emulator: Any, behind_proxy: None, settings: Any
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ADDRESS = 2
    for n in range(2):
        wrong_password(
            f"nobody-{n}", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 192.0.2.207"
        )

    forged = api_signin(
        Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.1.1.77, 192.0.2.207"), "bob"
    )

    assert forged.status_code == 429


def test_one_noisy_address_behind_the_proxy_does_not_lock_others_out(
    emulator: Any, behind_proxy: None, settings: Any
) -> None:
    settings.AUTH_RATE_LIMIT_PER_ADDRESS = 2
    for n in range(3):
        wrong_password(f"nobody-{n}", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.207")

    neighbour = api_signin(Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.208"), "bob")

    assert neighbour["Location"] == "/"


# --- the setting ----------------------------------------------------------------------------------


def test_a_malformed_trusted_proxy_setting_fails_loudly(tmp_path: Path) -> None:
    loaded = load_settings({**PRODUCTION, "TRUSTED_PROXIES": "10.0.0.0/8,load-balancer"}, tmp_path)

    assert "TRUSTED_PROXIES" in loaded.get("error", "")


def test_addresses_and_ranges_are_accepted(tmp_path: Path) -> None:
    loaded = load_settings({**PRODUCTION, "TRUSTED_PROXIES": "10.0.0.0/8,192.0.2.1,::1"}, tmp_path)

    assert "error" not in loaded
