"""docs/copy-a-flow.md, followed to the letter: a fresh Django project built from exactly a flow's
list of files and settings, in a directory of its own, signs in against the emulator.

The copied project runs in a subprocess whose import path holds only that directory (and the
installed packages), so a file the list forgets is an ImportError or a TemplateDoesNotExist
there. The subprocess keeps a Django test Client and answers one request per line on stdin;
this test drives it, with the same helpers the account tests use for the pool's hosted pages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.accounts.conftest import USERS, hosted_sign_in, relative, totp_now

BASE_DIR = Path(__file__).resolve().parent.parent
DOC = BASE_DIR / "docs" / "copy-a-flow.md"
FENCE = re.compile(r"^```(toml|python|html)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# What the issue allows managed login to weigh: its app and the foundation, migrations included.
MANAGED_LOGIN_MAX_LINES = 1500
# Never needed by managed login (the import contract says so too; this is the running proof).
NOT_FOR_MANAGED_LOGIN = ("boto3", "botocore", "pycognito", "segno")

# Runs inside the copied project: one JSON request per stdin line, one JSON answer per line.
DRIVER = """
import json, os, sys

os.environ["DJANGO_SETTINGS_MODULE"] = "mysite.settings"
import django

django.setup()
from django.core.management import call_command
from django.test import Client

call_command("migrate", verbosity=0)
client = Client()
for line in sys.stdin:
    ask = json.loads(line)
    if "modules" in ask:
        print(json.dumps({"loaded": [name for name in ask["modules"] if name in sys.modules]}))
    else:
        post = "post" in ask
        response = client.post(ask["post"], ask["data"]) if post else client.get(ask["get"])
        answer = {"status": response.status_code, "location": response.get("Location", "")}
        print(json.dumps({**answer, "body": response.content.decode()}))
    sys.stdout.flush()
"""


def doc_blocks() -> tuple[dict[str, dict[str, Any]], dict[str, str], str]:
    """The doc's flows (TOML blocks), its named settings blocks (and base template), and its
    apps/middleware block."""
    flows: dict[str, dict[str, Any]] = {}
    named: dict[str, str] = {}
    apps_block = ""
    for language, body in FENCE.findall(DOC.read_text()):
        header = body.splitlines()[0]
        if language == "html":
            named["base.html"] = body
        elif language == "toml":
            flows[header.removeprefix("# flow: ").strip()] = tomllib.loads(body)
        elif header.startswith("# settings: "):
            named[header.removeprefix("# settings: ").strip()] = body
        else:
            apps_block = body
    return flows, named, apps_block


def build(root: Path, flow: str) -> Path:
    """A new project in `root` from the doc's list for `flow`: files, settings, URLs."""
    flows, named, apps_block = doc_blocks()
    spec = flows[flow]
    for entry in spec["files"]:
        source, target = BASE_DIR / entry, root / entry
        if entry.endswith("/"):
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    apps = "".join(f"    {name!r},\n" for name in spec["apps"])
    middleware = "".join(f"    {name!r},\n" for name in spec["middleware"])
    apps_block = apps_block.replace("    # the flow's `apps`\n", apps)
    apps_block = apps_block.replace("    # the flow's `middleware`\n", middleware)
    site = root / "mysite"
    site.mkdir()
    (site / "__init__.py").write_text("")
    settings_text = "\n".join(named[name] for name in spec["settings"])
    (site / "settings.py").write_text(
        f'{settings_text}\n{apps_block}\nROOT_URLCONF = "mysite.urls"\n'
    )
    routes = []
    for prefix, modules in spec["urls"].items():
        for module in [modules] if isinstance(modules, str) else modules:
            routes.append(f"    path({prefix!r}, include({module!r})),\n")
    (site / "urls.py").write_text(
        "from django.urls import include, path\n"
        "from django.views.generic import TemplateView\n\n"
        "urlpatterns = [\n"
        '    path("", TemplateView.as_view(template_name="base.html"), name="home"),\n'
        f"{''.join(routes)}]\n"
    )
    (root / "templates").mkdir(exist_ok=True)
    (root / "templates" / "base.html").write_text(named["base.html"])
    (root / "driver.py").write_text(DRIVER)
    return root


class CopiedSite:
    """The copied project's Django, running in its own process, asked one request at a time."""

    def __init__(self, root: Path) -> None:
        environment = {
            name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")
        }
        environment.pop("PYTHONPATH", None)
        environment |= {
            "DJANGO_SECRET_KEY": "copied-project-secret-key-0123456789-abcdefghijklmnop",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "APP_URL": settings.APP_URL,
            "AWS_REGION": settings.AWS_REGION,
            "AWS_ENDPOINT_URL": settings.AWS_ENDPOINT_URL,
            "COGNITO_USER_POOL_ID": settings.COGNITO_USER_POOL_ID,
            "COGNITO_CLIENT_ID": settings.COGNITO_CLIENT_ID,
            "COGNITO_CLIENT_SECRET": settings.COGNITO_CLIENT_SECRET or "",
            "COGNITO_ISSUER": settings.COGNITO_ISSUER,
            "COGNITO_DOMAIN": settings.COGNITO_DOMAIN,
        }
        # -E -s: the copied directory (the script's) and the installed packages only, never
        # this repository, whatever PYTHONPATH or the user's site-packages say.
        self.process = subprocess.Popen(
            [sys.executable, "-E", "-s", "driver.py"],
            cwd=root,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            _, errors = self.process.communicate(timeout=10)
            pytest.fail(f"the copied project stopped:\n{errors[-3000:]}")
        return json.loads(line)

    def get(self, path: str) -> dict[str, Any]:
        return self.ask(get=path)

    def post(self, path: str, data: dict[str, str]) -> dict[str, Any]:
        return self.ask(post=path, data=data)

    def close(self) -> None:
        self.process.kill()
        self.process.communicate(timeout=10)


@pytest.fixture
def copied(tmp_path: Path, emulator: Any) -> Iterator[Any]:
    """Build and start a copy of one flow: `copied("managed-login")`."""
    sites: list[CopiedSite] = []

    def start(flow: str) -> CopiedSite:
        sites.append(CopiedSite(build(tmp_path / flow, flow)))
        return sites[-1]

    yield start
    for site in sites:
        site.close()


def signed_in_user(site: CopiedSite) -> str | None:
    match = re.search(r'data-testid="current-user">([^<]+)<', site.get("/")["body"])
    return unescape(match[1]) if match else None


def lines_of(root: Path, entries: list[str]) -> int:
    """Lines of Python and templates among the copied files, migrations included."""
    files = [
        path
        for entry in entries
        for path in ((root / entry).rglob("*") if entry.endswith("/") else [root / entry])
        if path.suffix in (".py", ".html")
    ]
    return sum(len(path.read_text().splitlines()) for path in files)


def test_every_flow_of_the_doc_names_files_that_exist() -> None:
    flows, named, apps_block = doc_blocks()

    assert set(flows) == {
        "managed-login",
        "api-signin",
        "self-service",
        "federation",
        "identity-pool",
    }
    for flow, spec in flows.items():
        missing = [entry for entry in spec["files"] if not (BASE_DIR / entry).exists()]
        assert missing == [], flow
        assert set(spec["settings"]) <= set(named), flow
    assert "# the flow's `apps`" in apps_block and "# the flow's `middleware`" in apps_block


def test_a_copy_of_managed_login_signs_in_and_never_loads_boto3(copied: Any) -> None:
    site = copied("managed-login")

    start = site.get("/accounts/login/")
    assert start["status"] == 302 and "/oauth2/authorize?" in start["location"]
    finish = site.get(relative(hosted_sign_in(start["location"], "bob")))

    assert (finish["status"], finish["location"]) == (302, "/")
    assert signed_in_user(site) == "bob"
    assert site.ask(modules=NOT_FOR_MANAGED_LOGIN)["loaded"] == []


def test_a_copy_of_managed_login_refuses_a_callback_it_did_not_start(copied: Any) -> None:
    site = copied("managed-login")

    refused = site.get("/accounts/callback/?code=made-up&state=made-up")
    answer = site.get(refused["location"])  # off the URL that holds the code, to a clean one

    assert (refused["status"], refused["location"]) == (302, "/accounts/login/failed/")
    assert answer["status"] == 400
    assert "was not started in this browser" in answer["body"]
    assert signed_in_user(site) is None


def test_managed_login_weighs_at_most_its_budget(tmp_path: Path) -> None:
    flows, _, _ = doc_blocks()
    files = flows["managed-login"]["files"]
    root = build(tmp_path / "managed-login", "managed-login")

    lines = lines_of(root, files)

    print(f"managed login copy: {lines} lines of Python, templates and migrations")
    assert 0 < lines <= MANAGED_LOGIN_MAX_LINES


def test_a_copy_of_api_signin_signs_in_through_its_mfa_step(copied: Any) -> None:
    site = copied("api-signin")
    alice = USERS["alice"]

    started = site.post("/accounts/signin/", {"username": "alice", "password": alice.password})
    assert (started["status"], started["location"]) == (302, "/accounts/signin/mfa/")
    step = site.get("/accounts/signin/mfa/")
    attempt = re.search(r'name="attempt" value="([^"]+)"', step["body"])
    assert step["status"] == 200 and attempt, step["body"][:500]
    code = totp_now(alice.totp_secret)
    finish = site.post("/accounts/signin/mfa/", {"attempt": attempt[1], "code": code})

    assert (finish["status"], finish["location"]) == (302, "/")
    assert signed_in_user(site) == "alice"


def test_a_copy_of_api_signin_refuses_a_wrong_password(copied: Any) -> None:
    site = copied("api-signin")

    answer = site.post("/accounts/signin/", {"username": "bob", "password": "not-bobs-password"})

    assert answer["status"] == 400
    assert "Incorrect username or password." in answer["body"]
    assert signed_in_user(site) is None
