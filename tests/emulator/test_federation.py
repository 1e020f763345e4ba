"""Federation through the user pool: each provider type, the IdP's errors, idp_identifier routing.

None of this exists in plain moto: it has no IdPs to sign in at, no `/oauth2/idpresponse` or
`/saml2/idpresponse`, and no federated users.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from emulator import saml, seed
from emulator.idps import SamlIdp
from emulator.server import Emulator
from emulator.tokens import SigningKey
from tests.emulator.flows import (
    REDIRECT_URI,
    authorize_params,
    exchange,
    query_of,
    token_request,
    verify,
)
from tests.emulator.idp_flows import IdpBrowser, idp_user, spec


def authorize_url(emulator: Emulator, **overrides: str | None) -> str:
    return f"{emulator.url}/oauth2/authorize?{urlencode(authorize_params(**overrides))}"


def app_redirect(emulator: Emulator, provider: str, username: str, **overrides: str) -> dict:
    """Sign in through `provider` as `username`; the query the app's redirect_uri receives."""
    browser = IdpBrowser()
    page = browser.open_idp(authorize_url(emulator, identity_provider=provider, **overrides))
    answer = browser.back_to_pool(browser.sign_in_at_idp(page, idp_user(provider, username)))
    assert answer.status_code == 302, answer.text[:300]
    assert answer.headers["Location"].startswith(f"{REDIRECT_URI}?")
    return query_of(answer)


def federated_claims(emulator: Emulator, provider: str, username: str) -> dict:
    params = app_redirect(emulator, provider, username)
    assert params["state"] == "state-123"
    response = exchange(emulator, params["code"])
    assert response.status_code == 200, response.text
    return verify(emulator, response.json()["id_token"], token_use="id")


@pytest.mark.parametrize(
    ("provider", "username", "provider_type"),
    [
        ("Google", "gina@gmail.example", "Google"),
        ("ExampleOIDC", "olivia@oidc.example.com", "OIDC"),
        ("ExampleSAML", "sofia@saml.example.com", "SAML"),
    ],
)
def test_each_provider_type_signs_in_a_federated_user(
    emulator: Emulator, provider: str, username: str, provider_type: str
) -> None:
    user = idp_user(provider, username)

    claims = federated_claims(emulator, provider, username)

    assert claims["cognito:username"] == f"{provider}_{user.subject}"
    assert claims["nonce"] == "nonce-456"
    assert claims["email"] == user.email
    assert claims["given_name"] == user.given_name
    [identity] = claims["identities"]
    assert identity["userId"] == user.subject
    assert identity["providerName"] == provider
    assert identity["providerType"] == provider_type
    assert identity["primary"] == "true"
    assert identity["dateCreated"].isdigit()
    assert f"{seed.USER_POOL_ID}_{provider}" in claims["cognito:groups"]


def test_social_identities_have_no_issuer_and_enterprise_ones_do(emulator: Emulator) -> None:
    google = federated_claims(emulator, "Google", "gina@gmail.example")
    oidc = federated_claims(emulator, "ExampleOIDC", "oscar@oidc.example.com")

    assert google["identities"][0]["issuer"] is None
    assert oidc["identities"][0]["issuer"] == emulator.idps["ExampleOIDC"]


def test_a_later_sign_in_links_to_the_same_user(emulator: Emulator) -> None:
    first = federated_claims(emulator, "ExampleSAML", "sam@saml.example.com")
    second = federated_claims(emulator, "ExampleSAML", "sam@saml.example.com")

    assert second["sub"] == first["sub"]
    assert second["identities"][0]["dateCreated"] == first["identities"][0]["dateCreated"]


def test_email_is_verified_only_when_the_idp_says_so(emulator: Emulator) -> None:
    verified = federated_claims(emulator, "ExampleOIDC", "olivia@oidc.example.com")
    unverified = federated_claims(emulator, "ExampleOIDC", "oscar@oidc.example.com")
    # The SAML provider maps email but not email_verified: the email stays unverified.
    saml_user = federated_claims(emulator, "ExampleSAML", "sam@saml.example.com")

    assert verified["email_verified"] is True
    assert unverified["email_verified"] is False
    assert saml_user["email_verified"] is False


def test_the_idp_asks_for_its_own_totp_code(emulator: Emulator) -> None:
    browser = IdpBrowser()
    page = browser.open_idp(authorize_url(emulator, identity_provider="ExampleOIDC"))
    user = idp_user("ExampleOIDC", "olivia@oidc.example.com")

    mfa = browser.submit(page, username=user.username, password=user.password)
    wrong = browser.submit(mfa, code="000000")

    assert 'data-testid="mfa-code"' in mfa.text
    assert 'data-testid="error"' in wrong.text


@pytest.mark.parametrize(
    ("provider", "username"),
    [("ExampleOIDC", "otto@oidc.example.com"), ("Google", None), ("ExampleSAML", None)],
)
def test_idp_refusal_or_cancel_comes_back_to_the_app_as_an_error(
    emulator: Emulator, provider: str, username: str | None
) -> None:
    browser = IdpBrowser()
    page = browser.open_idp(authorize_url(emulator, identity_provider=provider))
    if username:  # refused by the IdP
        answer = browser.sign_in_at_idp(page, idp_user(provider, username))
    else:  # the user cancels
        answer = browser.submit(page, action="cancel")

    back = browser.back_to_pool(answer)

    assert back.status_code == 302
    params = query_of(back)
    assert back.headers["Location"].startswith(f"{REDIRECT_URI}?")
    assert params["error"] == "invalid_request"
    assert "access_denied" in params["error_description"]
    assert params["state"] == "state-123"
    assert "code" not in params


def test_an_unknown_provider_name_is_an_error_for_the_app(emulator: Emulator) -> None:
    response = IdpBrowser().get(authorize_url(emulator, identity_provider="NoSuchIdP"))

    assert response.status_code == 302
    params = query_of(response)
    assert params["error"] == "invalid_request"
    assert params["state"] == "state-123"


def test_identity_provider_cognito_is_managed_login(emulator: Emulator) -> None:
    response = IdpBrowser().get(authorize_url(emulator, identity_provider="COGNITO"))

    assert response.headers["Location"].startswith("/login?")


@pytest.mark.parametrize(
    ("identifier", "provider"),
    [("oidc.example.com", "ExampleOIDC"), ("SAML.example.com", "ExampleSAML")],
)
def test_idp_identifier_routes_to_the_matching_provider(
    emulator: Emulator, identifier: str, provider: str
) -> None:
    response = IdpBrowser().get(authorize_url(emulator, idp_identifier=identifier))

    assert response.status_code == 302
    assert response.headers["Location"].startswith(emulator.idps[provider])


def test_an_unknown_idp_identifier_is_an_error_for_the_app(emulator: Emulator) -> None:
    response = IdpBrowser().get(authorize_url(emulator, idp_identifier="elsewhere.example"))

    assert query_of(response)["error"] == "invalid_request"


def test_the_hosted_sign_in_page_lists_the_clients_idps(emulator: Emulator) -> None:
    browser = IdpBrowser()
    login = browser.get(authorize_url(emulator)).headers["Location"]
    page = browser.get(f"{emulator.url}{login}")

    for name in ("Google", "ExampleOIDC", "ExampleSAML"):
        assert f'data-testid="idp-{name}"' in page.text
    link = form_link(page.text, "ExampleOIDC")
    assert (
        browser.get(f"{emulator.url}{link}")
        .headers["Location"]
        .startswith(emulator.idps["ExampleOIDC"])
    )


def form_link(html: str, name: str) -> str:
    from html import unescape

    marker = f'data-testid="idp-{name}"'
    start = html.rindex('href="', 0, html.index(marker)) + len('href="')
    return unescape(html[start : html.index('"', start)])


def test_identity_providers_come_from_the_user_pool_api(idp) -> None:
    described = idp.describe_user_pool_client(
        UserPoolId=seed.USER_POOL_ID, ClientId=seed.CLIENT_ID
    )["UserPoolClient"]
    saml_idp = idp.describe_identity_provider(
        UserPoolId=seed.USER_POOL_ID, ProviderName="ExampleSAML"
    )["IdentityProvider"]

    assert described["SupportedIdentityProviders"] == [
        "COGNITO",
        "Google",
        "ExampleOIDC",
        "ExampleSAML",
    ]
    assert saml_idp["ProviderType"] == "SAML"
    assert saml_idp["IdpIdentifiers"] == ["saml.example.com"]
    assert "EntityDescriptor" in saml_idp["ProviderDetails"]["MetadataFile"]


# --- what the pool checks in the IdP's answer ----------------------------------------------------
def saml_request(emulator: Emulator) -> tuple[IdpBrowser, str, str]:
    """Start a SAML sign-in; the browser, the AuthnRequest's ID and the pool's RelayState."""
    from urllib.parse import parse_qs, urlsplit

    from saml2 import BINDING_HTTP_REDIRECT

    browser = IdpBrowser()
    response = browser.get(authorize_url(emulator, identity_provider="ExampleSAML"))
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
    idp = saml_idp(emulator)
    request = idp.server.parse_authn_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
    return browser, request.message.id, query["RelayState"]


def saml_idp(emulator: Emulator) -> SamlIdp:
    idp = emulator.state.federation.idps["ExampleSAML"]
    assert isinstance(idp, SamlIdp)
    return idp


def post_assertion(
    emulator: Emulator, browser: IdpBrowser, relay_state: str, saml_response: str
) -> dict:
    response = browser.post(
        f"{emulator.url}/saml2/idpresponse",
        data={"SAMLResponse": saml_response, "RelayState": relay_state},
    )
    assert response.status_code == 302, response.text[:300]
    assert response.headers["Location"].startswith(f"{REDIRECT_URI}?")
    return query_of(response)


def signed(emulator: Emulator, request_id: str, *, audience: str | None = None, **kw: str) -> str:
    user = idp_user("ExampleSAML", "sam@saml.example.com")
    return saml.signed_response(
        saml_idp(emulator).server,
        in_response_to=request_id,
        destination=kw.get("destination", f"{emulator.url}/saml2/idpresponse"),
        audience=audience or saml.sp_entity_id(seed.USER_POOL_ID),
        name_id=kw.get("name_id", user.subject),
        attributes=SamlIdp.attributes(user),
    )


def test_a_well_formed_signed_assertion_is_accepted(emulator: Emulator) -> None:
    browser, request_id, relay_state = saml_request(emulator)

    params = post_assertion(emulator, browser, relay_state, signed(emulator, request_id))

    assert "code" in params


def test_an_assertion_with_a_bad_signature_is_refused(emulator: Emulator) -> None:
    browser, request_id, relay_state = saml_request(emulator)
    xml = base64.b64decode(signed(emulator, request_id)).decode()
    tampered = xml.replace("sam@saml.example.com", "mallory@saml.example.com")
    assert tampered != xml

    params = post_assertion(
        emulator, browser, relay_state, base64.b64encode(tampered.encode()).decode()
    )

    assert params["error"] == "invalid_request"
    assert params["error_description"] == "SAML Error - invalid signature"
    assert "code" not in params


def test_an_assertion_for_another_audience_is_refused(emulator: Emulator) -> None:
    other_pool = saml.sp_entity_id("us-east-1_OTHERpool")
    saml_idp(emulator).trust(entity_id=other_pool, acs_url=f"{emulator.url}/saml2/idpresponse")
    browser, request_id, relay_state = saml_request(emulator)

    params = post_assertion(
        emulator, browser, relay_state, signed(emulator, request_id, audience=other_pool)
    )

    assert params["error"] == "invalid_request"
    assert params["error_description"] == "SAML Error - invalid audience"
    assert "code" not in params


def test_an_assertion_for_another_destination_is_refused(emulator: Emulator) -> None:
    browser, request_id, relay_state = saml_request(emulator)

    response = signed(emulator, request_id, destination="https://elsewhere.example/acs")
    params = post_assertion(emulator, browser, relay_state, response)

    assert params["error"] == "invalid_request"


def test_a_relay_state_is_used_once(emulator: Emulator) -> None:
    browser, request_id, relay_state = saml_request(emulator)
    assertion = signed(emulator, request_id)
    post_assertion(emulator, browser, relay_state, assertion)

    replay = browser.post(
        f"{emulator.url}/saml2/idpresponse",
        data={"SAMLResponse": assertion, "RelayState": relay_state},
    )

    assert replay.status_code == 400


def oidc_callback(emulator: Emulator, provider: str = "ExampleOIDC") -> tuple[IdpBrowser, str]:
    """Start an OIDC sign-in; the browser and the pool's state sent to the IdP."""
    from urllib.parse import parse_qs, urlsplit

    browser = IdpBrowser()
    response = browser.get(authorize_url(emulator, identity_provider=provider))
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
    return browser, query["state"]


def test_an_id_token_with_a_wrong_nonce_is_refused(emulator: Emulator) -> None:
    browser, pool_state = oidc_callback(emulator)
    idp = emulator.state.federation.idps["ExampleOIDC"]
    # The IdP issues a code for another nonce than the pool sent.
    page = browser.get(
        f"{idp.url}/authorize?"
        + urlencode(
            {
                "client_id": spec("ExampleOIDC").client_id,
                "redirect_uri": f"{emulator.url}/oauth2/idpresponse",
                "response_type": "code",
                "state": pool_state,
                "nonce": "not-the-pools-nonce",
            }
        )
    )
    answer = browser.sign_in_at_idp(page, idp_user("ExampleOIDC", "oscar@oidc.example.com"))

    back = browser.back_to_pool(answer)

    params = query_of(back)
    assert params["error"] == "invalid_request"
    assert "nonce" in params["error_description"]


def test_an_unknown_code_at_idpresponse_is_an_error_for_the_app(emulator: Emulator) -> None:
    browser, pool_state = oidc_callback(emulator)

    back = browser.get(f"{emulator.url}/oauth2/idpresponse?code=forged&state={pool_state}")

    params = query_of(back)
    assert params["error"] == "invalid_request"
    assert "code" not in params


def test_idpresponse_without_a_known_state_is_an_error_page(emulator: Emulator) -> None:
    response = IdpBrowser().get(f"{emulator.url}/oauth2/idpresponse?code=x&state=unknown")

    assert response.status_code == 400


def test_the_saml_idp_publishes_its_signing_certificate(emulator: Emulator) -> None:
    page = IdpBrowser().get(f"{emulator.idps['ExampleSAML']}/metadata")

    assert page.status_code == 200
    assert "X509Certificate" in page.text


def test_the_saml_metadata_is_the_one_pysaml2_writes(emulator: Emulator) -> None:
    import saml2
    from saml2.metadata import create_metadata_string

    idp = saml_idp(emulator)
    written = create_metadata_string(None, config=idp.server.config, valid=None, sign=False)

    assert idp.metadata_xml() == written.decode()
    assert (saml.BINDING_HTTP_POST, saml.BINDING_HTTP_REDIRECT) == (
        saml2.BINDING_HTTP_POST,
        saml2.BINDING_HTTP_REDIRECT,
    )


def test_the_emulator_starts_without_importing_pysaml2() -> None:
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from emulator.server import Emulator; e = Emulator().start(); "
            "print('saml2' in sys.modules); e.stop()",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert started.stdout.split() == ["False"]


def test_manifest_lists_each_idp_with_users_and_domains(emulator: Emulator) -> None:
    manifest = emulator.manifest("http://127.0.0.1:8000")

    providers = {p["name"]: p for p in manifest["identity_providers"]}
    assert set(providers) == {"Google", "ExampleOIDC", "ExampleSAML"}
    assert providers["ExampleSAML"]["type"] == "SAML"
    assert providers["ExampleSAML"]["email_domains"] == ["saml.example.com"]
    assert providers["ExampleOIDC"]["url"] == emulator.idps["ExampleOIDC"]
    totp_users = [u for u in providers["ExampleOIDC"]["users"] if u["mfa"] == "totp"]
    assert totp_users and totp_users[0]["totp_secret"]
    assert all(u["password"] for p in providers.values() for u in p["users"])


def test_an_assertion_past_its_time_window_is_refused(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import saml2.time_util

    browser, request_id, relay_state = saml_request(emulator)
    assertion = signed(emulator, request_id)  # valid for 5 minutes from now
    later = saml2.time_util.utc_now() + 10 * 60
    monkeypatch.setattr(saml2.time_util, "utc_now", lambda: later)

    params = post_assertion(emulator, browser, relay_state, assertion)

    assert params["error"] == "invalid_request"
    assert params["error_description"] == "SAML Error - assertion expired"
    assert "code" not in params


@pytest.mark.parametrize(
    ("forgery", "why"),
    [
        ({"audience": "another-client-of-the-idp"}, "audience"),
        ({"issuer": "https://impostor.example"}, "issuer"),
        ({"key": SigningKey.generate()}, "signature"),
    ],
    ids=["audience", "issuer", "signature"],
)
def test_an_id_token_the_pool_cannot_trust_is_refused(
    emulator: Emulator, forgery: dict, why: str
) -> None:
    emulator.state.federation.idps["ExampleOIDC"].tamper = forgery

    params = app_redirect_or_error(emulator, "ExampleOIDC", "oscar@oidc.example.com")

    assert params["error"] == "invalid_request", why
    assert "ExampleOIDC Error" in params["error_description"]
    assert "code" not in params


def app_redirect_or_error(emulator: Emulator, provider: str, username: str) -> dict:
    browser = IdpBrowser()
    page = browser.open_idp(authorize_url(emulator, identity_provider=provider))
    answer = browser.back_to_pool(browser.sign_in_at_idp(page, idp_user(provider, username)))
    assert answer.headers["Location"].startswith(f"{REDIRECT_URI}?")
    return query_of(answer)


def test_a_federated_users_tokens_refresh_with_the_same_identity(emulator: Emulator) -> None:
    params = app_redirect(emulator, "Google", "gina@gmail.example")
    tokens = exchange(emulator, params["code"]).json()

    refreshed = token_request(
        emulator, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )

    assert refreshed.status_code == 200, refreshed.text
    claims = verify(emulator, refreshed.json()["id_token"], token_use="id")
    assert claims["cognito:username"] == "Google_104857600000000000001"
    assert claims["identities"][0]["providerName"] == "Google"
