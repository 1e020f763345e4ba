"""`manage.py demo` as its users run it: a process that becomes ready, answers and stops cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from emulator import seed
from emulator.demo import demo_secret_key
from tests.demo_process import (
    BASE_DIR,
    MANIFEST_KEYS,
    Demo,
    demo_env,
    descendants,
    is_running,
    port_is_free,
    start_demo,
    stop,
    wait_ready,
)


@pytest.fixture(scope="module")
def running_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    demo = start_demo(tmp_path_factory.mktemp("demo"))
    wait_ready(demo)
    yield demo
    stop(demo)


def test_manifest_describes_the_demo_world(running_demo: Demo) -> None:
    manifest = running_demo.manifest()
    port, emulator_port = running_demo.ports

    assert manifest.keys() >= set(MANIFEST_KEYS)
    assert manifest["app_url"] == f"http://127.0.0.1:{port}"
    assert manifest["aws_endpoint_url"] == f"http://localhost:{emulator_port}"
    assert manifest["issuer"] == f"http://localhost:{emulator_port}/{seed.USER_POOL_ID}"
    assert manifest["region"] == seed.REGION
    assert manifest["user_pool_id"] == seed.USER_POOL_ID
    assert manifest["client_id"] == seed.CLIENT_ID
    assert manifest["client_secret"] == seed.CLIENT_SECRET
    assert manifest["identity_pool_id"] == seed.IDENTITY_POOL_ID
    assert manifest["bucket"] == seed.BUCKET
    assert manifest["aws_access_key_id"] == seed.ACCESS_KEY_ID
    assert manifest["aws_secret_access_key"] == seed.SECRET_ACCESS_KEY
    for provider in manifest["identity_providers"]:
        assert {"name", "type", "users"} <= provider.keys()
        assert all({"username", "password"} <= user.keys() for user in provider["users"])
    users = {user["username"]: user for user in manifest["users"]}
    for demo_user in seed.DEMO_USERS:
        user = users[demo_user.username]
        assert user["password"] == demo_user.password
        assert user["email"] == demo_user.email
        assert user["mfa"] == demo_user.mfa
        assert user.get("totp_secret") == demo_user.totp_secret


def test_site_and_emulator_answer_at_the_manifest_urls(running_demo: Demo) -> None:
    manifest = running_demo.manifest()

    health = requests.get(f"{manifest['app_url']}/healthz", timeout=5)
    discovery = requests.get(f"{manifest['issuer']}/.well-known/openid-configuration", timeout=5)
    inbox = requests.get(manifest["inbox_url"], timeout=5)

    assert health.status_code == 200
    assert discovery.status_code == 200
    assert discovery.json()["issuer"] == manifest["issuer"]
    assert inbox.status_code == 200
    assert inbox.headers["Content-Type"].startswith("application/json")


def test_home_page_links_to_managed_login(running_demo: Demo) -> None:
    home = requests.get(f"{running_demo.manifest()['app_url']}/", timeout=5)

    assert home.status_code == 200
    assert re.search(r'href="/accounts/login/"', home.text)


def test_the_demos_site_shows_its_own_pages_not_djangos_debug_pages(running_demo: Demo) -> None:
    app_url = running_demo.manifest()["app_url"]

    missing = requests.get(f"{app_url}/no-such-page/", timeout=5)
    home = requests.get(f"{app_url}/", timeout=5)
    stylesheet = re.search(r'href="(/static/site\.[0-9a-f]+\.css)"', home.text)
    panel = requests.get(f"{app_url}/demo/", timeout=5)

    assert missing.status_code == 404
    assert 'data-testid="error-page"' in missing.text and "URLconf" not in missing.text
    assert stylesheet, "the collected, hashed stylesheet"
    assert requests.get(f"{app_url}{stylesheet[1]}", timeout=5).status_code == 200
    assert panel.status_code == 200 and 'data-testid="totp-code"' in panel.text


def test_values_already_in_the_environment_win(tmp_path: Path) -> None:
    """demo_environ() only fills gaps: a value the user exported is kept."""
    code = (
        "import os, json; os.environ['APP_URL'] = 'http://127.0.0.1:1234'; "
        "from emulator.demo import demo_environ; "
        "print(json.dumps(demo_environ("
        "['--host', 'demo.test', '--port', '9000', '--emulator-port', '9999'])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=demo_env(tmp_path),
        capture_output=True,
        check=True,
        text=True,
    )
    environ = json.loads(out.stdout)

    assert "APP_URL" not in environ
    assert environ["AWS_ENDPOINT_URL"] == "http://localhost:9999"
    assert environ["COGNITO_ISSUER"] == f"http://localhost:9999/{seed.USER_POOL_ID}"
    assert environ["COGNITO_DOMAIN"] == "http://localhost:9999"
    assert environ["DJANGO_DEBUG"] == "true"
    assert environ["DJANGO_ALLOWED_HOSTS"] == "127.0.0.1,localhost,demo.test"
    assert environ["DJANGO_SECRET_KEY"]


def test_the_demo_signs_with_the_emulators_key_not_an_exported_one(tmp_path: Path) -> None:
    """The emulator accepts its own key only: a key exported in the shell is not passed on."""
    code = (
        "import os, json; os.environ['AWS_ACCESS_KEY_ID'] = 'AKIAREALKEY'; "
        "os.environ['AWS_SECRET_ACCESS_KEY'] = 'real-secret'; "
        "from emulator.demo import demo_environ; print(json.dumps(demo_environ([])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=demo_env(tmp_path),
        capture_output=True,
        check=True,
        text=True,
    )
    environ = json.loads(out.stdout)

    assert environ["AWS_ACCESS_KEY_ID"] == seed.ACCESS_KEY_ID
    assert environ["AWS_SECRET_ACCESS_KEY"] == seed.SECRET_ACCESS_KEY


def wait_for(condition, timeout: float = 45.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {condition.__name__}")
        time.sleep(0.1)


def test_reloading_the_site_keeps_the_emulator_state(running_demo: Demo) -> None:
    manifest = running_demo.manifest()
    cognito = boto3.client(
        "cognito-idp",
        region_name=manifest["region"],
        endpoint_url=manifest["aws_endpoint_url"],
        aws_access_key_id=manifest["aws_access_key_id"],
        aws_secret_access_key=manifest["aws_secret_access_key"],
    )
    cognito.admin_create_user(UserPoolId=manifest["user_pool_id"], Username="reload-witness")
    site_before = descendants(running_demo.process.pid)

    # runserver's reloader watches the modules the site imported, demo/apps.py among them (the
    # site runs with DEBUG off, so it never imports the emulator).
    apps_py = BASE_DIR / "demo" / "apps.py"
    later = time.time() + 5
    os.utime(apps_py, (later, later))

    def site_restarted() -> bool:
        return bool(descendants(running_demo.process.pid) - site_before)

    def site_answers() -> bool:
        try:
            return requests.get(f"{manifest['app_url']}/healthz", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    wait_for(site_restarted)
    wait_for(site_answers)
    user = cognito.admin_get_user(UserPoolId=manifest["user_pool_id"], Username="reload-witness")

    assert user["Username"] == "reload-witness"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_every_process_and_frees_the_ports(tmp_path: Path, signum: int) -> None:
    demo = start_demo(tmp_path)
    wait_ready(demo)
    started = descendants(demo.process.pid)
    assert started, "the site runs as a child process"

    assert stop(demo, signum) == 0, demo.output()

    assert [pid for pid in started if is_running(pid)] == []
    assert port_is_free("127.0.0.1", demo.ports[0])
    assert port_is_free("localhost", demo.ports[1])
    assert not demo.manifest_path.exists()
    assert "Traceback" not in demo.output()


@pytest.mark.parametrize("taken", ["--port", "--emulator-port"])
def test_taken_port_is_a_clear_error(tmp_path: Path, taken: str) -> None:
    host = "127.0.0.1" if taken == "--port" else "localhost"
    with socket.socket() as squatter:
        squatter.bind((host, 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        ports = {"port": port} if taken == "--port" else {"emulator_port": port}
        demo = start_demo(tmp_path, **ports)
        code = demo.process.wait(timeout=30)

    output = demo.output()
    assert code != 0
    assert f"{taken}: cannot listen on {host}:{port}" in output
    assert "Traceback" not in output
    assert not demo.manifest_path.exists()


def test_demo_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    key_file = tmp_path / "secret-key"

    first, second = demo_secret_key(key_file), demo_secret_key(key_file)

    assert first == second
    assert len(first) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_demo_files_are_ignored_by_git() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "demo-manifest.json", ".demo-secret-key"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )

    assert ignored.stdout.split() == ["demo-manifest.json", ".demo-secret-key"]
