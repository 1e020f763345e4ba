"""`manage.py demo`: the emulator and the site on one machine, ready for people and test suites.

The emulator runs in this process, so its state (users, codes, sessions) lives as long as the
demo does. The site runs as a `runserver` child with autoreload: editing Django code restarts
only the child and never wipes the emulator. manage.py has already put the demo's configuration
in the environment (see `emulator.demo.demo_environ`), which the child inherits.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from argparse import ArgumentParser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from emulator.demo import BASE_DIR, add_demo_arguments, app_url, site_environ

if TYPE_CHECKING:
    from emulator.server import Emulator

READY_TIMEOUT = 60.0  # seconds for the site and the emulator to answer
STOP_TIMEOUT = 10.0  # seconds for the site to exit before it is killed
# Only loopback URLs are polled; a proxy from the environment must not see them.
_local = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Command(BaseCommand):
    help = "Start the local AWS emulator and the site, write the manifest, serve until stopped."

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_demo_arguments(parser)

    def handle(
        self, *args: Any, host: str, port: int, emulator_port: int, manifest: Path, **options: Any
    ) -> None:
        site_url = app_url(host, port)
        manifest = manifest.resolve()
        check_port_free(host, port, "--port")
        check_port_free("localhost", emulator_port, "--emulator-port")
        if not manifest.parent.is_dir():
            raise CommandError(f"--manifest: no such directory: {manifest.parent}")
        manifest.unlink(missing_ok=True)  # a stale manifest must not announce a dead demo
        stopping = stop_on_signals()

        call_command("migrate", interactive=False, verbosity=0)
        # The site boots in its own process while this one loads and seeds the emulator.
        with running_site(host, port) as site, running_emulator(emulator_port) as emulator:
            emulator.add_app_url(site_url)
            wait_until_ready(site, stopping, f"{site_url}/healthz", emulator.issuer)
            if not stopping.is_set():
                world = emulator.manifest(site_url)
                with published(manifest, world):
                    self.stdout.write(summary(world, manifest))
                    serve_until(stopping, site)
        self.stdout.write("Demo stopped.")


def check_port_free(host: str, port: int, option: str) -> None:
    """Fail with a clear message, before starting anything, when a port is already taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Like the servers themselves: a port left in TIME_WAIT by a previous run is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CommandError(
                f"{option}: cannot listen on {host}:{port} ({error.strerror}). "
                f"Is another demo running? Choose another port with {option} N."
            ) from None


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT (Ctrl-C) or SIGTERM, so every `finally` below gets to run."""
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    return stopping


@contextmanager
def running_emulator(port: int) -> Iterator[Emulator]:
    """The emulator, seeded, serving on localhost in a thread of this process."""
    # Imported here, not at the top: loading moto takes seconds, which the site's boot overlaps.
    from emulator.server import Emulator

    try:
        emulator = Emulator(host="localhost", port=port).start()
    except OSError as error:
        raise CommandError(
            f"--emulator-port: cannot listen on localhost:{port} ({error.strerror})"
        ) from None
    try:
        yield emulator
    finally:
        emulator.stop()


@contextmanager
def running_site(host: str, port: int) -> Iterator[subprocess.Popen]:
    """`manage.py runserver` in a process group of its own: stopping it stops its reloader too."""
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    env = site_environ({**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE})
    # DEBUG off: WhiteNoise serves the collected, hashed files, as it does in production.
    collected = subprocess.run(  # noqa: S603 (our own interpreter and manage.py, no shell)
        [*manage, "collectstatic", "--noinput", "--verbosity", "0"], cwd=BASE_DIR, env=env
    )
    if collected.returncode:
        raise CommandError(f"collectstatic failed (exit code {collected.returncode})")
    site = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py, no shell)
        [*manage, "runserver", f"{host}:{port}"],
        cwd=BASE_DIR,
        env=env,
        start_new_session=True,
    )
    try:
        yield site
    finally:
        stop_site(site)


def wait_until_ready(
    site: subprocess.Popen, stopping: threading.Event, healthz: str, issuer: str
) -> None:
    """Return once the site's health check and the emulator's discovery document answer 200."""
    deadline = time.monotonic() + READY_TIMEOUT
    pending = [healthz, f"{issuer}/.well-known/openid-configuration"]
    while pending and not stopping.is_set():
        if site.poll() is not None:
            raise CommandError(f"the site did not start (exit code {site.returncode})")
        if time.monotonic() > deadline:
            raise CommandError(f"no answer within {READY_TIMEOUT:.0f} s from {pending[0]}")
        if answers(pending[0]):
            pending.pop(0)
        else:
            stopping.wait(0.1)


def answers(url: str) -> bool:
    try:
        with _local.open(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def published(path: Path, manifest: dict[str, Any]) -> Iterator[None]:
    """The manifest exists exactly while the demo answers; written atomically, never half read."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(partial, path)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def serve_until(stopping: threading.Event, site: subprocess.Popen) -> None:
    while not stopping.wait(0.5):
        if site.poll() is not None:
            raise CommandError(f"the site stopped (exit code {site.returncode})")


def stop_site(site: subprocess.Popen) -> None:
    """Terminate the site's whole process group (runserver and its autoreloaded child)."""
    for signum, timeout in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(site.pid, signum)
        except ProcessLookupError:
            return
        try:
            site.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
        if wait_group_gone(site.pid, timeout=2.0):
            return


def wait_group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def summary(manifest: dict[str, Any], path: Path) -> str:
    """What a person needs to start: where things are, who can sign in, how to get a TOTP code."""
    # The emulator serves its inbox as a page beside the JSON the manifest names.
    inbox_page = manifest["inbox_url"].removesuffix(".json")
    lines = [
        "",
        "Cognito reference app demo is ready.",
        f"  site            {manifest['app_url']}/",
        f"  demo panel      {manifest['app_url']}/demo/   (users, live TOTP codes, inbox, reset)",
        f"  managed login   {manifest['managed_login_url']}",
        f"  emulator (AWS)  {manifest['aws_endpoint_url']}",
        f"  inbox           {inbox_page}   (every email and SMS the user pool sends)",
        f"  reset           POST {manifest['reset_url']}",
        f"  manifest        {path}",
        "",
        "Demo users:",
    ]
    for user in manifest["users"]:
        mfa = user["mfa"]
        if user.get("totp_secret"):
            mfa = f"totp, secret {user['totp_secret']}"
        password = user["password"] or "(none: codes only)"
        factors = (
            f"  first factors: {', '.join(user['first_factors'])}"
            if "first_factors" in user
            else ""
        )
        lines.append(f"  {user['username']:<8} {password:<18} MFA: {mfa}{factors}")
    for provider in manifest.get("identity_providers", []):
        lines += [
            "",
            f"Identity provider {provider['name']} ({provider['type']}) at {provider['url']}:",
        ]
        for user in provider["users"]:
            mfa = f"totp, secret {user['totp_secret']}" if user.get("totp_secret") else user["mfa"]
            lines.append(f"  {user['username']:<24} {user['password']:<22} MFA: {mfa}")
    secret = next((u["totp_secret"] for u in manifest["users"] if u.get("totp_secret")), None)
    if secret:
        lines += [
            "",
            "A TOTP code now:",
            f"  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{secret}').now())\"",
            f"(SMS and email codes arrive in the inbox: {inbox_page})",
        ]
    lines += ["", "Press Ctrl-C to stop.", ""]
    return "\n".join(lines)
