"""The demo's configuration: `manage.py demo` options and the environment they give the app.

manage.py calls `demo_environ()` before Django reads its settings, so the settings module and the
`runserver` child both see the same values. Values already in the environment win, so a user can
override any of them (for instance `DATABASE_URL`).
"""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path

from emulator import seed
from emulator.idps import IDENTITY_PROVIDERS

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_EMULATOR_PORT = 9229
DEFAULT_MANIFEST = BASE_DIR / "demo-manifest.json"
# A key for local sessions only: generated once per checkout, git-ignored, never used elsewhere.
SECRET_KEY_FILE = BASE_DIR / ".demo-secret-key"


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options, shared by `demo_environ()` and the management command."""
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="the site's address (default %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="the site's port (default %(default)s)"
    )
    parser.add_argument(
        "--emulator-port",
        type=int,
        default=DEFAULT_EMULATOR_PORT,
        help="the emulator's port on localhost (default %(default)s)",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=DEFAULT_MANIFEST,
        help="where to write the manifest JSON (default: demo-manifest.json at the repo root)",
    )


def parse_demo_arguments(argv: list[str]) -> argparse.Namespace:
    """Parse the demo's options, ignoring Django's own (`--verbosity`, `--help`...)."""
    parser = argparse.ArgumentParser(prog="manage.py demo", add_help=False)
    add_demo_arguments(parser)
    options, _ = parser.parse_known_args(argv)
    return options


def app_url(host: str, port: int) -> str:
    """The site's public base URL, as the browser and the OAuth redirect URIs see it."""
    return f"http://{host}:{port}"


def emulator_url(port: int) -> str:
    """The emulator's base URL: AWS endpoint and managed login domain in one."""
    return f"http://localhost:{port}"


def demo_secret_key(path: Path = SECRET_KEY_FILE) -> str:
    """Read the local demo's session key, creating it on first use."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another demo created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key


def identity_provider_names() -> str:
    """The local IdPs' display names, which the pool does not keep, for the site's buttons."""
    return ",".join(f"{spec.name}={spec.display_name}" for spec in IDENTITY_PROVIDERS)


def site_environ(environ: dict[str, str]) -> dict[str, str]:
    """The `runserver` child's environment: DEBUG off, so visitors meet the site's own pages.

    The manage.py process itself keeps DEBUG on, which installs the `emulator` app (and so this
    command); the site on plain http turns the HTTPS-only settings off (DJANGO_HTTPS).
    """
    return {**environ, "DJANGO_DEBUG": "false"}


def demo_environ(argv: list[str]) -> dict[str, str]:
    """The environment for the demo: the app configured for the emulator, user's values first."""
    options = parse_demo_arguments(argv)
    aws = emulator_url(options.emulator_port)
    defaults = {
        "DJANGO_DEBUG": "true",
        # Plain http on this machine: no Secure cookies, no redirect to https (the site's DEBUG
        # is off, see `site_environ`).
        "DJANGO_HTTPS": "false",
        "DJANGO_ALLOWED_HOSTS": ",".join(dict.fromkeys(["127.0.0.1", "localhost", options.host])),
        "AWS_REGION": seed.REGION,
        "AWS_ENDPOINT_URL": aws,
        # The emulator's account key: it checks every signature against it (and boto3 then never
        # looks for real credentials).
        "AWS_ACCESS_KEY_ID": seed.ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": seed.SECRET_ACCESS_KEY,
        "COGNITO_USER_POOL_ID": seed.USER_POOL_ID,
        "COGNITO_CLIENT_ID": seed.CLIENT_ID,
        "COGNITO_CLIENT_SECRET": seed.CLIENT_SECRET,
        # The notes API accepts the web client's and the machine client's access tokens.
        "API_ALLOWED_CLIENT_IDS": f"{seed.CLIENT_ID},{seed.MACHINE_CLIENT_ID}",
        "COGNITO_ISSUER": f"{aws}/{seed.USER_POOL_ID}",
        "COGNITO_DOMAIN": aws,
        "COGNITO_IDENTITY_POOL_ID": seed.IDENTITY_POOL_ID,
        "PROTECTED_BUCKET": seed.BUCKET,
        "COGNITO_IDENTITY_ROLE_ARN": seed.AUTHENTICATED_ROLE,
        "COGNITO_DEVELOPER_PROVIDER_NAME": seed.DEVELOPER_PROVIDER_NAME,
        "COGNITO_IDENTITY_PROVIDER_NAMES": identity_provider_names(),
        "APP_URL": app_url(options.host, options.port),
        # The site's demo panel reads the emulator's users, live TOTP codes and inbox here.
        "DEMO_PANEL_URL": f"{aws}/demo/panel.json",
    }
    environ = {name: value for name, value in defaults.items() if name not in os.environ}
    if "AWS_ENDPOINT_URL" not in os.environ:
        # The site talks to the demo's emulator, which accepts its own key only: a key exported
        # in the shell (perhaps a real one) is neither needed nor sent.
        environ["AWS_ACCESS_KEY_ID"] = seed.ACCESS_KEY_ID
        environ["AWS_SECRET_ACCESS_KEY"] = seed.SECRET_ACCESS_KEY
    if "DJANGO_SECRET_KEY" not in os.environ:
        environ["DJANGO_SECRET_KEY"] = demo_secret_key()
    return environ
