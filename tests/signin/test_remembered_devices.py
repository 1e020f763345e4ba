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
from config import aws
from emulator import seed
from signin import services
from signin.devices import BROWSER_COOKIE
from signin.models import DeviceRefreshToken, RememberedDevice, token_digest
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


def signin_as(client: Client, typed: str, *, password: str | None = None) -> Any:
    """The sign-in form with alice's password (unless given) under the name `typed`."""
    password = USERS["alice"].password if password is None else password
    return client.post("/accounts/signin/", {"username": typed, "password": password})


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

    # The session's refresh token was tied to the device: the session ends now, said plainly.
    assert forgot["Location"] == "/accounts/signin/"
    assert [str(m) for m in get_messages(forgot.wsgi_request)] == [
        "This browser is forgotten, and you are signed out here: your sign-in was tied to it. "
        "Your next sign-in here asks for your second factor again."
    ]
    assert TOKENS not in client.session
    assert not RememberedDevice.objects.exists() and not DeviceRefreshToken.objects.exists()
    assert api_signin(client, "alice")["Location"] == "/accounts/signin/mfa/"
    # This site dropped the device with ForgetDevice: nothing to refuse, nothing to explain.
    assert (
        'data-testid="device-not-remembered"'
        not in client.get("/accounts/signin/mfa/").content.decode()
    )


def test_forgetting_an_unknown_device_says_so(emulator: Any, client: Client) -> None:
    api_signin(client, "alice")
    mfa_answer(client, remember=True)

    response = client.post("/accounts/devices/forget/", {"device_key": "us-east-1_nope"})

    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "That device is not on your account (it may be forgotten already)."
    ]


def remember_alice(client: Client, *, typed: str = "alice") -> str:
    """alice signs in (as `typed`) and ticks "Remember this device": the device's key."""
    assert signin_as(client, typed)["Location"] == "/accounts/signin/mfa/"
    assert mfa_answer(client, remember=True)["Location"] == "/"
    sign_out(client)
    return RememberedDevice.objects.get().device_key


def admin() -> Any:
    """The same boto3 client the app uses, for arranging the pool as an administrator would."""
    return aws.client("cognito-idp")


def test_a_device_forgotten_elsewhere_asks_for_the_second_factor_and_says_why(
    emulator: Any, client: Client
) -> None:
    key = remember_alice(client)
    admin().admin_forget_device(UserPoolId=seed.USER_POOL_ID, Username="alice", DeviceKey=key)

    signin = api_signin(client, "alice")
    page = client.get("/accounts/signin/mfa/").content.decode()

    assert signin["Location"] == "/accounts/signin/mfa/"
    assert 'data-testid="device-not-remembered"' in page and "it was forgotten" in page
    assert not RememberedDevice.objects.exists()  # dropped here too: no refusal next time
    assert mfa_answer(client, remember=False, steps_ahead=1)["Location"] == "/"


def test_a_device_set_not_remembered_asks_for_the_second_factor_until_remembered_again(
    emulator: Any, client: Client
) -> None:
    key = remember_alice(client)
    status = {"UserPoolId": seed.USER_POOL_ID, "Username": "alice", "DeviceKey": key}
    admin().admin_update_device_status(**status, DeviceRememberedStatus="not_remembered")

    refused = api_signin(client, "alice")
    page = client.get("/accounts/signin/mfa/").content.decode()
    admin().admin_update_device_status(**status, DeviceRememberedStatus="remembered")
    client.post("/accounts/signin/", {})  # a new sign-in replaces the pending one
    again = api_signin(client, "alice")

    assert refused["Location"] == "/accounts/signin/mfa/"
    assert 'data-testid="device-not-remembered"' in page and "any more" in page
    assert again["Location"] == "/"  # the same device, remembered again: no second factor


@pytest.fixture
def email_sign_in(emulator: Any) -> None:
    """The pool also takes the user's email at sign-in (the emulator's seed pool does not): what
    the user types is then not the pool's internal username (cognito:username)."""
    with emulator.state.lock:
        emulator.state.pool.extended_config["UsernameAttributes"] = ["email"]


def test_the_device_is_found_when_the_user_types_the_email(
    emulator: Any, client: Client, email_sign_in: None
) -> None:
    remember_alice(client)

    again = signin_as(client, "alice@example.com")

    assert again["Location"] == "/"
    assert client.get("/").context["user"].username == "alice"


def test_a_device_remembered_under_the_email_serves_the_username(
    emulator: Any, client: Client, email_sign_in: None
) -> None:
    remember_alice(client, typed="alice@example.com")

    assert RememberedDevice.objects.get().username == "alice"  # the pool's name, not as typed
    assert signin_as(client, "alice")["Location"] == "/"
    sign_out(client)
    assert signin_as(client, "alice@example.com")["Location"] == "/"


def test_another_browser_typing_the_email_still_asks_for_the_second_factor(
    emulator: Any, client: Client, email_sign_in: None
) -> None:
    remember_alice(client)

    assert signin_as(Client(), "alice@example.com")["Location"] == "/accounts/signin/mfa/"


def test_a_remembered_device_tells_nothing_about_other_names(emulator: Any, client: Client) -> None:
    remember_alice(client)
    fresh = Client()

    unknown = signin_as(client, "nobody@example.com")
    unknown_fresh = signin_as(fresh, "nobody@example.com")
    wrong = signin_as(client, "alice@example.com", password="Wrong-Passw0rd!")

    # The same answer with the device as without it, for a name no one has and a wrong password.
    assert unknown.status_code == unknown_fresh.status_code == wrong.status_code
    assert unknown.context["form"].failure_code == "not_authorized"
    assert unknown_fresh.context["form"].failure_code == "not_authorized"
    assert wrong.context["form"].failure_code == "not_authorized"
    assert TOKENS not in client.session


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


def test_a_session_whose_device_binding_is_lost_cannot_refresh(
    emulator: Any, client: Client
) -> None:
    remember_alice(client)
    api_signin(client, "alice")
    DeviceRefreshToken.objects.all().delete()  # the refresh would go without the DeviceKey
    session = client.session
    session[TOKENS] = {**session[TOKENS], "expires_at": 0}
    session.save()

    response = client.get("/accounts/profile/")

    # The pool refuses the device's refresh token without its key: signed out, not a 500.
    assert response.status_code == 302
    assert TOKENS not in client.session


def test_forgetting_another_device_says_it_is_that_device(emulator: Any, client: Client) -> None:
    api_signin(client, "alice")
    mfa_answer(client, remember=True)
    other = Client()
    api_signin(other, "alice")
    mfa_answer(other, remember=True, steps_ahead=1)
    others = RememberedDevice.objects.get(browser=other.cookies[BROWSER_COOKIE].value).device_key

    forgot = client.post("/accounts/devices/forget/", {"device_key": others})

    assert [str(m) for m in get_messages(forgot.wsgi_request)] == [
        "The device is forgotten: its next sign-in asks for your second factor again."
    ]
    page = client.get("/accounts/devices/").content.decode()
    assert others not in page and 'data-testid="device-this-browser"' in page


@pytest.fixture
def fresh_pool_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads the pool's DeviceConfiguration afresh (it keeps it ten minutes)."""
    monkeypatch.setattr(services, "_pool_cache", {})


def test_a_pool_whose_devices_do_not_skip_mfa_offers_no_remembering(
    emulator: Any, client: Client, fresh_pool_settings: None
) -> None:
    with emulator.state.lock:
        emulator.state.pool.extended_config["DeviceConfiguration"] = {
            **seed.DEVICE_CONFIGURATION,
            "ChallengeRequiredOnNewDevice": False,
        }
    api_signin(client, "alice")

    page = client.get("/accounts/signin/mfa/").content.decode()
    answered = mfa_answer(client, remember=True)  # a hand-made "remember" is ignored

    assert 'data-testid="remember-device"' not in page
    assert answered["Location"] == "/"
    assert not RememberedDevice.objects.exists()


def test_a_pool_whose_devices_skip_mfa_offers_remembering(
    emulator: Any, client: Client, fresh_pool_settings: None
) -> None:
    api_signin(client, "alice")

    page = client.get("/accounts/signin/mfa/").content.decode()

    assert 'data-testid="remember-device"' in page


def expire_tokens(client: Client) -> None:
    session = client.session
    session[TOKENS] = {**session[TOKENS], "expires_at": 0}
    session.save()


def test_a_rotating_client_keeps_refreshing_a_remembered_devices_session(
    emulator: Any, client: Client
) -> None:
    with emulator.state.lock:
        emulator.state.client(seed.CLIENT_ID).extended_config["RefreshTokenRotation"] = {
            "Feature": "ENABLED",
            "RetryGracePeriodSeconds": 0,
        }
    key = remember_alice(client)
    assert api_signin(client, "alice")["Location"] == "/"
    first = client.session[TOKENS]["refresh_token"]

    for _ in range(2):  # each refresh gets a new refresh token, tied to the same device
        expire_tokens(client)
        assert client.get("/accounts/profile/").status_code == 200

    assert client.session[TOKENS]["refresh_token"] != first
    bound = DeviceRefreshToken.objects.get()  # one binding: the session's newest token
    assert bound.device_key == key
    assert bound.digest == token_digest(client.session[TOKENS]["refresh_token"])
