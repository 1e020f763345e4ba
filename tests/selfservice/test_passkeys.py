"""Passkeys on the account page against the emulator over real HTTP: add one (the software
authenticator of tests/emulator/authenticator.py plays the browser), list it, sign in with it,
remove it; and each bad answer a page that says what happened."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from accounts.session import PROVEN_AT
from emulator import seed
from tests.accounts.conftest import attempt_id, edit_session, signed_in_as
from tests.emulator.authenticator import Authenticator

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost:8000"


def creation_options(response: Any) -> dict[str, Any]:
    """The options the add page hands the browser (its form's data attribute)."""
    found = re.search(r'data-webauthn-options="([^"]*)"', response.content.decode())
    assert found, response.content.decode()
    return json.loads(html.unescape(found.group(1)))


def add(client: Client, credential: dict[str, Any]) -> Any:
    return client.post("/accounts/passkeys/add/", {"credential": json.dumps(credential)})


def shown(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def heidi_signed_in(client: Client) -> None:
    """heidi (the seed's passkey-ready user, outside the demo users) signs in with her password."""
    user = seed.PASSKEY_USER
    response = client.post(
        "/accounts/signin/", {"username": user.username, "password": user.password}
    )
    assert response["Location"] == "/", response


def listed_names(client: Client) -> list[str]:
    page = client.get("/accounts/passkeys/").content.decode()
    return re.findall(r'data-testid="passkey-name">([^<]*)<', page)


def test_a_passkey_added_on_the_account_page_is_listed_and_signs_in(
    api_signed_in: Callable[..., Client], client: Client
) -> None:
    api_signed_in("bob")
    assert 'data-testid="passkey-none"' in client.get("/accounts/passkeys/").content.decode()
    key = Authenticator()

    options = creation_options(client.post("/accounts/passkeys/add/"))
    added = add(client, key.create(options, origin=ORIGIN))

    assert added["Location"] == "/accounts/passkeys/"
    assert shown(added) == ["Your passkey is added."]
    assert len(listed_names(client)) == 1

    signed_out = Client()
    signed_out.post("/accounts/signin/code/", {"code-username": "bob", "code-factor": "passkey"})
    page = signed_out.get("/accounts/signin/passkey/").content.decode()
    found = re.search(r'data-webauthn-options="([^"]*)"', page)
    assert found
    answer = key.get(json.loads(html.unescape(found.group(1))), origin=ORIGIN)
    response = signed_out.post(
        "/accounts/signin/passkey/",
        {"attempt": attempt_id(signed_out), "credential": json.dumps(answer)},
    )
    assert response["Location"] == "/"
    assert signed_in_as(signed_out) == "bob"


def test_adding_a_passkey_needs_a_recent_proof(
    api_signed_in: Callable[..., Client], client: Client
) -> None:
    api_signed_in("bob")
    edit_session(client, lambda s: s.__setitem__(PROVEN_AT, time.time() - 24 * 3600))

    response = client.post("/accounts/passkeys/add/")

    assert response["Location"].startswith("/accounts/reauthenticate/")


def test_the_passkey_page_names_heidis_passkey_and_removes_it(
    api_signed_in: Callable[..., Client], client: Client
) -> None:
    heidi_signed_in(client)
    assert listed_names(client) == ["Passkey on this device"]

    removed = client.post(
        "/accounts/passkeys/remove/", {"credential_id": seed.PASSKEY_CREDENTIAL_ID}
    )

    assert shown(removed) == ["The passkey is removed."]
    assert listed_names(client) == []


def test_a_removed_passkey_no_longer_signs_in(
    api_signed_in: Callable[..., Client], client: Client
) -> None:
    heidi_signed_in(client)
    client.post("/accounts/passkeys/remove/", {"credential_id": seed.PASSKEY_CREDENTIAL_ID})
    again = client.post("/accounts/passkeys/remove/", {"credential_id": seed.PASSKEY_CREDENTIAL_ID})
    assert shown(again)[-1:] == ["That passkey is not on your account (it may be removed already)."]

    visitor = Client()
    visitor.post("/accounts/signin/code/", {"code-username": "heidi", "code-factor": "passkey"})
    page = visitor.get("/accounts/signin/passkey/").content.decode()
    found = re.search(r'data-webauthn-options="([^"]*)"', page)
    assert found
    key = Authenticator.from_pkcs8(seed.PASSKEY_PRIVATE_KEY, seed.PASSKEY_CREDENTIAL_ID)
    options = {**json.loads(html.unescape(found.group(1))), "rpId": "localhost"}
    response = visitor.post(
        "/accounts/signin/passkey/",
        {"attempt": attempt_id(visitor), "credential": json.dumps(key.get(options, origin=ORIGIN))},
    )

    assert response["Location"] == "/accounts/signin/"
    assert signed_in_as(visitor) is None


@pytest.mark.parametrize(
    ("twist", "message"),
    [
        ({"origin": "http://evil.example"}, "another site name"),
        ({"origin": "http://127.0.0.1:8000"}, "another site name"),
        ({"rp_id": "example.com"}, "another site name"),
    ],
)
def test_a_passkey_made_for_another_site_is_refused_with_a_message(
    api_signed_in: Callable[..., Client], client: Client, twist: dict[str, str], message: str
) -> None:
    api_signed_in("bob")
    options = creation_options(client.post("/accounts/passkeys/add/"))

    response = add(client, Authenticator().create(options, **{"origin": ORIGIN, **twist}))

    assert response["Location"] == "/accounts/passkeys/"
    assert message in shown(response)[-1]
    assert listed_names(client) == []


def test_a_registration_answer_is_taken_once(
    api_signed_in: Callable[..., Client], client: Client
) -> None:
    api_signed_in("bob")
    options = creation_options(client.post("/accounts/passkeys/add/"))
    credential = Authenticator().create(options, origin=ORIGIN)
    add(client, credential)

    replayed = add(client, credential)

    assert "took too long or was already used" in shown(replayed)[-1]
    assert len(listed_names(client)) == 1


def test_a_broken_browser_answer_is_refused_with_a_message(
    api_signed_in: Callable[..., Client], client: Client
) -> None:
    api_signed_in("bob")
    client.post("/accounts/passkeys/add/")

    response = client.post("/accounts/passkeys/add/", {"credential": "{not json"})

    assert "passkey answer was not accepted" in shown(response)[-1]
    assert listed_names(client) == []


def test_the_passkey_page_on_an_ip_address_says_where_passkeys_work(
    api_signed_in: Callable[..., Client], client: Client
) -> None:
    api_signed_in("bob")

    on_ip = client.get("/accounts/passkeys/", HTTP_HOST="127.0.0.1:8000").content.decode()
    on_name = client.get("/accounts/passkeys/", HTTP_HOST="localhost:8000").content.decode()

    assert "http://localhost:8000/accounts/passkeys/" in on_ip
    assert 'data-testid="passkey-host-hint"' not in on_name
