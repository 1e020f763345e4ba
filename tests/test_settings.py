"""Configuration comes from the environment, fails loudly when incomplete, is safe in production.

Settings are read once per process, so each case imports them in a fresh interpreter with exactly
the environment it describes (and without the `.env` file a developer may keep).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from config.settings import https_url

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_SECRET_KEY": "prod-like-4f9c2b7e1d8a6f3c0e5b9a2d7c4f1e8b3a6d9c2f5e8b1a4d7c0f3e6b9a",
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "app.example.com",
    "AWS_REGION": "eu-west-1",
    "COGNITO_USER_POOL_ID": "eu-west-1_AbCdEf123",
    "COGNITO_CLIENT_ID": "1example23456789abcdefghij",
    "COGNITO_DOMAIN": "https://login.example.com",
    "APP_URL": "https://app.example.com",
}
REQUIRED = [
    "DJANGO_SECRET_KEY",
    "AWS_REGION",
    "COGNITO_USER_POOL_ID",
    "COGNITO_CLIENT_ID",
    "COGNITO_DOMAIN",
    "APP_URL",
]

# Imports the settings module as `manage.py` would, skipping `.env` so only `env` counts.
LOAD_SETTINGS = """
import json, sys, environ
environ.Env.read_env = classmethod(lambda cls, *args, **kwargs: None)
from django.core.exceptions import ImproperlyConfigured
try:
    import config.settings as s
except ImproperlyConfigured as error:
    print(json.dumps({"error": str(error)}))
    sys.exit(0)
db = s.DATABASES["default"]
print(json.dumps({"issuer": s.COGNITO_ISSUER, "domain": s.COGNITO_DOMAIN,
                  "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
                  "conn_max_age": db["CONN_MAX_AGE"], "health_checks": db["CONN_HEALTH_CHECKS"],
                  "cache": s.CACHES["default"]["BACKEND"], "shared_cache": s.SHARED_CACHE,
                  "session_engine": s.SESSION_ENGINE}))
"""


def load_settings(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The settings a fresh process reads from exactly `env` (plus PATH)."""
    result = subprocess.run(
        [sys.executable, "-c", LOAD_SETTINGS],
        cwd=BASE_DIR,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize("missing", REQUIRED)
def test_missing_required_variable_names_it(missing: str, tmp_path: Path) -> None:
    env = {name: value for name, value in PRODUCTION.items() if name != missing}

    loaded = load_settings(env, tmp_path)

    assert missing in loaded.get("error", "")


@pytest.mark.parametrize("name", ["COGNITO_ISSUER", "COGNITO_DOMAIN"])
def test_plain_http_is_rejected_on_a_public_host(name: str, tmp_path: Path) -> None:
    loaded = load_settings({**PRODUCTION, name: "http://login.example.com/x"}, tmp_path)

    assert name in loaded.get("error", "")


@pytest.mark.parametrize("host", ["127.0.0.1:9229", "localhost:9229"])
@pytest.mark.parametrize("name", ["COGNITO_ISSUER", "COGNITO_DOMAIN"])
def test_plain_http_is_accepted_on_loopback(name: str, host: str, tmp_path: Path) -> None:
    loaded = load_settings({**PRODUCTION, name: f"http://{host}/x"}, tmp_path)

    assert "error" not in loaded
    assert loaded[name.removeprefix("COGNITO_").lower()] == f"http://{host}/x"


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("https://login.example.com", True),
        ("http://localhost:9229", True),
        ("http://127.0.0.1:9229/", True),
        ("http://[::1]:9229", True),
        ("http://login.example.com", False),
        ("http://127.0.0.1.example.com", False),
        ("http://localhost.example.com", False),
        ("ftp://localhost", False),
        ("login.example.com", False),
    ],
)
def test_https_url_allows_http_only_on_loopback(value: str, accepted: bool) -> None:
    if accepted:
        assert https_url("COGNITO_DOMAIN", value) == value.rstrip("/")
    else:
        with pytest.raises(ImproperlyConfigured, match="COGNITO_DOMAIN"):
            https_url("COGNITO_DOMAIN", value)


def test_issuer_defaults_to_the_aws_form(tmp_path: Path) -> None:
    loaded = load_settings(PRODUCTION, tmp_path)

    assert loaded["issuer"] == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"


def test_sqlite_is_the_default_database(tmp_path: Path) -> None:
    loaded = load_settings(PRODUCTION, tmp_path)

    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(BASE_DIR / "db.sqlite3")


def test_database_url_is_honoured(tmp_path: Path) -> None:
    url = "postgres://app:pw@db.example.com:5432/cognito_app"

    loaded = load_settings({**PRODUCTION, "DATABASE_URL": url}, tmp_path)

    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "cognito_app"
    assert loaded["host"] == "db.example.com"


def test_database_connections_outlive_a_request(tmp_path: Path) -> None:
    loaded = load_settings(PRODUCTION, tmp_path)

    assert loaded["conn_max_age"] == 60
    assert loaded["health_checks"] is True


def test_database_url_can_close_connections_after_each_request(tmp_path: Path) -> None:
    url = "postgres://app:pw@db.example.com:5432/cognito_app?conn_max_age=0"

    loaded = load_settings({**PRODUCTION, "DATABASE_URL": url}, tmp_path)

    assert loaded["conn_max_age"] == 0


def test_deploy_check_is_clean_in_production(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        **PRODUCTION,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_healthz_answers_ok(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_env_example_is_a_complete_configuration(tmp_path: Path) -> None:
    """Copying .env.example to .env gives settings that load; only the values need changing."""
    lines = (BASE_DIR / ".env.example").read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))

    loaded = load_settings(env, tmp_path)

    assert "error" not in loaded
    assert loaded["domain"] == env["COGNITO_DOMAIN"]


@pytest.mark.parametrize(
    ("cache_url", "backend", "session_engine"),
    [
        (None, "django.core.cache.backends.locmem.LocMemCache", "db"),
        # Django's Redis cache, with one Redis client per process (config/cache.py).
        ("redis://cache.example.com:6379/0", "config.cache.RedisCache", "cached_db"),
        (
            "filecache:///var/tmp/app-cache",
            "django.core.cache.backends.filebased.FileBasedCache",
            "cached_db",
        ),
    ],
)
def test_sessions_are_read_through_the_cache_only_when_it_is_shared(
    cache_url: str | None, backend: str, session_engine: str, tmp_path: Path
) -> None:
    env = PRODUCTION if cache_url is None else {**PRODUCTION, "CACHE_URL": cache_url}

    loaded = load_settings(env, tmp_path)

    assert loaded["cache"] == backend
    assert loaded["shared_cache"] is (cache_url is not None)
    assert loaded["session_engine"] == f"django.contrib.sessions.backends.{session_engine}"
