"""The protected page with warm credentials against the bare S3 call it makes, side by side.

Run: .venv/bin/python bench/protected.py [--rounds 300]

Starts the emulator and the site (Django's WSGI app behind a threaded server on 127.0.0.1, a
file database) in this process, signs bob in through managed login over HTTP, warms the page
once (credentials in the session, S3 client built), then alternates, round after round, one GET
of /protected/ and one bare ListObjectsV2 of the same prefix with the same cached client, so both
see the same machine. Prints the medians, their ratio (target: the page adds under 30%), and what
one page view sent to AWS and built, counted through botocore's own events on the shared session.
Prints only; never asserts.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.test import Client as WerkzeugClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator import seed
from emulator.server import Emulator

TARGET = 1.30


class Quiet(WSGIRequestHandler):
    """No access log lines between the figures."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def configure(emulator: Emulator, app_url: str, database: Path) -> None:
    """The site's environment, as `manage.py demo` sets it, before Django reads its settings."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DJANGO_DEBUG": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{database}",
            "APP_URL": app_url,
            "AWS_REGION": seed.REGION,
            "AWS_ENDPOINT_URL": emulator.url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "COGNITO_USER_POOL_ID": seed.USER_POOL_ID,
            "COGNITO_CLIENT_ID": seed.CLIENT_ID,
            "COGNITO_CLIENT_SECRET": seed.CLIENT_SECRET,
            "COGNITO_ISSUER": emulator.issuer,
            "COGNITO_DOMAIN": emulator.url,
            "COGNITO_IDENTITY_POOL_ID": seed.IDENTITY_POOL_ID,
            "PROTECTED_BUCKET": seed.BUCKET,
        }
    )
    import django
    from django.conf import settings

    django.setup()
    # Plain HTTP on loopback, static files without a collectstatic manifest.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Counter:
    """Requests sent and clients built, through botocore's events on the shared session."""

    def __init__(self) -> None:
        from config import aws

        self.requests = self.clients = 0
        events = aws.session().events
        events.register("before-send", self._sent, unique_id="bench-requests")
        events.register("creating-client-class", self._built, unique_id="bench-clients")

    def _sent(self, **kwargs: object) -> None:
        self.requests += 1

    def _built(self, **kwargs: object) -> None:
        self.clients += 1


def sign_in(browser: requests.Session, site: str) -> None:
    from tests.accounts.conftest import hosted_sign_in

    start = browser.get(f"{site}/accounts/login/", allow_redirects=False, timeout=10)
    callback = hosted_sign_in(start.headers["Location"], "bob")
    browser.get(callback, allow_redirects=False, timeout=10).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    rounds = parser.parse_args().rounds

    with Emulator() as emulator, tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        site = f"http://127.0.0.1:{port}"
        emulator.add_app_url(site)
        configure(emulator, site, Path(workdir) / "bench.sqlite3")
        from django.core.wsgi import get_wsgi_application

        from config import aws
        from emulator.storage_world import demo_identity_id

        server = make_server(
            "127.0.0.1", port, get_wsgi_application(), threaded=True, request_handler=Quiet
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        counter = Counter()
        aws.clients_clear()  # every client from here on carries the counting hooks

        browser = requests.Session()
        sign_in(browser, site)
        browser.get(f"{site}/protected/", timeout=10).raise_for_status()  # warm
        credentials_client = next(client for key, client in aws._clients.items() if key[0] == "s3")
        prefix = f"private/{demo_identity_id('bob')}/"
        # The emulator shares this process, and its hundreds of thousands of objects (moto's
        # backends, botocore's models) would make every garbage collection of the site's
        # requests slow; a deployed site has no emulator inside, so they are frozen out of it.
        gc.freeze()

        before = (counter.requests, counter.clients)
        browser.get(f"{site}/protected/", timeout=10).raise_for_status()
        per_view = (counter.requests - before[0], counter.clients - before[1])

        # The same page through the WSGI handler in this thread: no HTTP hop to the site.
        handler = WerkzeugClient(get_wsgi_application())
        handler.set_cookie("sessionid", browser.cookies["sessionid"], domain="127.0.0.1")
        host = {"Host": f"127.0.0.1:{port}"}

        timings: dict[str, list[float]] = {"http": [], "handler": [], "bare": []}
        for _ in range(rounds):
            for name, call in (
                ("http", lambda: browser.get(f"{site}/protected/", timeout=10)),
                ("handler", lambda: handler.get("/protected/", headers=host)),
                (
                    "bare",
                    lambda: credentials_client.list_objects_v2(Bucket=seed.BUCKET, Prefix=prefix),
                ),
            ):
                started = time.perf_counter()
                call()
                timings[name].append(time.perf_counter() - started)
        server.shutdown()

    median = {name: statistics.median(values) * 1000 for name, values in timings.items()}
    print(f"rounds: {rounds}, each: page over HTTP, page in-process, bare S3 call")
    print(f"bare ListObjectsV2, the page's S3 client:      median {median['bare']:.2f} ms")
    for name, label in (
        ("http", "GET /protected/ over HTTP (site server): "),
        ("handler", "GET /protected/ through the WSGI handler:"),
    ):
        ratio = median[name] / median["bare"]
        verdict = "met" if ratio <= TARGET else "NOT met"
        print(
            f"{label} median {median[name]:.2f} ms, ratio {ratio:.2f} "
            f"(target <= {TARGET:.2f}: {verdict})"
        )
    print(f"AWS calls per page view: {per_view[0]}; boto3 clients built per view: {per_view[1]}")


if __name__ == "__main__":
    main()
