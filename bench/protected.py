"""The protected page with warm credentials against the bare S3 call it makes, side by side.

Run: .venv/bin/python bench/protected.py [--rounds 300]

The emulator runs in a process of its own, as AWS is a separate party to a deployed site. The site
runs in this process: Django's WSGI app behind a threaded server on 127.0.0.1, with a file database
and a shared cache (`CACHE_URL=filecache://`, so sessions and the signed-in user are read through
the cache, as in a deployment with Redis). bob signs in through managed login over HTTP and the
page is warmed once (credentials in the session, S3 client built). Then, round after round, it
alternates: one GET /protected/ through the WSGI app reading through the cache, one reading the
database only (as a site without CACHE_URL does), one over HTTP, and one bare ListObjectsV2 of the
same prefix with the same cached client, so all see the same machine. Prints the medians, each
page's ratio to the bare call (target: the page adds under 30%), and what one page view sent to
AWS and built, counted through botocore's own events on the shared session.
Prints only; never asserts.
"""

from __future__ import annotations

import argparse
import gc
import io
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.test import EnvironBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator import seed

TARGET = 1.30


class Quiet(WSGIRequestHandler):
    """No access log lines between the figures."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def emulator_serve(app_url: str, answers: multiprocessing.Queue) -> None:
    """The child process: the emulator, with the site's callback registered, until killed."""
    from emulator.server import Emulator

    emulator = Emulator().start()
    emulator.add_app_url(app_url)
    answers.put((emulator.url, emulator.issuer))
    threading.Event().wait()


def configure(emulator_url: str, issuer: str, app_url: str, workdir: Path) -> None:
    """The site's environment, as `manage.py demo` sets it, before Django reads its settings."""
    from tests.prod.servers import site_env

    os.environ.update(
        site_env(
            app_url=app_url,
            emulator_url=emulator_url,
            issuer=issuer,
            database_url=f"sqlite:///{workdir / 'bench.sqlite3'}",
            cache_url=f"filecache://{workdir / 'cache'}",
            extra={
                "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                "AWS_ACCESS_KEY_ID": seed.ACCESS_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": seed.SECRET_ACCESS_KEY,
            },
        )
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


def wsgi_get(app: Callable, environ: dict) -> Callable[[], None]:
    """One GET of the page through the WSGI app, its body read, as a server would send it."""

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"the page answered {status}")

    def call() -> None:
        body = app({**environ, "wsgi.input": io.BytesIO()}, start_response)
        b"".join(body)
        getattr(body, "close", lambda: None)()

    return call


def without_shared_cache(call: Callable[[], None]) -> Callable[[], None]:
    """`call` as a site without CACHE_URL runs it: the user read from the database too."""
    from django.conf import settings

    def uncached() -> None:
        settings.SHARED_CACHE = False
        try:
            call()
        finally:
            settings.SHARED_CACHE = True

    return uncached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    rounds = parser.parse_args().rounds

    port = free_port()
    site = f"http://127.0.0.1:{port}"
    spawn = multiprocessing.get_context("spawn")
    answers = spawn.Queue()
    emulator = spawn.Process(target=emulator_serve, args=(site, answers), daemon=True)
    emulator.start()
    with tempfile.TemporaryDirectory() as workdir:
        try:
            configure(*answers.get(timeout=60), site, Path(workdir))
            timings, per_view = measure(site, port, rounds)
        finally:
            emulator.kill()
    report(timings, per_view, rounds)


def measure(site: str, port: int, rounds: int) -> tuple[dict[str, list[float]], tuple[int, int]]:
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import override_settings

    from config import aws
    from emulator.storage_world import demo_identity_id

    server = make_server("127.0.0.1", port, WSGIHandler(), threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    counter = Counter()
    aws.clients_clear()  # every client from here on carries the counting hooks

    from tests.accounts.conftest import site_sign_in

    browser = requests.Session()
    site_sign_in(browser, site, "bob")
    browser.get(f"{site}/protected/", timeout=10).raise_for_status()  # warm
    credentials_client = next(client for key, client in aws._clients.items() if key[0] == "s3")
    prefix = f"private/{demo_identity_id('bob')}/"
    gc.freeze()

    before = (counter.requests, counter.clients)
    browser.get(f"{site}/protected/", timeout=10).raise_for_status()
    per_view = (counter.requests - before[0], counter.clients - before[1])

    # The same page through the WSGI app in this thread: no HTTP hop, no client library.
    # The browser's cookies, as it sends them: the session and the CSRF cookie.
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    headers = {"Host": f"127.0.0.1:{port}", "Cookie": cookie}
    environ = EnvironBuilder(path="/protected/", headers=headers).get_environ()
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db"):
        database_sessions = WSGIHandler()  # its SessionMiddleware reads the engine once, here
    calls = {
        "cached": wsgi_get(WSGIHandler(), environ),
        "database": without_shared_cache(wsgi_get(database_sessions, environ)),
        "http": lambda: browser.get(f"{site}/protected/", timeout=10).raise_for_status(),
        "bare": lambda: credentials_client.list_objects_v2(Bucket=seed.BUCKET, Prefix=prefix),
    }
    for call in calls.values():
        call()
    timings: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            timings[name].append(time.perf_counter() - started)
    server.shutdown()
    return timings, per_view


def report(timings: dict[str, list[float]], per_view: tuple[int, int], rounds: int) -> None:
    median = {name: statistics.median(values) * 1000 for name, values in timings.items()}
    print(f"rounds: {rounds}, each: the page three ways, then the bare S3 call")
    print(f"bare ListObjectsV2, the page's S3 client:            median {median['bare']:.2f} ms")
    for name, label in (
        ("cached", "GET /protected/, WSGI app, sessions via the cache:"),
        ("database", "GET /protected/, WSGI app, no cache, DB only:      "),
        ("http", "GET /protected/ over HTTP (werkzeug, cached):    "),
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
