"""The site as it runs in production: gunicorn, PostgreSQL and Redis, on throwaway servers.

The servers start once per run on free loopback ports. Without Debian's postgresql and
redis-server (`make service-deps` installs them) these tests skip, loudly; under
REQUIRE_SERVICES=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from tests.prod.servers import (
    Gunicorn,
    Postgres,
    Redis,
    Unavailable,
    free_port,
    manage,
    site_env,
)


def _unavailable(reason: str) -> None:
    """Fail under REQUIRE_SERVICES=1, otherwise skip and say so in the summary."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(f"SKIPPED, not tested: {reason}")


def _running(kind: type[Postgres] | type[Redis]) -> Iterator[Any]:
    """A throwaway server of `kind` for the session, or the skip (failure) that says why not."""
    try:
        server = kind.start()
    except Unavailable as missing:
        _unavailable(str(missing))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    yield from _running(Postgres)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    yield from _running(Redis)


_databases = count(1)


def new_database(postgres: Postgres) -> str:
    """A new, empty database of the throwaway cluster: its DATABASE_URL."""
    return postgres.create_database(f"site_{next(_databases)}")


@pytest.fixture(scope="session")
def collected_static() -> None:
    """`collectstatic`, as a deployment runs it: the production settings serve hashed files."""
    env = site_env(
        app_url="http://127.0.0.1:1",
        emulator_url="http://localhost:1",
        issuer="http://localhost:1/pool",
        database_url="sqlite://:memory:",
    )
    manage(env, "collectstatic", "--noinput", "-v", "0")


def scratch() -> Path:
    """A scratch folder outside pytest's root-only tmp tree (SQLite files, the servers' logs)."""
    return Path(tempfile.mkdtemp(prefix="prod-site-"))


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = scratch()
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Sites:
    """Starts the site under gunicorn (migrated first) against the emulator; stops them all."""

    def __init__(self, emulator: Any, workdir: Path) -> None:
        self.emulator, self.workdir = emulator, workdir
        self.started: list[Gunicorn] = []

    def start(
        self, *, database_url: str, cache_url: str | None = None, workers: int = 2, **extra: str
    ) -> Gunicorn:
        port = free_port()
        app_url = f"http://127.0.0.1:{port}"
        self.emulator.add_app_url(app_url)
        env = site_env(
            app_url=app_url,
            emulator_url=self.emulator.url,
            issuer=self.emulator.issuer,
            database_url=database_url,
            cache_url=cache_url,
            extra=extra,
        )
        manage(env, "migrate", "-v", "0")
        logs = self.workdir / f"site-{port}"
        logs.mkdir()
        site = Gunicorn.start(env, logs, port=port, workers=workers)
        self.started.append(site)
        return site

    def stop_all(self) -> None:
        for site in self.started:
            site.stop()


@pytest.fixture
def start_site(
    emulator: Any, collected_static: None, workdir: Path
) -> Iterator[Callable[..., Gunicorn]]:
    """Start the site under gunicorn; every site started is stopped after the test."""
    sites = Sites(emulator, workdir)
    yield sites.start
    sites.stop_all()
