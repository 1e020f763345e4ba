"""Managed login branding: the style operations, and each client's pages in its own look."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import seed
from emulator.server import Emulator

from .flows import Browser, authorize_params

POOL = seed.USER_POOL_ID
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
_LOGO = re.compile(r'<img class="brand-logo" src="([^"]+)"')


def login_page(emulator: Emulator, client_id: str, redirect_uri: str) -> str:
    browser = Browser(emulator)
    params = authorize_params(client_id=client_id, redirect_uri=redirect_uri, scope="openid")
    response = browser.get("/login", params=params)
    assert response.status_code == 200, response.text
    return response.text


def demo_page(emulator: Emulator) -> str:
    return login_page(emulator, seed.CLIENT_ID, authorize_params()["redirect_uri"])


def partner_page(emulator: Emulator) -> str:
    return login_page(emulator, seed.PARTNER_CLIENT_ID, seed.PARTNER_CALLBACK_URL)


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def test_two_clients_pages_have_their_own_colours_and_logos(emulator: Emulator) -> None:
    demo, partner = demo_page(emulator), partner_page(emulator)

    demo_bg, demo_button, _ = seed.BRAND_COLORS[seed.CLIENT_ID]
    partner_bg, partner_button, _ = seed.BRAND_COLORS[seed.PARTNER_CLIENT_ID]
    assert f"background:#{demo_bg}" in demo and f"background:#{demo_button}" in demo
    assert f"background:#{partner_bg}" in partner and f"background:#{partner_button}" in partner
    assert partner_bg not in demo and demo_bg not in partner
    assert _LOGO.search(demo).group(1) != _LOGO.search(partner).group(1)


def test_the_logo_and_favicon_are_served_from_the_emulator(emulator: Emulator) -> None:
    page = partner_page(emulator)
    browser = Browser(emulator)

    logo = browser.get(_LOGO.search(page).group(1))
    favicon_path = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    favicon = browser.get(favicon_path)

    assert logo.status_code == 200 and logo.headers["Content-Type"] == "image/svg+xml"
    assert b"Partner site" in logo.content
    assert favicon.status_code == 200
    # An uploaded SVG must not run script in the emulator's origin.
    assert "sandbox" in logo.headers["Content-Security-Policy"]
    assert browser.get("/managed-login-assets/no-such-style/FORM_LOGO-LIGHT").status_code == 404


def test_a_client_without_a_style_gets_the_default_look(emulator: Emulator, idp: Any) -> None:
    style = idp.describe_managed_login_branding_by_client(
        UserPoolId=POOL, ClientId=seed.PARTNER_CLIENT_ID
    )["ManagedLoginBranding"]

    idp.delete_managed_login_branding(
        UserPoolId=POOL, ManagedLoginBrandingId=style["ManagedLoginBrandingId"]
    )

    page = partner_page(emulator)
    assert 'data-testid="brand-logo"' not in page and 'rel="icon"' not in page
    # The default look: the site's stylesheet, no client colours over it.
    assert 'href="/site.css"' in page and "button{" not in page
    with pytest.raises(ClientError) as error:
        idp.describe_managed_login_branding_by_client(
            UserPoolId=POOL, ClientId=seed.PARTNER_CLIENT_ID
        )
    assert error_code(error) == "ResourceNotFoundException"


def test_create_update_and_describe_a_style(emulator: Emulator, idp: Any) -> None:
    old = idp.describe_managed_login_branding_by_client(UserPoolId=POOL, ClientId=seed.CLIENT_ID)
    idp.delete_managed_login_branding(
        UserPoolId=POOL,
        ManagedLoginBrandingId=old["ManagedLoginBranding"]["ManagedLoginBrandingId"],
    )

    created = idp.create_managed_login_branding(
        UserPoolId=POOL,
        ClientId=seed.CLIENT_ID,
        Settings={"components": {"pageBackground": {"lightMode": {"color": "112233ff"}}}},
        Assets=[
            {"Category": "PAGE_BACKGROUND", "ColorMode": "LIGHT", "Extension": "SVG", "Bytes": SVG}
        ],
    )["ManagedLoginBranding"]
    style_id = created["ManagedLoginBrandingId"]
    idp.update_managed_login_branding(
        UserPoolId=POOL,
        ManagedLoginBrandingId=style_id,
        Settings={
            "components": {
                "primaryButton": {"lightMode": {"defaults": {"backgroundColor": "445566ff"}}}
            }
        },
    )

    described = idp.describe_managed_login_branding(
        UserPoolId=POOL, ManagedLoginBrandingId=style_id
    )["ManagedLoginBranding"]
    merged = idp.describe_managed_login_branding(
        UserPoolId=POOL, ManagedLoginBrandingId=style_id, ReturnMergedResources=True
    )["ManagedLoginBranding"]
    components = described["Settings"]["components"]
    assert components["pageBackground"]["lightMode"]["color"] == "112233ff"  # kept
    assert components["primaryButton"]["lightMode"]["defaults"]["backgroundColor"] == "445566ff"
    assert "favicon" not in components and "favicon" in merged["Settings"]["components"]
    assert described["Assets"][0]["Bytes"] == SVG
    page = demo_page(emulator)
    assert "background:#112233ff url(" in page and "background:#445566ff" in page


def test_a_second_style_for_the_same_client_is_refused(idp: Any) -> None:
    with pytest.raises(ClientError) as error:
        idp.create_managed_login_branding(
            UserPoolId=POOL, ClientId=seed.CLIENT_ID, UseCognitoProvidedValues=True
        )

    assert error_code(error) == "ManagedLoginBrandingExistsException"


def test_a_style_with_cognito_provided_values_is_accepted(idp: Any) -> None:
    old = idp.describe_managed_login_branding_by_client(UserPoolId=POOL, ClientId=seed.CLIENT_ID)
    idp.delete_managed_login_branding(
        UserPoolId=POOL,
        ManagedLoginBrandingId=old["ManagedLoginBranding"]["ManagedLoginBrandingId"],
    )

    created = idp.create_managed_login_branding(
        UserPoolId=POOL, ClientId=seed.CLIENT_ID, UseCognitoProvidedValues=True
    )["ManagedLoginBranding"]

    assert created["UseCognitoProvidedValues"] is True and created["Assets"] == []


@pytest.mark.parametrize(
    ("settings", "assets"),
    [
        ({"components": {"pageBackground": {"lightMode": {"color": "red"}}}}, None),
        ({"colours": {}}, None),
        (None, [{"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "GIF", "Bytes": SVG}]),
        (
            None,
            [{"Category": "FAVICON_ICO", "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": SVG}],
        ),
        (
            None,
            [
                {
                    "Category": "FORM_LOGO",
                    "ColorMode": "LIGHT",
                    "Extension": "PNG",
                    "Bytes": b"\0" * 1_000_001,
                }
            ],
        ),
    ],
    ids=["colour-not-hex", "unknown-setting", "unknown-extension", "favicon-type", "oversized"],
)
def test_bad_settings_and_oversized_assets_are_refused(
    emulator: Emulator, idp: Any, settings: Any, assets: Any
) -> None:
    style = idp.describe_managed_login_branding_by_client(UserPoolId=POOL, ClientId=seed.CLIENT_ID)[
        "ManagedLoginBranding"
    ]
    extra: dict[str, Any] = {}
    if settings is not None:
        extra["Settings"] = settings
    if assets is not None:
        extra["Assets"] = assets

    with pytest.raises(ClientError) as error:
        idp.update_managed_login_branding(
            UserPoolId=POOL, ManagedLoginBrandingId=style["ManagedLoginBrandingId"], **extra
        )

    assert error_code(error) == "InvalidParameterException"
    assert f"background:#{seed.BRAND_COLORS[seed.CLIENT_ID][0]}" in demo_page(emulator)


def test_an_asset_of_the_largest_size_is_accepted(idp: Any) -> None:
    style = idp.describe_managed_login_branding_by_client(UserPoolId=POOL, ClientId=seed.CLIENT_ID)[
        "ManagedLoginBranding"
    ]

    updated = idp.update_managed_login_branding(
        UserPoolId=POOL,
        ManagedLoginBrandingId=style["ManagedLoginBrandingId"],
        Assets=[
            {
                "Category": "FORM_LOGO",
                "ColorMode": "LIGHT",
                "Extension": "PNG",
                "Bytes": b"\0" * 1_000_000,
            }
        ],
    )["ManagedLoginBranding"]

    logo = next(a for a in updated["Assets"] if a["Category"] == "FORM_LOGO")
    assert logo["Extension"] == "PNG" and len(logo["Bytes"]) == 1_000_000


@pytest.mark.parametrize(
    ("client_id", "code"),
    [("nosuchclient", "ResourceNotFoundException")],
)
def test_describe_by_client_of_an_unknown_client(idp: Any, client_id: str, code: str) -> None:
    with pytest.raises(ClientError) as error:
        idp.describe_managed_login_branding_by_client(UserPoolId=POOL, ClientId=client_id)

    assert error_code(error) == code


def test_describe_by_client_is_the_clients_own_style(idp: Any) -> None:
    demo = idp.describe_managed_login_branding_by_client(UserPoolId=POOL, ClientId=seed.CLIENT_ID)
    partner = idp.describe_managed_login_branding_by_client(
        UserPoolId=POOL, ClientId=seed.PARTNER_CLIENT_ID
    )

    ids = {
        demo["ManagedLoginBranding"]["ManagedLoginBrandingId"],
        partner["ManagedLoginBranding"]["ManagedLoginBrandingId"],
    }
    assert len(ids) == 2
