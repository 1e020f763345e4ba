"""Managed login branding: Cognito's style operations, and the look each client's pages get.

A style belongs to one app client (`CreateManagedLoginBranding` with `ClientId`); the managed
login pages of a request render with the style of the client that asked, and with the emulator's
default look (Cognito's provided values) when that client has none. The emulator reads a documented
part of the `Settings` document (the page background colour, the primary button's colours) and
the logo, background and favicon assets; the rest of the document is kept and returned as given.

Limits as Cognito's API reference gives them (API_AssetType, API_CreateManagedLoginBranding,
service model `AssetBytesType` max 1000000, `AssetListType` max 40): each asset at most 1,000,000
bytes, at most 40 assets, one per category and colour mode, and a favicon's extension must match
its category.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import re
import time
import uuid
from dataclasses import dataclass, field, replace
from html import escape
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from emulator.errors import CognitoError, InvalidParameter, ResourceNotFound
from emulator.native import check_pool, text
from emulator.stores import on_pool

if TYPE_CHECKING:
    from emulator.state import EmulatorState

MAX_ASSET_BYTES = 1_000_000
MAX_ASSETS = 40
CATEGORIES = {
    "FAVICON_ICO",
    "FAVICON_SVG",
    "EMAIL_GRAPHIC",
    "SMS_GRAPHIC",
    "AUTH_APP_GRAPHIC",
    "PASSWORD_GRAPHIC",
    "PASSKEY_GRAPHIC",
    "PAGE_HEADER_LOGO",
    "PAGE_HEADER_BACKGROUND",
    "PAGE_FOOTER_LOGO",
    "PAGE_FOOTER_BACKGROUND",
    "PAGE_BACKGROUND",
    "FORM_BACKGROUND",
    "FORM_LOGO",
    "IDP_BUTTON_ICON",
}
COLOR_MODES = {"LIGHT", "DARK", "DYNAMIC"}
CONTENT_TYPES = {
    "ICO": "image/x-icon",
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "SVG": "image/svg+xml",
    "WEBP": "image/webp",
}
_FAVICON_EXTENSIONS = {"FAVICON_ICO": "ICO", "FAVICON_SVG": "SVG"}
_SETTINGS_KEYS = {"components", "componentClasses", "categories"}
# Cognito's settings give colours as RRGGBBAA hex, e.g. "0972d3ff".
_COLOR = re.compile(r"[0-9a-fA-F]{8}")
_RESOURCE_ID = re.compile(r"[\w\- ]{1,40}")
# The emulator's own look: what a client without a style gets (Cognito's provided values).
DEFAULT_SETTINGS: dict[str, Any] = {
    "components": {
        "pageBackground": {"lightMode": {"color": "f2f3f3ff"}, "image": {"enabled": True}},
        "primaryButton": {
            "lightMode": {"defaults": {"backgroundColor": "ec7211ff", "textColor": "ffffffff"}}
        },
        "form": {"logo": {"enabled": True}},
        "favicon": {"enabledTypes": ["ICO", "SVG"]},
    },
    "componentClasses": {},
    "categories": {"global": {"colorSchemeMode": "LIGHT"}},
}
ASSETS_PATH = "/managed-login-assets"


class ManagedLoginBrandingExists(CognitoError):
    code = "ManagedLoginBrandingExistsException"


@dataclass(frozen=True)
class Asset:
    """An image of a style: its role (category), colour mode, file type and bytes."""

    category: str
    color_mode: str
    extension: str
    data: bytes
    resource_id: str

    @property
    def key(self) -> str:
        return f"{self.category}-{self.color_mode}"

    def to_json(self) -> dict[str, Any]:
        return {
            "Category": self.category,
            "ColorMode": self.color_mode,
            "Extension": self.extension,
            "Bytes": base64.b64encode(self.data).decode(),
            "ResourceId": self.resource_id,
        }


@dataclass(frozen=True)
class Branding:
    """One managed login style, assigned to one app client."""

    id: str
    client_id: str
    use_cognito_provided_values: bool
    settings: dict[str, Any]
    assets: tuple[Asset, ...]
    created: float
    modified: float

    def asset(self, *categories: str) -> Asset | None:
        """The first asset of these categories (light mode, else any mode)."""
        for category in categories:
            found = [a for a in self.assets if a.category == category]
            for asset in sorted(found, key=lambda a: a.color_mode != "LIGHT"):
                return asset
        return None


@dataclass
class BrandingStore:
    """The pool's styles by id (kept on moto's pool object, so a reset clears them)."""

    styles: dict[str, Branding] = field(default_factory=dict)

    def of_client(self, client_id: str) -> Branding | None:
        return next((s for s in self.styles.values() if s.client_id == client_id), None)


def store(state: EmulatorState) -> BrandingStore:
    """The demo pool's branding store."""
    return on_pool(state.pool, "managed_login_branding", BrandingStore)


# Operations.


def create_managed_login_branding(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """CreateManagedLoginBranding: a new style for an app client that has none."""
    check_pool(state, params)
    client_id = text(params, "ClientId")
    if state.client(client_id) is None:
        raise ResourceNotFound(f"User pool client {client_id} does not exist.")
    provided, settings, assets = _style_input(params)
    styles = store(state)
    with state.lock:
        if styles.of_client(client_id) is not None:
            raise ManagedLoginBrandingExists(
                f"A managed login branding style already exists for app client {client_id}."
            )
        now = time.time()
        style = Branding(
            id=str(uuid.uuid4()),
            client_id=client_id,
            use_cognito_provided_values=provided,
            settings=settings or {},
            assets=tuple(assets or ()),
            created=now,
            modified=now,
        )
        styles.styles[style.id] = style
    return {"ManagedLoginBranding": _describe(state, style, merged=False)}


def describe_managed_login_branding(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeManagedLoginBranding."""
    check_pool(state, params)
    style = _style(state, text(params, "ManagedLoginBrandingId"))
    merged = bool(params.get("ReturnMergedResources"))
    return {"ManagedLoginBranding": _describe(state, style, merged=merged)}


def describe_managed_login_branding_by_client(
    state: EmulatorState, params: dict[str, Any]
) -> dict[str, Any]:
    """DescribeManagedLoginBrandingByClient: the client's style; none is ResourceNotFound."""
    check_pool(state, params)
    client_id = text(params, "ClientId")
    if state.client(client_id) is None:
        raise ResourceNotFound(f"User pool client {client_id} does not exist.")
    style = store(state).of_client(client_id)
    if style is None:
        raise ResourceNotFound(f"Managed login branding for app client {client_id} not found.")
    merged = bool(params.get("ReturnMergedResources"))
    return {"ManagedLoginBranding": _describe(state, style, merged=merged)}


def update_managed_login_branding(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateManagedLoginBranding: what is not given is kept; UseCognitoProvidedValues resets."""
    check_pool(state, params)
    provided, settings, assets = _style_input(params)
    with state.lock:
        style = _style(state, text(params, "ManagedLoginBrandingId"))
        if provided:
            style = replace(style, use_cognito_provided_values=True, settings={}, assets=())
        else:
            kept = {a.key: a for a in style.assets}
            kept.update({a.key: a for a in assets or ()})
            if len(kept) > MAX_ASSETS:
                raise InvalidParameter(_too_many_assets())
            style = replace(
                style,
                use_cognito_provided_values=False,
                settings=_merge(style.settings, settings)
                if settings is not None
                else style.settings,
                assets=tuple(kept.values()),
            )
        style = replace(style, modified=time.time())
        store(state).styles[style.id] = style
    return {"ManagedLoginBranding": _describe(state, style, merged=False)}


def delete_managed_login_branding(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteManagedLoginBranding: the client's pages go back to the default look."""
    check_pool(state, params)
    with state.lock:
        style = _style(state, text(params, "ManagedLoginBrandingId"))
        del store(state).styles[style.id]
    return {}


OPERATIONS = {
    "CreateManagedLoginBranding": create_managed_login_branding,
    "DescribeManagedLoginBranding": describe_managed_login_branding,
    "DescribeManagedLoginBrandingByClient": describe_managed_login_branding_by_client,
    "UpdateManagedLoginBranding": update_managed_login_branding,
    "DeleteManagedLoginBranding": delete_managed_login_branding,
}


def _style(state: EmulatorState, style_id: str) -> Branding:
    style = store(state).styles.get(style_id)
    if style is None:
        raise ResourceNotFound(f"Managed login branding {style_id} not found.")
    return style


def _describe(state: EmulatorState, style: Branding, *, merged: bool) -> dict[str, Any]:
    """ManagedLoginBrandingType; merged, the settings include Cognito's provided values."""
    settings = _merge(DEFAULT_SETTINGS, style.settings) if merged else style.settings
    return {
        "ManagedLoginBrandingId": style.id,
        "UserPoolId": state.pool.id,
        "UseCognitoProvidedValues": style.use_cognito_provided_values,
        "Settings": settings,
        "Assets": [asset.to_json() for asset in style.assets],
        "CreationDate": style.created,
        "LastModifiedDate": style.modified,
    }


# Validation: Cognito answers InvalidParameterException, in the model's words where it has them.


def _style_input(
    params: dict[str, Any],
) -> tuple[bool, dict[str, Any] | None, list[Asset] | None]:
    provided = params.get("UseCognitoProvidedValues")
    if provided is not None and not isinstance(provided, bool):
        raise InvalidParameter("UseCognitoProvidedValues must be a boolean.")
    settings = params.get("Settings")
    raw_assets = params.get("Assets")
    if provided and (settings is not None or raw_assets):
        raise InvalidParameter(
            "Settings and Assets cannot be provided when UseCognitoProvidedValues is true."
        )
    if settings is not None:
        _check_settings(settings)
    assets = _assets(raw_assets) if raw_assets is not None else None
    return bool(provided), settings, assets


def _check_settings(settings: object) -> None:
    if not isinstance(settings, dict):
        raise InvalidParameter("Settings must be a JSON object.")
    unknown = sorted(set(settings) - _SETTINGS_KEYS)
    if unknown:
        raise InvalidParameter(f"Settings has unknown property {unknown[0]}.")
    for path, value in _leaves(settings, "Settings"):
        if re.search(r"(?i)colou?r$", path.rsplit(".", 1)[-1]) and not (
            isinstance(value, str) and _COLOR.fullmatch(value)
        ):
            raise InvalidParameter(
                f"Invalid value at {path}: a colour must be 8 hex digits (RRGGBBAA)."
            )


def _leaves(value: object, path: str) -> list[tuple[str, object]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, f"{path}.{k}")]
    return [(path, value)]


def _assets(raw: object) -> list[Asset]:
    if not isinstance(raw, list):
        raise InvalidParameter("Assets must be a list.")
    if len(raw) > MAX_ASSETS:
        raise InvalidParameter(_too_many_assets())
    assets: list[Asset] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise InvalidParameter(f"Assets member {index} must be an object.")
        where = f"assets.{index}.member"
        category = item.get("Category")
        color_mode = item.get("ColorMode")
        extension = item.get("Extension")
        for name, value, allowed in (
            ("category", category, CATEGORIES),
            ("colorMode", color_mode, COLOR_MODES),
            ("extension", extension, set(CONTENT_TYPES)),
        ):
            if value not in allowed:
                raise InvalidParameter(
                    f"1 validation error detected: Value '{value}' at '{where}.{name}' failed to"
                    f" satisfy constraint: Member must satisfy enum value set: {sorted(allowed)}"
                )
        data = _bytes(item.get("Bytes"), where)
        if len(data) > MAX_ASSET_BYTES:
            raise InvalidParameter(
                f"1 validation error detected: Value at '{where}.bytes' failed to satisfy"
                f" constraint: Member must have length less than or equal to {MAX_ASSET_BYTES}"
            )
        expected = _FAVICON_EXTENSIONS.get(str(category))
        if expected and extension != expected:
            raise InvalidParameter(f"Asset {category} must have the extension {expected}.")
        resource_id = item.get("ResourceId") or str(uuid.uuid4())
        if not isinstance(resource_id, str) or not _RESOURCE_ID.fullmatch(resource_id):
            raise InvalidParameter(f"Invalid ResourceId at {where}.")
        asset = Asset(str(category), str(color_mode), str(extension), data, resource_id)
        if any(a.key == asset.key for a in assets):
            raise InvalidParameter(
                f"Duplicate asset for category {category} and color mode {color_mode}."
            )
        assets.append(asset)
    return assets


def _bytes(value: object, where: str) -> bytes:
    if not isinstance(value, str) or not value:
        raise InvalidParameter(f"Asset at {where} needs Bytes.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameter(f"Asset at {where} has Bytes that are not base64.") from None


def _too_many_assets() -> str:
    return (
        "1 validation error detected: Value at 'assets' failed to satisfy constraint:"
        f" Member must have length less than or equal to {MAX_ASSETS}"
    )


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` deep-merged over `base` (settings not given are kept)."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# The pages' look.


@dataclass(frozen=True)
class Look:
    """What a page needs from a style: colours, and the URLs of its images."""

    page_background: str
    button_background: str
    button_text: str
    logo_url: str | None = None
    background_url: str | None = None
    favicon_url: str | None = None
    style_id: str = ""

    def css(self) -> str:
        """CSS over the default look (colours are checked hex; URLs are our own paths)."""
        background = f"#{self.page_background}"
        if self.background_url:
            background += f' url("{self.background_url}") center/cover no-repeat'
        return (
            f"body{{background:{background}}}"
            f"button{{background:#{self.button_background};color:#{self.button_text}}}"
        )

    def head(self) -> str:
        """The favicon link, if the style has one."""
        if not self.favicon_url:
            return ""
        return f'<link rel="icon" href="{escape(self.favicon_url)}">'

    def banner(self) -> str:
        """The form's logo, if the style has one."""
        if not self.logo_url:
            return ""
        return (
            f'<img class="brand-logo" src="{escape(self.logo_url)}" alt=""'
            ' data-testid="brand-logo">'
        )


_CURRENT: contextvars.ContextVar[Look | None] = contextvars.ContextVar("branding", default=None)


def select(state: EmulatorState, client_id: str) -> None:
    """Render this request's managed-login pages with the style of `client_id`.

    Each request is served in a thread of its own (a fresh context), so the choice never
    outlives the request; the page functions read it through `current()`.
    """
    _CURRENT.set(look_of(state, client_id))


def current() -> Look | None:
    """The look chosen for this request, or None for the default."""
    return _CURRENT.get()


def look_of(state: EmulatorState, client_id: str) -> Look | None:
    """The look of a client's style, or None when it has none (the default look)."""
    style = store(state).of_client(client_id) if client_id else None
    if style is None:
        return None
    settings = _merge(DEFAULT_SETTINGS, style.settings)
    components = settings.get("components") or {}
    page = ((components.get("pageBackground") or {}).get("lightMode") or {}).get("color")
    button = ((components.get("primaryButton") or {}).get("lightMode") or {}).get("defaults") or {}
    defaults = DEFAULT_SETTINGS["components"]["primaryButton"]["lightMode"]["defaults"]

    def url(asset: Asset | None) -> str | None:
        return f"{ASSETS_PATH}/{style.id}/{asset.key}" if asset else None

    return Look(
        page_background=_color(page, "f2f3f3ff"),
        button_background=_color(button.get("backgroundColor"), defaults["backgroundColor"]),
        button_text=_color(button.get("textColor"), defaults["textColor"]),
        logo_url=url(style.asset("FORM_LOGO", "PAGE_HEADER_LOGO")),
        background_url=url(style.asset("PAGE_BACKGROUND")),
        favicon_url=url(style.asset("FAVICON_SVG", "FAVICON_ICO")),
        style_id=style.id,
    )


def _color(value: object, default: str) -> str:
    return value if isinstance(value, str) and _COLOR.fullmatch(value) else default


def asset(state: EmulatorState, request: Request, style_id: str, key: str) -> Response:
    """GET an image of a style, as the pages link it."""
    style = store(state).styles.get(style_id)
    found = next((a for a in style.assets if a.key == key), None) if style else None
    if found is None:
        return Response("Not found", status=404, content_type="text/plain")
    response = Response(found.data, content_type=CONTENT_TYPES[found.extension])
    # Uploaded SVGs could carry script: never let one run in the emulator's origin.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-cache"
    return response


RULES = [Rule(f"{ASSETS_PATH}/<style_id>/<key>", endpoint=asset, methods=["GET"])]


# The seed.


def _logo(label: str, color: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="48" viewBox="0 0 160 48">'
        f'<rect width="160" height="48" rx="8" fill="#{color[:6]}"/>'
        '<text x="80" y="31" font-family="sans-serif" font-size="18" fill="#fff"'
        f' text-anchor="middle">{escape(label)}</text></svg>'
    ).encode()


def provision(state: EmulatorState) -> None:
    """The seed's styles: the demo client's and the partner client's, each with its own look."""
    from emulator import seed

    now = time.time()
    styles = store(state)
    for client_id, (page, button, button_text) in seed.BRAND_COLORS.items():
        if state.client(client_id) is None:
            continue
        label = "Demo app" if client_id == seed.CLIENT_ID else "Partner site"
        style = Branding(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed.USER_POOL_ID}/branding/{client_id}")),
            client_id=client_id,
            use_cognito_provided_values=False,
            settings={
                "components": {
                    "pageBackground": {"lightMode": {"color": page}},
                    "primaryButton": {
                        "lightMode": {
                            "defaults": {"backgroundColor": button, "textColor": button_text}
                        }
                    },
                }
            },
            assets=(
                Asset("FORM_LOGO", "LIGHT", "SVG", _logo(label, button), "logo"),
                Asset("FAVICON_SVG", "LIGHT", "SVG", _logo(label[:1], button), "favicon"),
            ),
            created=now,
            modified=now,
        )
        styles.styles[style.id] = style
