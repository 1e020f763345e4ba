"""The site under gunicorn with config/gunicorn.conf.py: it serves, and its access log keeps the
authorization code, the state and every other query parameter out."""

from __future__ import annotations

import os
import runpy
import signal
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.demo_process import descendants
from tests.prod.servers import GUNICORN_CONFIG, Browser, Gunicorn, hosted_sign_in


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    """The configuration file's values under `env`."""
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "PORT", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONFIG))


def test_the_configuration_takes_its_worker_count_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings_with(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3


def test_without_web_concurrency_it_runs_two_sync_workers_per_cpu_and_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = settings_with(monkeypatch)

    assert config["workers"] == 2 * (os.cpu_count() or 1) + 1
    assert (config["worker_class"], config["threads"]) == ("sync", 1)
    assert config["max_requests"] > 0 and 0 < config["max_requests_jitter"] < config["max_requests"]
    assert config["graceful_timeout"] > 0 and config["timeout"] > 0
    assert config["bind"] == ["0.0.0.0:8000"]


def test_the_access_log_names_paths_without_their_query(
    start_site: Callable[..., Gunicorn], workdir: Path
) -> None:
    site = start_site(database_url=f"sqlite:///{workdir / 'site.sqlite3'}")
    browser = Browser(site.url)
    start = browser.get("/accounts/login/?next=/protected/")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    callback = hosted_sign_in(start.headers["Location"], "bob")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    assert browser.get(callback).status_code == 302
    assert browser.current_user() == "bob"
    site.stop()  # flushes the log

    log = site.access_log.read_text()
    # The twin: the log does record each request, with its path and status.
    assert '"GET /accounts/callback/ HTTP/1.1" 302' in log, log
    assert '"GET /accounts/login/ HTTP/1.1" 302' in log, log
    for secret in (code, state, "code=", "state=", "next="):
        assert secret not in log, f"{secret!r} in the access log:\n{log}"
    # Nor in what gunicorn and the app themselves log.
    for other in (site.error_log, site.output):
        text = other.read_text()
        assert code not in text and state not in text, text


def test_a_hup_replaces_every_worker_and_the_site_keeps_serving_its_sessions(
    start_site: Callable[..., Gunicorn], workdir: Path
) -> None:
    site = start_site(database_url=f"sqlite:///{workdir / 'site.sqlite3'}")
    browser = Browser(site.url)
    browser.sign_in("bob")
    before = descendants(site.process.pid)
    assert len(before) == 2

    # A new connection per request, as through a proxy: every one must be answered.
    browser.headers["Connection"] = "close"
    site.process.send_signal(signal.SIGHUP)
    answers = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            answers.append(browser.current_user())
        except requests.RequestException as error:
            answers.append(f"{type(error).__name__}: {error}")
        after = descendants(site.process.pid)
        if len(after) == 2 and not after & before:
            break
    else:
        pytest.fail(f"workers not replaced: {before} then {descendants(site.process.pid)}")

    assert set(answers) == {"bob"}, (answers, site.error_log.read_text()[-3000:])
    assert browser.current_user() == "bob"  # no request failed while the workers changed
