"""Remembered devices against the emulator over real HTTP: "Remember this device" after the MFA
step (ConfirmDevice with an SRP verifier), DEVICE_SRP_AUTH instead of MFA on later sign-ins from
that browser only, the account page's list, and forgetting a device."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts.session import TOKENS
from signin.devices import BROWSER_COOKIE
from signin.models import DeviceRefreshToken, RememberedDevice
from tests.accounts.conftest import USERS, api_signin, attempt_id, totp_now

pytestmark = pytest.mark.django_db


def mfa_answer(client: Client, *, remember: bool, steps_ahead: int = 0) -> Any:
    data = {
        "attempt": attempt_id(client),
        "code": totp_now(USERS["alice"].totp_secret, steps_ahead=steps_ahead),
    }
    if remember:
        data["remember"] = "on"
    return client.post("/accounts/signin/mfa/", data)


def sign_out(client: Client) -> None:
    client.post("/accounts/logout/")
    assert TOKENS not in client.session


def test_a_remembered_device_signs_in_without_the_second_factor(
    emulator: Any, client: Client
) -> None:
    assert api_signin(client, "alice")["Location"] == "/accounts/signin/mfa/"
    answered = mfa_answer(client, remember=True)
    assert answered["Location"] == "/"
    browser = client.cookies[BROWSER_COOKIE].value
    sign_out(client)

    again = api_signin(client, "alice")

    assert again["Location"] == "/"
    assert TOKENS in client.session
    row = RememberedDevice.objects.get(browser=browser, username="alice")
    # The browser holds a random id; the device's secret never leaves the server.
    assert row.password not in browser and row.device_key not in browser
    assert row.password not in answered.cookies.output() + again.cookies.output()


def test_without_remember_the_next_sign_in_asks_for_the_second_factor(
    emulator: Any, client: Client
) -> None:
    api_signin(client, "alice")
    assert mfa_answer(client, remember=False)["Location"] == "/"
    sign_out(client)

    assert api_signin(client, "alice")["Location"] == "/accounts/signin/mfa/"
    assert BROWSER_COOKIE not in client.cookies
    assert not RememberedDevice.objects.exists()


def test_another_browser_still_asks_for_the_second_factor(emulator: Any, client: Client) -> None:
    api_signin(client, "alice")
    mfa_answer(client, remember=True)

    other = Client()

    assert api_signin(other, "alice")["Location"] == "/accounts/signin/mfa/"


def test_a_copied_browser_id_without_the_password_signs_no_one_in(
    emulator: Any, client: Client
) -> None:
    api_signin(client, "alice")
    mfa_answer(client, remember=True)
    thief = Client()
    thief.cookies[BROWSER_COOKIE] = client.cookies[BROWSER_COOKIE].value

    # The id alone, without alice's password, signs no one in; with it, only alice's device.
    wrong = api_signin(thief, "alice", password="Not-Alices-Passw0rd!")

    assert wrong.status_code in (400, 401)
    assert TOKENS not in thief.session


def test_the_account_page_lists_the_device_and_forgets_it(emulator: Any, client: Client) -> None:
    api_signin(client, "alice")
    mfa_answer(client, remember=True)

    page = client.get("/accounts/devices/").content.decode()
    assert len(re.findall(r'data-testid="device"', page)) == 1
    assert 'data-testid="device-this-browser"' in page
    key = re.search(r'name="device_key" value="([^"]+)"', page)
    assert key

    forgot = client.post("/accounts/devices/forget/", {"device_key": key.group(1)})

    assert [str(m) for m in get_messages(forgot.wsgi_request)] == ["The device is forgotten."]
    assert 'data-testid="device-none"' in client.get("/accounts/devices/").content.decode()
    assert not RememberedDevice.objects.exists() and not DeviceRefreshToken.objects.exists()
    sign_out(client)
    assert api_signin(client, "alice")["Location"] == "/accounts/signin/mfa/"


def test_forgetting_an_unknown_device_says_so(emulator: Any, client: Client) -> None:
    api_signin(client, "alice")
    mfa_answer(client, remember=True)

    response = client.post("/accounts/devices/forget/", {"device_key": "us-east-1_nope"})

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "That device is not on your account (it may be forgotten already)."
    ]


def test_a_device_forgotten_elsewhere_falls_back_to_the_second_factor(
    emulator: Any, client: Client
) -> None:
    api_signin(client, "alice")
    mfa_answer(client, remember=True)
    key = RememberedDevice.objects.get().device_key
    with emulator.state.lock:
        emulator.state.flows.devices.pop(key)
    sign_out(client)

    assert api_signin(client, "alice")["Location"] == "/accounts/signin/mfa/"
    assert mfa_answer(client, remember=False, steps_ahead=1)["Location"] == "/"


def test_a_session_from_a_remembered_device_refreshes_with_its_key(
    emulator: Any, client: Client
) -> None:
    api_signin(client, "alice")
    mfa_answer(client, remember=True)
    sign_out(client)
    api_signin(client, "alice")
    assert DeviceRefreshToken.objects.count() >= 1
    session = client.session
    session[TOKENS] = {**session[TOKENS], "expires_at": 0}
    session.save()

    response = client.get("/accounts/profile/")

    assert response.status_code == 200
    assert client.session[TOKENS]["expires_at"] > 0
