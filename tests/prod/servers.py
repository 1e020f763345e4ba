"""Throwaway PostgreSQL, Redis and gunicorn processes on free loopback ports, for tests and bench.

PostgreSQL and Redis are Debian's (`make service-deps` installs them). PostgreSQL refuses to run
as root, so under root its data directory belongs to `nobody` and the server runs as that user.
The site runs under gunicorn with config/gunicorn.conf.py and the production settings; clients
talk to it as the TLS proxy in front of it would (X-Forwarded-Proto: https), see `Browser`.
"""

from __future__ import annotations

import glob
import http.cookiejar
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from tests.html_forms import FirstForm

BASE_DIR = Path(__file__).resolve().parent.parent.parent
GUNICORN_CONFIG = BASE_DIR / "config" / "gunicorn.conf.py"
READY_TIMEOUT = 60.0


class Unavailable(RuntimeError):
    """A server binary is not installed (`make service-deps` installs it)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_port(
    port: int, process: subprocess.Popen, log: Path, timeout: float = READY_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"exited with {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"not listening on {port} within {timeout} s:\n{log.read_text()}")


def end(process: subprocess.Popen, timeout: float = 30, signum: int = signal.SIGTERM) -> None:
    """`signum` (SIGTERM: gunicorn and redis shut down gracefully on it), then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signum)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def postgres_bin(name: str) -> str:
    """Debian keeps the server binaries in /usr/lib/postgresql/<version>/bin, off the PATH."""
    found = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit() else 0,
    )
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise Unavailable(
            f"no PostgreSQL {name}: run `make service-deps` (apt-get install postgresql)"
        )
    return path


@dataclass
class Postgres:
    """A PostgreSQL cluster in a temporary directory; `url(db)` is a DATABASE_URL."""

    port: int
    directory: Path
    process: subprocess.Popen
    run_as: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def start(cls) -> Postgres:
        initdb, postgres = postgres_bin("initdb"), postgres_bin("postgres")
        # Not under pytest's tmp_path: that is 0700 root's, and the server may run as nobody.
        directory = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
        run_as: dict = {}
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(directory, nobody.pw_uid, nobody.pw_gid)
            run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        data, log = directory / "data", directory / "server.log"
        subprocess.run(
            [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            cwd=directory,
            **run_as,
        )
        port = free_port()
        with open(log, "wb") as out:
            os.chown(log, *((run_as["user"], run_as["group"]) if run_as else (-1, -1)))
            process = subprocess.Popen(
                [
                    *(postgres, "-D", str(data), "-p", str(port), "-k", str(directory)),
                    *("-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"),
                    # A throwaway cluster: durability buys nothing here.
                    *("-c", "fsync=off", "-c", "synchronous_commit=off"),
                    *("-c", "full_page_writes=off"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=directory,
                **run_as,
            )
        server = cls(port, directory, process, run_as)
        wait_port(port, process, log)
        # Listening comes a moment before accepting sessions.
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                server.execute("postgres", "SELECT 1")
                return server
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, database: str, sql: str, *params: object) -> list[tuple]:
        import psycopg

        with psycopg.connect(
            self.url(database).replace("postgres://", "postgresql://"), autocommit=True
        ) as db:
            cursor = db.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def create_database(self, name: str) -> str:
        self.execute("postgres", f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
        end(self.process, signum=signal.SIGINT)
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class Redis:
    """A Redis server that keeps nothing on disk; `url(db)` is a CACHE_URL."""

    port: int
    process: subprocess.Popen
    directory: Path

    @classmethod
    def start(cls) -> Redis:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(binary):
            raise Unavailable(
                "no redis-server: run `make service-deps` (apt-get install redis-server)"
            )
        directory = Path(tempfile.mkdtemp(prefix="throwaway-redis-"))
        port, log = free_port(), directory / "server.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [
                    *(binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""),
                    *("--appendonly", "no", "--dir", str(directory)),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_port(port, process, log)
        return cls(port, process, directory)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> Any:
        import redis

        return redis.Redis.from_url(self.url(db))

    def stop(self) -> None:
        end(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)


def site_env(
    *,
    app_url: str,
    emulator_url: str,
    issuer: str,
    database_url: str,
    cache_url: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The production settings' environment for a site against the emulator's demo world."""
    from emulator import seed

    kept = {
        k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}
    }
    env = {
        **kept,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "prod-tests-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "APP_URL": app_url,
        "AWS_REGION": seed.REGION,
        "AWS_ENDPOINT_URL": emulator_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "COGNITO_USER_POOL_ID": seed.USER_POOL_ID,
        "COGNITO_CLIENT_ID": seed.CLIENT_ID,
        "COGNITO_CLIENT_SECRET": seed.CLIENT_SECRET,
        "COGNITO_ISSUER": issuer,
        "COGNITO_DOMAIN": emulator_url,
        "COGNITO_IDENTITY_POOL_ID": seed.IDENTITY_POOL_ID,
        "PROTECTED_BUCKET": seed.BUCKET,
        "PYTHONUNBUFFERED": "1",
    }
    if cache_url:
        env["CACHE_URL"] = cache_url
    return {**env, **(extra or {})}


def manage(env: Mapping[str, str], *args: str, code: Path = BASE_DIR) -> None:
    """`manage.py` of the tree `code` with the site's environment (migrate, collectstatic),
    failing loudly."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=code,
        env=dict(env),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


@dataclass
class Gunicorn:
    """The site under gunicorn with the checked-in configuration: `access_log` is gunicorn's access
    log, `output` what the workers print (the app's own log lines)."""

    port: int
    process: subprocess.Popen
    access_log: Path
    error_log: Path
    output: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls,
        env: Mapping[str, str],
        directory: Path,
        *,
        port: int = 0,
        workers: int = 2,
        code: Path = BASE_DIR,
    ) -> Gunicorn:
        """Serve the tree `code` on `port` (free one when 0); APP_URL in `env` must name that
        port. bench/load.py passes another tree to measure a baseline beside this one."""
        port = port or free_port()
        access_log, error_log = directory / "access.log", directory / "error.log"
        output = directory / "output.log"
        with open(output, "wb") as out:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "gunicorn"),
                    *("-c", str(code / GUNICORN_CONFIG.relative_to(BASE_DIR))),
                    *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
                    *("--access-logfile", str(access_log), "--error-logfile", str(error_log)),
                    "config.wsgi",
                ],
                cwd=code,
                env=dict(env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        error_log.touch()
        wait_port(port, process, error_log)
        site = cls(port, process, access_log, error_log, output)
        deadline = time.monotonic() + READY_TIMEOUT
        while Browser(site.url).get("/healthz").status_code != 200:  # every worker booted by now
            if time.monotonic() > deadline:
                raise RuntimeError(f"/healthz never answered 200:\n{error_log.read_text()}")
            time.sleep(0.2)
        return site

    def stop(self) -> None:
        end(self.process)


class _BehindTlsProxy(http.cookiejar.DefaultCookiePolicy):
    """Send `Secure` cookies over the loopback hop, as the TLS proxy in front of the site does."""

    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return True


# The production settings' cookie names: Secure cookies get the `__Host-` prefix.
SESSION_COOKIE = "__Host-sessionid"
CSRF_COOKIE = "__Host-csrftoken"


class Browser(requests.Session):
    """A browser reaching the site through a TLS proxy: the site sees https (the production
    settings redirect plain HTTP and mark cookies Secure), cookies flow as over HTTPS."""

    def __init__(self, site: str) -> None:
        super().__init__()
        self.site = site.rstrip("/")
        self.cookies.set_policy(_BehindTlsProxy())
        self.headers["X-Forwarded-Proto"] = "https"
        # Django's CSRF check compares Origin with the (https) request it sees.
        self.headers["Origin"] = "https://" + self.site.split("://", 1)[1]
        self.trust_env = False  # loopback only: a proxy from the environment must not see it

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        # requests copies the jar into a fresh one (with the default policy) for each request:
        # the Cookie header is made again from this session's jar, under its policy.
        prepared = super().prepare_request(request)
        prepared.headers.pop("Cookie", None)
        prepared.prepare_cookies(self.cookies)
        return prepared

    def get(self, path: str, **kwargs: object) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 20)
        return super().get(self._url(path), **kwargs)

    def post(self, path: str, data: object = None, **kwargs: object) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("allow_redirects", False)
        kwargs.setdefault("timeout", 20)
        return super().post(self._url(path), data=data, **kwargs)

    def _url(self, path: str) -> str:
        return path if "://" in path else self.site + path

    def form_post(self, path: str, fields: Mapping[str, str]) -> requests.Response:
        """GET the page for its CSRF cookie, then POST the form with the token."""
        self.get(path)
        token = self.cookies.get(CSRF_COOKIE)
        return self.post(
            path,
            data={"csrfmiddlewaretoken": token, **fields},
            headers={"Referer": self.site + path},
        )

    def current_user(self) -> str | None:
        """The username the home page shows, or None."""
        page = self.get("/")
        marker = 'data-testid="current-user">'
        if page.status_code != 200 or marker not in page.text:
            return None
        return page.text.split(marker, 1)[1].split("<", 1)[0]

    def sign_in(self, username: str) -> None:
        """Managed login as a demo user without MFA: the site's redirect, the pool's hosted
        sign-in page, the callback. Needs no Django in this process (bench/load.py has none)."""
        start = self.get("/accounts/login/")
        assert start.status_code == 302, (start.status_code, start.text[:300])
        callback = hosted_sign_in(start.headers["Location"], username)
        assert callback.startswith(f"{self.site}/accounts/callback/?"), callback
        answer = self.get(callback)
        assert answer.status_code == 302, (answer.status_code, answer.text[:300])


def hosted_sign_in(authorize_url: str, username: str) -> str:
    """Sign in on the emulator's hosted page; the callback URL (code and state) it sends back."""
    from emulator import seed

    password = next(user.password for user in seed.DEMO_USERS if user.username == username)
    pool = requests.Session()
    pool.trust_env = False
    page = pool.get(authorize_url, timeout=20)
    form = FirstForm()
    form.feed(page.text)
    assert page.status_code == 200 and form.action is not None, page.text[:300]
    answer = pool.post(
        urljoin(page.url, form.action),
        data={**form.fields, "username": username, "password": password},
        allow_redirects=False,
        timeout=20,
    )
    assert answer.status_code in (302, 303), (answer.status_code, answer.text[:300])
    return answer.headers["Location"]
