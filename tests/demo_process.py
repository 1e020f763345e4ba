"""`manage.py demo` as test suites run it: on free ports, ready once its manifest exists."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60.0
# The manifest's keys, as the test-target contract (DESIGN.md, README) names them.
MANIFEST_KEYS = (
    "app_url",
    "region",
    "user_pool_id",
    "client_id",
    "client_secret",
    "issuer",
    "managed_login_url",
    "aws_endpoint_url",
    "aws_access_key_id",
    "aws_secret_access_key",
    "identity_pool_id",
    "bucket",
    "inbox_url",
    "reset_url",
    "users",
    "identity_providers",
    "public_client_id",
    "machine_client",
)


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    manifest_path: Path
    log: Path
    ports: tuple[int, int]

    def manifest(self) -> dict:
        return json.loads(self.manifest_path.read_text())

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def demo_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without this test run's settings, with a database of its own."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if name in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT"}
    }
    return {**kept, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}


def start_demo(
    tmp_path: Path,
    *extra: str,
    port: int = 0,
    emulator_port: int = 0,
    env: dict[str, str] | None = None,
) -> Demo:
    """`manage.py demo` with `extra` arguments; `env` adds to its environment (values there win)."""
    port = port or free_port("127.0.0.1")
    emulator_port = emulator_port or free_port("localhost")
    manifest = tmp_path / "manifest.json"
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "manage.py", "demo", "--port", str(port)),
                *("--emulator-port", str(emulator_port), "--manifest", str(manifest), *extra),
            ],
            cwd=BASE_DIR,
            env={**demo_env(tmp_path), **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Demo(process, manifest, log, (port, emulator_port))


def wait_ready(demo: Demo) -> dict:
    deadline = time.monotonic() + READY_TIMEOUT
    while not demo.manifest_path.exists():
        if demo.process.poll() is not None:
            pytest.fail(f"demo exited with {demo.process.returncode}:\n{demo.output()}")
        if time.monotonic() > deadline:
            stop(demo)
            pytest.fail(f"no manifest within {READY_TIMEOUT} s:\n{demo.output()}")
        time.sleep(0.1)
    return demo.manifest()


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stop(demo: Demo, signum: int = signal.SIGTERM) -> int:
    if demo.process.poll() is None:
        demo.process.send_signal(signum)
    try:
        return demo.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        demo.process.kill()
        raise
