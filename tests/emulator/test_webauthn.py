"""Passkeys through the user pools API: registration, the WEB_AUTHN challenge, each refusal."""

from __future__ import annotations

import base64
import html
import json
import re
import time
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from pycognito.aws_srp import AWSSRP

from emulator import seed
from emulator.server import Emulator

from .api_flows import USERS, error_of, initiate_password, secret_hash
from .authenticator import Authenticator, b64url, unb64url
from .flows import Browser, authorize_params, exchange, page_error, query_of, verify

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
PENDING = re.compile(r'name="pending" value="([^"]+)"')
OPTIONS = re.compile(r'<script type="application/json" id="passkey-options">(.*?)</script>')

HEIDI = seed.PASSKEY_USER.username


def access_token(idp: Any, username: str = "bob") -> str:
    return initiate_password(idp, username)["AuthenticationResult"]["AccessToken"]


def register(idp: Any, token: str, authenticator: Authenticator, **create: Any) -> dict:
    options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    return idp.complete_web_authn_registration(
        AccessToken=token, Credential=authenticator.create(options, **create)
    )


def passkey_step(idp: Any, username: str) -> dict:
    """USER_AUTH with WEB_AUTHN preferred: the challenge and its request options."""
    step = idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_AUTH",
        AuthParameters={
            "USERNAME": username,
            "SECRET_HASH": secret_hash(username),
            "PREFERRED_CHALLENGE": "WEB_AUTHN",
        },
    )
    assert step["ChallengeName"] == "WEB_AUTHN"
    return step


def options_of(step: dict) -> dict:
    return json.loads(step["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])


def sign_in(idp: Any, step: dict, username: str, credential: dict) -> dict:
    return idp.respond_to_auth_challenge(
        ClientId=seed.CLIENT_ID,
        ChallengeName="WEB_AUTHN",
        Session=step["Session"],
        ChallengeResponses={
            "USERNAME": username,
            "SECRET_HASH": secret_hash(username),
            "CREDENTIAL": json.dumps(credential),
        },
    )


@pytest.fixture
def heidi_key() -> Authenticator:
    """The seed's passkey of heidi (its private key is published for tests and the demo)."""
    return Authenticator.from_pkcs8(seed.PASSKEY_PRIVATE_KEY, seed.PASSKEY_CREDENTIAL_ID)


# Registration.


def test_registration_options_name_the_pool_relying_party_and_the_user(idp) -> None:
    options = idp.start_web_authn_registration(AccessToken=access_token(idp))[
        "CredentialCreationOptions"
    ]

    assert options["rp"]["id"] == seed.WEBAUTHN_RELYING_PARTY_ID
    assert options["user"]["name"] == "bob"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["challenge"]


def test_a_registered_passkey_is_listed(idp) -> None:
    token = access_token(idp)
    authenticator = Authenticator()

    register(idp, token, authenticator)
    listed = idp.list_web_authn_credentials(AccessToken=token)["Credentials"]

    assert [c["CredentialId"] for c in listed] == [authenticator.id]
    assert listed[0]["RelyingPartyId"] == "localhost"
    assert listed[0]["AuthenticatorTransports"] == ["internal"]
    assert listed[0]["FriendlyCredentialName"]


@pytest.mark.parametrize(
    ("create", "code"),
    [
        ({"origin": "http://localhost.example.com:8000"}, "WebAuthnOriginNotAllowedException"),
        ({"origin": "http://127.0.0.1:8000"}, "WebAuthnOriginNotAllowedException"),
        ({"rp_id": "example.com"}, "WebAuthnRelyingPartyMismatchException"),
    ],
)
def test_a_registration_for_another_site_is_refused(idp, create: dict, code: str) -> None:
    token = access_token(idp)

    error = error_of(register, idp, token, Authenticator(), **create)
    accepted = register(idp, token, Authenticator(), origin="http://app.localhost:8000")

    assert error["Code"] == code
    assert accepted == {"ResponseMetadata": accepted["ResponseMetadata"]}
    assert len(idp.list_web_authn_credentials(AccessToken=token)["Credentials"]) == 1


def test_a_registration_challenge_is_used_once(idp) -> None:
    token = access_token(idp)
    options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    credential = Authenticator().create(options)
    idp.complete_web_authn_registration(AccessToken=token, Credential=credential)

    error = error_of(idp.complete_web_authn_registration, AccessToken=token, Credential=credential)

    assert error["Code"] == "WebAuthnChallengeNotFoundException"


def test_an_expired_registration_challenge_is_refused(idp, emulator: Emulator) -> None:
    token = access_token(idp)
    options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    registrations = emulator.state.flows.passkey_registrations
    registrations["bob"] = replace(registrations["bob"], expires_at=time.time() - 1)

    error = error_of(
        idp.complete_web_authn_registration,
        AccessToken=token,
        Credential=Authenticator().create(options),
    )

    assert error["Code"] == "WebAuthnChallengeNotFoundException"


def test_completing_with_another_clients_token_is_refused(idp) -> None:
    token = access_token(idp)
    options = idp.start_web_authn_registration(AccessToken=token)["CredentialCreationOptions"]
    public = AWSSRP(
        username="bob",
        password=USERS["bob"].password,
        pool_id=seed.USER_POOL_ID,
        client_id=seed.PUBLIC_CLIENT_ID,
        client=idp,
    ).authenticate_user()["AuthenticationResult"]["AccessToken"]

    error = error_of(
        idp.complete_web_authn_registration,
        AccessToken=public,
        Credential=Authenticator().create(options),
    )

    assert error["Code"] == "WebAuthnClientMismatchException"


def test_registration_needs_passkeys_enabled_in_the_pool(idp) -> None:
    token = access_token(idp)
    idp.update_user_pool(
        UserPoolId=seed.USER_POOL_ID,
        Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}},
    )

    error = error_of(idp.start_web_authn_registration, AccessToken=token)

    assert error["Code"] == "WebAuthnNotEnabledException"


def test_the_relying_party_is_set_with_the_pool_mfa_config(idp) -> None:
    idp.set_user_pool_mfa_config(
        UserPoolId=seed.USER_POOL_ID,
        WebAuthnConfiguration={"RelyingPartyId": "app.localhost", "UserVerification": "required"},
    )

    config = idp.get_user_pool_mfa_config(UserPoolId=seed.USER_POOL_ID)
    options = idp.start_web_authn_registration(AccessToken=access_token(idp))[
        "CredentialCreationOptions"
    ]

    assert config["WebAuthnConfiguration"]["RelyingPartyId"] == "app.localhost"
    assert config["MfaConfiguration"] == "OPTIONAL"
    assert options["rp"]["id"] == "app.localhost"
    assert options["authenticatorSelection"]["userVerification"] == "required"


def test_a_deleted_passkey_is_gone(idp) -> None:
    token = access_token(idp)
    authenticator = Authenticator()
    register(idp, token, authenticator)

    idp.delete_web_authn_credential(AccessToken=token, CredentialId=authenticator.id)
    again = error_of(
        idp.delete_web_authn_credential, AccessToken=token, CredentialId=authenticator.id
    )

    assert idp.list_web_authn_credentials(AccessToken=token)["Credentials"] == []
    assert again["Code"] == "ResourceNotFoundException"


# Sign-in with a passkey.


def test_a_registered_passkey_signs_in(idp) -> None:
    authenticator = Authenticator()
    register(idp, access_token(idp), authenticator)
    step = passkey_step(idp, "bob")
    options = options_of(step)

    result = sign_in(idp, step, "bob", authenticator.get(options))

    assert options["rpId"] == "localhost"
    assert [c["id"] for c in options["allowCredentials"]] == [authenticator.id]
    assert result["AuthenticationResult"]["AccessToken"]


def test_the_seeded_passkey_signs_heidi_in(idp, heidi_key: Authenticator) -> None:
    step = passkey_step(idp, HEIDI)

    result = sign_in(idp, step, HEIDI, heidi_key.get(options_of(step)))

    assert result["AuthenticationResult"]["IdToken"]


def test_passkeys_are_offered_only_to_users_who_have_one(idp) -> None:
    heidi = idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": HEIDI, "SECRET_HASH": secret_hash(HEIDI)},
    )
    bob = idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": "bob", "SECRET_HASH": secret_hash("bob")},
    )

    assert "WEB_AUTHN" in heidi["AvailableChallenges"]
    assert "WEB_AUTHN" not in bob["AvailableChallenges"]


@pytest.mark.parametrize(
    ("get", "reason"),
    [
        ({"origin": "https://evil.example"}, "is not allowed for localhost"),
        ({"origin": "http://127.0.0.1:8000"}, "is not allowed for localhost"),
        ({"rp_id": "example.com"}, "Unexpected RP ID hash"),
    ],
)
def test_an_assertion_for_another_site_is_refused(
    idp, heidi_key: Authenticator, get: dict, reason: str
) -> None:
    step = passkey_step(idp, HEIDI)

    error = error_of(sign_in, idp, step, HEIDI, heidi_key.get(options_of(step), **get))
    retry = passkey_step(idp, HEIDI)
    accepted = sign_in(idp, retry, HEIDI, heidi_key.get(options_of(retry)))

    assert error["Code"] == "NotAuthorizedException"
    assert reason in error["Message"]
    assert accepted["AuthenticationResult"]["AccessToken"]


def test_a_tampered_signature_is_refused(idp, heidi_key: Authenticator) -> None:
    step = passkey_step(idp, HEIDI)
    credential = heidi_key.get(options_of(step))
    signature = bytearray(unb64url(credential["response"]["signature"]))
    signature[-1] ^= 0x01
    credential["response"]["signature"] = b64url(bytes(signature))

    error = error_of(sign_in, idp, step, HEIDI, credential)

    assert error["Code"] == "NotAuthorizedException"
    assert "Could not verify authentication signature" in error["Message"]


def test_an_unknown_credential_is_refused(idp, heidi_key: Authenticator) -> None:
    step = passkey_step(idp, HEIDI)
    stranger = Authenticator(user_handle=heidi_key.user_handle)

    error = error_of(sign_in, idp, step, HEIDI, stranger.get(options_of(step)))

    assert error == {
        "Code": "NotAuthorizedException",
        "Message": "The passkey is not registered for this user.",
    }


def test_a_replayed_assertion_is_refused(idp, heidi_key: Authenticator) -> None:
    step = passkey_step(idp, HEIDI)
    credential = heidi_key.get(options_of(step))
    sign_in(idp, step, HEIDI, credential)

    same_session = error_of(sign_in, idp, step, HEIDI, credential)
    new_session = error_of(sign_in, idp, passkey_step(idp, HEIDI), HEIDI, credential)

    assert same_session["Message"] == "Invalid session for the user, session is expired."
    assert new_session["Code"] == "NotAuthorizedException"
    assert "challenge" in new_session["Message"]


def test_an_expired_sign_in_challenge_is_refused(idp, emulator: Emulator, heidi_key) -> None:
    step = passkey_step(idp, HEIDI)
    sessions = emulator.state.flows.auth_sessions
    sessions[step["Session"]] = replace(sessions[step["Session"]], expires_at=time.time() - 1)

    error = error_of(sign_in, idp, step, HEIDI, heidi_key.get(options_of(step)))

    assert error == {
        "Code": "NotAuthorizedException",
        "Message": "Invalid session for the user, session is expired.",
    }


def test_a_sign_count_that_goes_back_is_refused(idp, heidi_key: Authenticator) -> None:
    first = passkey_step(idp, HEIDI)
    sign_in(idp, first, HEIDI, heidi_key.get(options_of(first), sign_count=5))
    later = passkey_step(idp, HEIDI)

    error = error_of(sign_in, idp, later, HEIDI, heidi_key.get(options_of(later), sign_count=3))
    ahead = passkey_step(idp, HEIDI)
    accepted = sign_in(idp, ahead, HEIDI, heidi_key.get(options_of(ahead), sign_count=6))

    assert error["Code"] == "NotAuthorizedException"
    assert "sign count of 3 was not greater than current count of 5" in error["Message"]
    assert accepted["AuthenticationResult"]["AccessToken"]


def test_a_deleted_passkey_no_longer_signs_in(idp, heidi_key: Authenticator) -> None:
    step = passkey_step(idp, HEIDI)
    token = initiate_password_for(idp, HEIDI)
    idp.delete_web_authn_credential(AccessToken=token, CredentialId=heidi_key.id)

    error = error_of(sign_in, idp, step, HEIDI, heidi_key.get(options_of(step)))

    assert error["Message"] == "The passkey is not registered for this user."


def test_a_passkey_counts_as_mfa_only_with_user_verification_when_the_pool_says_so(
    idp, heidi_key: Authenticator
) -> None:
    idp.set_user_pool_mfa_config(
        UserPoolId=seed.USER_POOL_ID,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        WebAuthnConfiguration={"FactorConfiguration": "MULTI_FACTOR_WITH_USER_VERIFICATION"},
    )
    step = passkey_step(idp, HEIDI)

    error = error_of(
        sign_in, idp, step, HEIDI, heidi_key.get(options_of(step), user_verified=False)
    )
    retry = passkey_step(idp, HEIDI)
    accepted = sign_in(idp, retry, HEIDI, heidi_key.get(options_of(retry)))

    assert error["Code"] == "NotAuthorizedException"
    assert "User verification" in error["Message"]
    assert accepted["AuthenticationResult"]["AccessToken"]


def test_with_single_factor_passkeys_a_pool_requiring_mfa_offers_no_passkey(idp) -> None:
    idp.set_user_pool_mfa_config(
        UserPoolId=seed.USER_POOL_ID,
        MfaConfiguration="ON",
        SoftwareTokenMfaConfiguration={"Enabled": True},
    )

    step = idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_AUTH",
        AuthParameters={
            "USERNAME": HEIDI,
            "SECRET_HASH": secret_hash(HEIDI),
            "PREFERRED_CHALLENGE": "WEB_AUTHN",
        },
    )

    assert step["ChallengeName"] == "SELECT_CHALLENGE"
    assert step["AvailableChallenges"] == ["PASSWORD", "PASSWORD_SRP"]


def initiate_password_for(idp: Any, username: str) -> str:
    password = seed.PASSKEY_USER.password
    return idp.initiate_auth(
        ClientId=seed.CLIENT_ID,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": username,
            "PASSWORD": password,
            "SECRET_HASH": secret_hash(username),
        },
    )["AuthenticationResult"]["AccessToken"]


# Managed login: sign in with a passkey (the page's script posts what the authenticator gives).


def passkey_page(emulator: Emulator, username: str) -> tuple[Browser, Any, dict]:
    """The sign-in page's passkey link, the username, then the page with the request options."""
    browser = Browser(emulator)
    login_path, _ = browser.open_login()
    login_page = browser.get(login_path)
    link = re.search(r'href="([^"]+)" data-testid="passkey-signin-link"', login_page.text)
    path = html.unescape(link.group(1))
    form = browser.get(path)
    page = browser.post(path, data={"_csrf": CSRF.search(form.text).group(1), "username": username})
    options = json.loads(OPTIONS.search(page.text).group(1))
    return browser, page, options


def post_assertion(browser: Browser, page: Any, credential: dict) -> Any:
    return browser.post(
        "/login/passkey/verify",
        data={
            "_csrf": CSRF.search(page.text).group(1),
            "pending": PENDING.search(page.text).group(1),
            "credential": json.dumps(credential),
        },
    )


def test_managed_login_signs_in_with_a_passkey(emulator: Emulator, heidi_key) -> None:
    browser, page, options = passkey_page(emulator, HEIDI)

    done = post_assertion(browser, page, heidi_key.get(options, origin=emulator.url))

    assert [c["id"] for c in options["allowCredentials"]] == [heidi_key.id]
    tokens = exchange(emulator, query_of(done)["code"]).json()
    assert verify(emulator, tokens["id_token"], token_use="id")["cognito:username"] == HEIDI


def test_managed_login_refuses_a_passkey_from_another_origin(emulator: Emulator, heidi_key) -> None:
    browser, page, options = passkey_page(emulator, HEIDI)

    refused = post_assertion(browser, page, heidi_key.get(options, origin="https://evil.example"))

    assert refused.status_code == 200
    assert page_error(refused) == "The passkey could not be verified. Please try again."


def test_managed_login_gives_a_user_without_a_passkey_a_page_no_passkey_passes(
    emulator: Emulator, heidi_key
) -> None:
    browser, page, options = passkey_page(emulator, "bob")

    refused = post_assertion(browser, page, heidi_key.get(options, origin=emulator.url))

    assert options["allowCredentials"] == []
    assert page_error(refused) == "The passkey could not be verified. Please try again."


@pytest.mark.browser
def test_managed_login_passkey_page_works_in_chromium(emulator: Emulator) -> None:
    """The page's script with Chromium's virtual authenticator holding heidi's seeded passkey."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM_ARGS, find_chromium, no_browser

    chromium = find_chromium()
    if chromium is None:
        no_browser("no Chromium found")
    heidi = emulator.state.pool._get_user(HEIDI)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page()
        devtools = page.context.new_cdp_session(page)
        devtools.send("WebAuthn.enable")
        authenticator = devtools.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                }
            },
        )["authenticatorId"]
        devtools.send(
            "WebAuthn.addCredential",
            {
                "authenticatorId": authenticator,
                "credential": {
                    "credentialId": base64.b64encode(unb64url(seed.PASSKEY_CREDENTIAL_ID)).decode(),
                    "isResidentCredential": True,
                    "rpId": seed.WEBAUTHN_RELYING_PARTY_ID,
                    "privateKey": seed.PASSKEY_PRIVATE_KEY,
                    "userHandle": base64.b64encode(heidi.id.encode()).decode(),
                    "signCount": 0,
                },
            },
        )
        callbacks: list[str] = []
        page.on("request", lambda r: callbacks.append(r.url) if "/callback/" in r.url else None)
        page.goto(f"{emulator.url}/oauth2/authorize?{urlencode(authorize_params())}")
        page.click('[data-testid="passkey-signin-link"]')
        page.fill('[data-testid="username"]', HEIDI)
        page.click('[data-testid="submit"]')
        page.click('[data-testid="passkey-submit"]')
        page.wait_for_event("request", lambda r: "/callback/" in r.url, timeout=10_000)
        browser.close()

    code = parse_qs(urlsplit(callbacks[0]).query)["code"][0]
    tokens = exchange(emulator, code).json()
    assert verify(emulator, tokens["id_token"], token_use="id")["cognito:username"] == HEIDI
