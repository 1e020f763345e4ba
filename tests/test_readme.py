"""The docs hold the test-target contract: every URL, variable, selector, manifest key, demo user.

Names are read from the code (URL patterns, config/settings.py, templates and emulator pages), so
a new URL or `data-testid` fails here until docs/contract.md lists it, a new variable until
docs/configuration.md (and .env.example) does, and a new demo user until the README's table does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from emulator import seed
from tests.demo_process import MANIFEST_KEYS

BASE_DIR = Path(__file__).resolve().parent.parent
README = BASE_DIR / "README.md"
# The README is a map; the contract's tables live in docs/contract.md, the variables' table in
# docs/configuration.md. Each check reads the page that holds its table.
CONTRACT = BASE_DIR / "docs" / "contract.md"
CONFIGURATION = BASE_DIR / "docs" / "configuration.md"
ENV_EXAMPLE = BASE_DIR / ".env.example"

# DESIGN.md, "The test-target contract".
CONTRACT_URLS = [
    "/",
    "/accounts/login/",
    "/accounts/callback/",
    "/accounts/logout/",
    "/accounts/signin/",
    "/accounts/signup/",
    "/accounts/password/forgot/",
    "/accounts/mfa/",
    "/federation/",
    "/identity/",
    "/identity/guest/",
    "/protected/",
    "/healthz",
    "/flows/",
    "/accounts/tokens/",
    "/api/me",
    "/api/notes/",
]
CONTRACT_TESTIDS = [
    "username",
    "password",
    "submit",
    "mfa-code",
    "error",
    "current-user",
    "sign-out",
    "idp-<name>",
    "s3-object",
    "identity-id",
    "flow-step",
    "claim",
]
DEMO_OPTIONS = ["--host", "--port", "--emulator-port", "--manifest"]

ENV_READ = re.compile(r"\benv(?:\.[a-z_]+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']")
TESTID = re.compile(r"data-testid=[\"']([^\"']+)[\"']")
# Form widgets: `attrs={"data-testid": "x"}`, or signin's helpers `widget("x"`, `code_field("x"`.
WIDGET_TESTID = re.compile(
    r"[\"']data-testid[\"']\s*:\s*[\"']([a-z0-9-]+)[\"']|\b(?:widget|code_field)\(\s*[\"']([a-z0-9-]+)"
)
APPS = ["config", "accounts", "signin", "selfservice", "federation", "identity", "protected"]
# A placeholder inside a testid (`idp-{{ idp.name }}`, `idp-{name}`) is the contract's <name>.
PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{[^}]*\}")


def settings_variables() -> set[str]:
    """Every environment variable config/settings.py reads through django-environ."""
    return set(ENV_READ.findall((BASE_DIR / "config" / "settings.py").read_text()))


def url_routes(patterns: Iterable[URLPattern | URLResolver] | None = None, prefix: str = "/"):
    """Every route of the project's URLconf, as a path (`/accounts/login/`)."""
    routes: set[str] = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= url_routes(pattern.url_patterns, route)
        else:
            routes.add(route)
    return routes


def url_names(patterns: Iterable[URLPattern | URLResolver] | None = None, namespace: str = ""):
    """Every named route of the project's URLconf, namespaced (`signin:mfa_code`)."""
    names: set[str] = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern.url_patterns, inner)
        elif pattern.name:
            names.add(namespace + pattern.name)
    return names


def page_testids() -> set[str]:
    """Every `data-testid` in the site's templates and forms and the emulator's pages."""
    files = [*(BASE_DIR / "templates").rglob("*.html"), *(BASE_DIR / "emulator").rglob("*.py")]
    found: set[str] = set()
    for path in files:
        for testid in TESTID.findall(path.read_text()):
            found.add(PLACEHOLDER.sub("<name>", testid))
    found.discard("<name>")  # a field named after its input (`data-testid="{name}"`)
    for app in APPS:
        for path in (BASE_DIR / app).glob("forms.py"):
            for match in WIDGET_TESTID.finditer(path.read_text()):
                found.add(match[1] or match[2])
    return found


def missing_from(text: str, names: Iterable[str]) -> list[str]:
    """The names that `text` does not mention as code (`name`)."""
    return sorted(name for name in set(names) if f"`{name}`" not in text)


def env_example_names() -> set[str]:
    """Variables .env.example assigns, commented out or not."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE))


def test_contract_lists_every_url() -> None:
    missing = missing_from(CONTRACT.read_text(), [*CONTRACT_URLS, *url_routes()])

    assert missing == [], "add them to docs/contract.md's Stable URLs table"


def test_contract_lists_every_url_name() -> None:
    # Templates and tests reverse these names: the contract's table says which path each one is.
    assert missing_from(CONTRACT.read_text(), url_names()) == [], "docs/contract.md, Stable URLs"


@pytest.mark.parametrize("url", CONTRACT_URLS)
def test_every_contract_url_is_served(url: str) -> None:
    resolve(url)  # raises Resolver404 for a URL the contract promises but the site lacks


def test_configuration_lists_every_environment_variable() -> None:
    missing = missing_from(CONFIGURATION.read_text(), settings_variables())

    assert missing == [], "add them to docs/configuration.md's table"


def test_env_example_lists_every_environment_variable() -> None:
    assert sorted(settings_variables() - env_example_names()) == []


def test_contract_lists_every_data_testid() -> None:
    missing = missing_from(CONTRACT.read_text(), [*CONTRACT_TESTIDS, *page_testids()])

    assert missing == [], "add them to docs/contract.md's Stable selectors table"


def test_contract_lists_the_manifest_keys_and_demo_options() -> None:
    text = CONTRACT.read_text()

    assert missing_from(text, [*MANIFEST_KEYS, "totp_secret", *DEMO_OPTIONS]) == []


def test_readme_lists_the_demo_users() -> None:
    credentials = [(user.username, user.password, user.totp_secret) for user in seed.DEMO_USERS]

    assert missing_from(README.read_text(), filter(None, chain(*credentials))) == []


def test_readme_leads_with_the_two_commands() -> None:
    text = README.read_text()

    first_demo, first_test = text.find("make demo"), text.find("make test")

    assert 0 <= first_demo < 1500
    assert 0 <= first_test < 3000


def test_the_scans_find_the_names_the_code_uses() -> None:
    """Guards the checks above against a scan that silently finds nothing."""
    assert {"DJANGO_SECRET_KEY", "COGNITO_DOMAIN", "APP_URL"} <= settings_variables()
    assert {"/", "/healthz"} <= url_routes()
    assert {"home", "accounts:login", "signin:mfa_code", "selfservice:profile"} <= url_names()
    assert {"username", "password", "submit", "current-user", "sign-out"} <= page_testids()


def test_a_name_missing_from_the_contract_is_reported() -> None:
    text = CONTRACT.read_text().replace("`/healthz`", "")

    assert missing_from(text, ["/healthz", "/readyz"]) == ["/healthz"]
