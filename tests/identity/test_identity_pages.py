"""`/identity/` and `/identity/guest/` against the emulator: each flow, never a secret shown."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from emulator import seed
from emulator.storage_world import demo_identity_id
from identity.session import CREDENTIALS
from tests.emulator.identity_flows import aws_client

IDENTITY_ID = re.compile(r'data-testid="identity-id">([^<]+)<')


def identity_id_on(page) -> str:
    match = IDENTITY_ID.search(page.content.decode())
    assert match, page.content.decode()[:2000]
    return match.group(1)


def test_signed_in_user_sees_their_identity_role_and_flow(client: Client, sign_in) -> None:
    sign_in("bob")

    page = client.get("/identity/")

    assert page.status_code == 200
    assert identity_id_on(page) == demo_identity_id("bob")
    text = page.content.decode()
    assert "cognito-demo-authenticated" in text
    assert "enhanced flow" in text


def test_the_page_never_shows_the_credentials(client: Client, sign_in) -> None:
    sign_in("bob")

    page = client.get("/identity/")
    stored = client.session[CREDENTIALS]["credentials"]

    for secret in stored.values():
        assert secret not in page.content.decode()
    assert page["Cache-Control"].count("no-store")


def test_the_same_identity_on_the_next_sign_in(client: Client, sign_in) -> None:
    sign_in("bob")
    first = identity_id_on(client.get("/identity/"))
    client.post("/accounts/logout/")
    other = Client()
    sign_in("bob", on=other)

    assert identity_id_on(other.get("/identity/")) == first


def test_anonymous_visitors_are_offered_sign_in_or_guest(client: Client, db) -> None:
    page = client.get("/identity/")

    assert page.status_code == 200
    assert 'data-testid="identity-id"' not in page.content.decode()
    assert 'data-testid="guest-link"' in page.content.decode()


def test_continue_as_a_guest_gets_the_guest_role(client: Client, emulator, db) -> None:
    assert client.get("/identity/guest/").status_code == 200

    response = client.post("/identity/guest/")
    page = client.get("/identity/")

    assert response.status_code == 302
    assert response["Location"] == "/protected/"
    assert identity_id_on(page).startswith(f"{seed.REGION}:")
    assert "cognito-demo-guest" in page.content.decode()


def test_a_guest_keeps_one_identity(client: Client, emulator, db) -> None:
    client.post("/identity/guest/")
    first = identity_id_on(client.get("/identity/"))
    client.post("/identity/guest/")

    assert identity_id_on(client.get("/identity/")) == first


def test_no_guests_where_the_pool_does_not_allow_them(client: Client, emulator, db) -> None:
    aws_client(emulator, "cognito-identity").update_identity_pool(
        IdentityPoolId=seed.IDENTITY_POOL_ID,
        IdentityPoolName=seed.IDENTITY_POOL_NAME,
        AllowUnauthenticatedIdentities=False,
    )

    response = client.post("/identity/guest/")

    assert response.status_code == 403
    assert 'data-testid="error"' in response.content.decode()


def test_a_guest_who_signs_in_gets_their_own_credentials(client: Client, sign_in) -> None:
    client.post("/identity/guest/")
    guest_id = identity_id_on(client.get("/identity/"))

    sign_in("bob")

    assert identity_id_on(client.get("/identity/")) == demo_identity_id("bob") != guest_id


def test_alice_may_pick_her_read_only_role(client: Client, sign_in) -> None:
    sign_in("alice")
    page = client.get("/identity/")
    assert "cognito-demo-authenticated" in page.content.decode()
    assert seed.READ_ONLY_ROLE in page.content.decode()  # the picker offers it

    client.post("/identity/", {"flow": "enhanced", "role": seed.READ_ONLY_ROLE})

    assert "cognito-demo-read-only" in client.get("/identity/").content.decode()


def test_the_role_picker_says_what_each_role_allows(client: Client, sign_in) -> None:
    sign_in("alice")
    page = " ".join(client.get("/identity/").content.decode().split())

    assert (
        "<strong>cognito-demo-authenticated</strong> (group members): read <code>public/</code> "
        "and <code>protected/</code>, read and write your own <code>private/</code> folder"
    ) in page
    assert "<strong>cognito-demo-read-only</strong> (group read-only)" in page
    assert "no uploads or deletes" in page and "<strong>The pool's choice</strong>" in page


def test_no_role_hints_without_a_role_choice(client: Client, sign_in) -> None:
    sign_in("bob")  # one role: no picker, so nothing to explain

    assert "no uploads or deletes" not in client.get("/identity/").content.decode()


def test_alice_goes_back_to_the_pools_choice(client: Client, sign_in) -> None:
    sign_in("alice")
    client.post("/identity/", {"flow": "enhanced", "role": seed.READ_ONLY_ROLE})
    client.post("/identity/", {"flow": "enhanced", "role": ""})

    assert 'identity-role">cognito-demo-authenticated<' in client.get("/identity/").content.decode()


def test_a_renewal_keeps_the_chosen_role(client: Client, sign_in, emulator) -> None:
    sign_in("alice")
    client.post("/identity/", {"flow": "enhanced", "role": seed.READ_ONLY_ROLE})
    emulator.state.sessions.expire(client.session[CREDENTIALS]["credentials"]["access_key_id"])

    client.get("/protected/")  # S3 says expired: renewed once, as they were obtained

    assert 'identity-role">cognito-demo-read-only<' in client.get("/identity/").content.decode()


def test_a_role_outside_the_token_is_refused(client: Client, sign_in) -> None:
    sign_in("bob")

    page = client.post("/identity/", {"flow": "enhanced", "role": seed.READ_ONLY_ROLE})

    assert page.status_code == 200
    assert "cognito-demo-read-only" not in client.get("/identity/").content.decode()


def test_the_developer_path_vouches_for_the_user(client: Client, sign_in) -> None:
    sign_in("bob")
    enhanced = identity_id_on(client.get("/identity/"))

    client.post("/identity/", {"flow": "developer"})
    page = client.get("/identity/")

    assert "developer-authenticated" in page.content.decode()
    assert identity_id_on(page) != enhanced


def test_the_basic_flow_behind_its_setting(client: Client, sign_in, settings) -> None:
    settings.COGNITO_IDENTITY_FLOW = "basic"
    sign_in("bob")

    page = client.get("/identity/")

    assert "basic flow" in page.content.decode()
    assert identity_id_on(page) == demo_identity_id("bob")


def test_the_basic_flow_where_the_pool_refuses_it(
    client: Client, sign_in, settings, emulator
) -> None:
    settings.COGNITO_IDENTITY_FLOW = "basic"
    emulator.state.identities.classic_flow[seed.IDENTITY_POOL_ID] = False
    sign_in("bob")

    page = client.get("/identity/")

    assert page.status_code == 400
    assert 'data-testid="error"' in page.content.decode()


@pytest.mark.parametrize("path", ["/identity/", "/identity/guest/"])
def test_pages_are_not_cached(client: Client, db, path: str) -> None:
    assert (
        "no-cache" in client.get(path)["Cache-Control"]
        or "no-store" in client.get(path)["Cache-Control"]
    )


def test_no_credential_reaches_a_log_line(client: Client, sign_in, caplog) -> None:
    caplog.set_level("DEBUG")
    sign_in("bob")
    client.get("/identity/")
    client.get("/protected/")
    stored = client.session[CREDENTIALS]["credentials"]

    assert "identity_credentials" in caplog.text
    for secret in (stored["secret_access_key"], stored["session_token"]):
        assert secret not in caplog.text
