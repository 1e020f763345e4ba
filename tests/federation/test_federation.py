"""Federated sign-in driven for real: the app through Django's test client, the user pool and the
local identity providers through requests, over HTTP to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from accounts.session import PENDING_LOGINS
from emulator import seed
from emulator.demo import identity_provider_names
from emulator.server import Emulator
from tests.emulator.idp_flows import IdpBrowser, idp_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_providers() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo_names(settings: Any) -> None:
    """The IdPs' display names, as the demo sets them."""
    settings.COGNITO_IDENTITY_PROVIDER_NAMES = identity_provider_names().split(",")


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def idp_round_trip(authorize_url: str, provider: str, username: str) -> str:
    """At the pool and the IdP: sign in (with the IdP's TOTP step); the app's callback URL."""
    browser = IdpBrowser()
    page = browser.open_idp(authorize_url)
    answer = browser.back_to_pool(browser.sign_in_at_idp(page, idp_user(provider, username)))
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["Location"]


def cancel_at_idp(authorize_url: str) -> str:
    browser = IdpBrowser()
    page = browser.open_idp(authorize_url)
    answer = browser.back_to_pool(browser.submit(page, action="cancel"))
    assert answer.status_code == 302
    return answer.headers["Location"]


def failed_page(response: Any) -> Any:
    """A failed callback redirects to a clean URL: the page found there."""
    assert response.status_code == 302 and response["Location"] == "/accounts/login/failed/"
    return response.client.get(response["Location"])


def federated_sign_in(client: Client, provider: str, username: str) -> Any:
    """Press the IdP's button, sign in at the IdP, come back: the callback's response."""
    start = client.get(f"/accounts/login/?idp={provider}")
    assert start.status_code == 302
    callback = idp_round_trip(start["Location"], provider, username)
    return client.get(relative(callback))


def test_chooser_shows_a_button_per_idp_enabled_on_the_client(
    emulator: Emulator, client: Client
) -> None:
    page = client.get("/federation/").content.decode()

    assert 'data-testid="idp-Google"' in page
    assert "Continue with Google" in page
    assert 'data-testid="idp-ExampleOIDC"' in page
    assert 'data-testid="idp-ExampleSAML"' in page
    assert 'href="/accounts/login/?idp=ExampleSAML"' in page
    assert 'data-testid="idp-COGNITO"' not in page


def test_home_page_has_the_same_buttons(emulator: Emulator, client: Client) -> None:
    page = client.get("/").content.decode()

    for name in ("Google", "ExampleOIDC", "ExampleSAML"):
        assert f'data-testid="idp-{name}"' in page


def test_the_providers_are_read_once_and_cached(emulator: Emulator, client: Client) -> None:
    client.get("/federation/")
    cognito = boto3.client("cognito-idp", endpoint_url=emulator.url, region_name=seed.REGION)
    cognito.update_user_pool_client(
        UserPoolId=seed.USER_POOL_ID,
        ClientId=seed.CLIENT_ID,
        SupportedIdentityProviders=["COGNITO", "Google"],
        CallbackURLs=["http://testserver/accounts/callback/"],
    )

    cached = client.get("/federation/").content.decode()
    cache.clear()
    fresh = client.get("/federation/").content.decode()

    assert 'data-testid="idp-ExampleSAML"' in cached
    assert 'data-testid="idp-ExampleSAML"' not in fresh
    assert 'data-testid="idp-Google"' in fresh


def test_a_configured_list_stands_in_for_a_pool_the_app_cannot_describe(
    client: Client, settings: Any
) -> None:
    settings.COGNITO_IDENTITY_PROVIDERS = ["CorpSSO=Corp single sign-on", "Google"]
    # No emulator here: a describe call would fail; the configured list needs none.

    page = client.get("/federation/").content.decode()

    assert 'data-testid="idp-CorpSSO"' in page
    assert "Continue with Corp single sign-on" in page
    assert 'data-testid="idp-Google"' in page


def test_an_unreachable_pool_leaves_the_chooser_usable(client: Client, settings: Any) -> None:
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"

    response = client.get("/federation/")

    assert response.status_code == 200
    assert 'data-testid="no-providers"' in response.content.decode()


def test_idp_parameter_skips_the_chooser_with_state_nonce_and_pkce(
    emulator: Emulator, client: Client
) -> None:
    response = client.get("/accounts/login/?idp=ExampleOIDC&next=/federation/")

    assert response.status_code == 302
    params = query(response["Location"])
    assert response["Location"].startswith(f"{emulator.url}/oauth2/authorize?")
    assert params["identity_provider"] == "ExampleOIDC"
    assert params["code_challenge_method"] == "S256"
    assert params["nonce"] and params["code_challenge"]
    assert params["redirect_uri"] == "http://testserver/accounts/callback/"
    assert params["state"] in client.session[PENDING_LOGINS]


def test_plain_managed_login_names_no_identity_provider(emulator: Emulator, client: Client) -> None:
    params = query(client.get("/accounts/login/")["Location"])

    assert "identity_provider" not in params
    assert "idp_identifier" not in params


@pytest.mark.parametrize(
    ("provider", "username"),
    [
        ("Google", "gina@gmail.example"),
        ("ExampleOIDC", "olivia@oidc.example.com"),
        ("ExampleSAML", "sofia@saml.example.com"),
    ],
)
def test_each_idp_signs_the_user_in_and_the_page_says_which(
    emulator: Emulator, client: Client, provider: str, username: str
) -> None:
    user = idp_user(provider, username)

    callback = federated_sign_in(client, provider, username)

    assert callback.status_code == 302
    home = client.get(callback["Location"]).content.decode()
    assert f'data-testid="current-user">{provider}_{user.subject}<' in home
    assert f'data-testid="signed-in-with">{provider}<' in home


def test_federated_users_are_keyed_by_sub_across_sign_ins(
    emulator: Emulator, client: Client
) -> None:
    federated_sign_in(client, "ExampleSAML", "sam@saml.example.com")
    first = User.objects.get(username="ExampleSAML_sam@saml.example.com")
    client.post("/accounts/logout/")

    federated_sign_in(client, "ExampleSAML", "sam@saml.example.com")

    assert User.objects.filter(cognito_sub=first.cognito_sub).count() == 1
    assert User.objects.get(cognito_sub=first.cognito_sub).pk == first.pk


@pytest.mark.parametrize(
    ("provider", "username", "trusted_email"),
    [
        ("ExampleOIDC", "olivia@oidc.example.com", "olivia@oidc.example.com"),
        ("ExampleOIDC", "oscar@oidc.example.com", ""),  # the IdP says: not verified
        ("ExampleSAML", "sam@saml.example.com", ""),  # email mapped, email_verified not
    ],
)
def test_email_is_trusted_only_when_the_idp_marked_it_verified(
    emulator: Emulator, client: Client, provider: str, username: str, trusted_email: str
) -> None:
    federated_sign_in(client, provider, username)

    user = User.objects.get(username=f"{provider}_{idp_user(provider, username).subject}")
    assert user.email == trusted_email


@pytest.mark.parametrize(
    ("email", "provider"),
    [("olivia@oidc.example.com", "ExampleOIDC"), ("Sofia@SAML.example.com", "ExampleSAML")],
)
def test_work_email_routes_to_its_idp_with_idp_identifier(
    emulator: Emulator, client: Client, email: str, provider: str
) -> None:
    response = client.post("/federation/", {"email": email})

    assert response.status_code == 302
    params = query(response["Location"])
    assert params["idp_identifier"] == email.rpartition("@")[2].lower()
    assert "identity_provider" not in params
    assert params["state"] in client.session[PENDING_LOGINS]
    at_pool = IdpBrowser().get(response["Location"])
    assert at_pool.headers["Location"].startswith(emulator.idps[provider])


def test_work_email_signs_in_end_to_end(emulator: Emulator, client: Client) -> None:
    started = client.post("/federation/", {"email": "sam@saml.example.com"})

    callback = idp_round_trip(started["Location"], "ExampleSAML", "sam@saml.example.com")
    done = client.get(relative(callback))

    assert done.status_code == 302
    assert client.get("/").context["user"].username == "ExampleSAML_sam@saml.example.com"


def test_a_work_email_no_idp_claims_is_refused_here(emulator: Emulator, client: Client) -> None:
    response = client.post("/federation/", {"email": "someone@elsewhere.example"})

    assert response.status_code == 400
    assert 'data-testid="error"' in response.content.decode()


@pytest.mark.parametrize("provider", ["Google", "ExampleOIDC", "ExampleSAML"])
def test_cancel_at_the_idp_gives_a_friendly_page_with_ways_to_try_again(
    emulator: Emulator, client: Client, provider: str
) -> None:
    start = client.get(f"/accounts/login/?idp={provider}")

    response = failed_page(client.get(relative(cancel_at_idp(start["Location"]))))

    assert response.status_code == 400
    page = response.content.decode()
    assert "did not sign you in" in page
    assert 'data-testid="sign-in-again"' in page
    assert 'data-testid="choose-another-way"' in page
    assert "_auth_user_id" not in client.session


def test_an_idp_that_refuses_the_user_gives_the_friendly_page(
    emulator: Emulator, client: Client
) -> None:
    response = failed_page(federated_sign_in(client, "ExampleOIDC", "otto@oidc.example.com"))

    assert response.status_code == 400
    assert "did not sign you in" in response.content.decode()


def test_an_unknown_provider_name_gives_the_friendly_page(
    emulator: Emulator, client: Client
) -> None:
    start = client.get("/accounts/login/?idp=NoSuchIdP")
    at_pool = IdpBrowser().get(start["Location"])

    response = failed_page(client.get(relative(at_pool.headers["Location"])))

    assert response.status_code == 400
    assert "did not sign you in" in response.content.decode()


# --- the account page of a federated user -------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "username", "display_name"),
    [
        ("ExampleOIDC", "olivia@oidc.example.com", "Example Corp (OIDC)"),
        ("ExampleSAML", "sofia@saml.example.com", "Example Corp (SAML)"),
    ],
)
def test_a_federated_user_sees_what_their_idp_keeps_on_the_account_page(
    emulator: Emulator,
    demo_names: None,
    client: Client,
    provider: str,
    username: str,
    display_name: str,
) -> None:
    assert federated_sign_in(client, provider, username).status_code == 302

    page = client.get("/accounts/profile/")

    assert page.status_code == 200
    body = page.content.decode()
    assert f'data-testid="profile-email">{username}<' in body
    assert f"You sign in with <strong>{display_name}</strong>" in body
    # Every attribute the demo's IdPs map is theirs: shown greyed out, no Save, no password forms.
    assert 'name="email"' in body and "disabled" in body and 'data-testid="submit"' not in body
    assert 'data-testid="change-password"' not in body and 'data-testid="mfa-settings"' not in body


def test_a_federated_user_is_sent_from_the_password_pages_to_the_account_page(
    emulator: Emulator, client: Client
) -> None:
    federated_sign_in(client, "ExampleOIDC", "olivia@oidc.example.com")

    paths = ("/accounts/password/change/", "/accounts/mfa/", "/accounts/reauthenticate/")
    answers = [client.get(path) for path in paths]
    page = client.get("/accounts/profile/").content.decode()

    assert [(a.status_code, a["Location"]) for a in answers] == [(302, "/accounts/profile/")] * 3
    assert "your password and two-step verification are kept there" in page


def test_a_federated_user_may_not_change_an_attribute_their_idp_keeps(
    emulator: Emulator, client: Client
) -> None:
    federated_sign_in(client, "ExampleOIDC", "olivia@oidc.example.com")

    client.post("/accounts/profile/", {"given_name": "Mallory", "email": "m@evil.example"})
    page = client.get("/accounts/profile/").content.decode()

    assert 'value="Olivia"' in page and 'value="olivia@oidc.example.com"' in page


def test_the_demo_names_each_idp_by_its_display_name_on_buttons_and_home(
    emulator: Emulator, client: Client, demo_names: None
) -> None:
    buttons = client.get("/").content.decode()
    federated_sign_in(client, "Google", "gina@gmail.example")
    home = client.get("/").content.decode()

    assert ">Continue with Example Corp (OIDC)<" in buttons
    assert ">Continue with Example Corp (SAML)<" in buttons and ">Continue with Google<" in buttons
    assert "You signed in with <strong>Google</strong>" in home
    # The pool's username for her (Google_<sub>) is shown by her name, not as the greeting.
    assert "<h1>Welcome, Gina Social</h1>" in home


def test_without_display_names_an_oidc_idp_goes_by_its_pool_name(
    emulator: Emulator, client: Client
) -> None:
    assert ">Continue with ExampleOIDC<" in client.get("/").content.decode()


def test_a_federated_user_without_the_account_scope_is_told_where_to_change_things(
    emulator: Emulator, client: Client, settings: Any, demo_names: None
) -> None:
    settings.COGNITO_SCOPES = ["openid", "email", "profile"]
    federated_sign_in(client, "ExampleSAML", "sofia@saml.example.com")

    page = client.get("/accounts/profile/")

    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="profile-email">sofia@saml.example.com<' in body
    assert "You sign in with <strong>Example Corp (SAML)</strong>: change your details" in body
    # No password form to offer her: not even "sign in on this site's own form".
    assert "own form" not in body
