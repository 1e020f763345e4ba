"""The bearer check's cost: `/api/me` with a token against `/healthz`; cached vs first check.

Run: .venv/bin/python bench/api.py [--seconds 3] [--workers 2] [--clients 4]

1. The site under gunicorn on loopback (sync workers, CLI flags, a throwaway SQLite database),
   the local emulator as the issuer. Client processes request `/healthz` (no authentication; one
   `SELECT 1`) and `/api/me` (a machine token from the emulator's client_credentials grant,
   checked and served from the verified-token cache after the first request of each worker),
   in alternating rounds; the best round of each is compared. Target: the token check costs at
   most 10% of throughput.
2. In this process: `bearer_authenticate` with an empty cache (the full validation, JWKS warm)
   against a repeat of the same token (the cache). Target: the repeat at most 10 µs.

Prints only; never asserts.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from emulator import seed  # noqa: E402
from emulator.server import Emulator  # noqa: E402

THROUGHPUT_TARGET = 0.90
CACHED_TARGET_US = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_environ(emulator: Emulator, *, port: int, database: Path) -> dict[str, str]:
    """The production settings, pointed at the emulator (as `manage.py demo` does)."""
    from tests.prod.servers import site_env

    return {
        **os.environ,
        **site_env(
            app_url=f"http://127.0.0.1:{port}",
            emulator_url=emulator.url,
            issuer=emulator.issuer,
            database_url=f"sqlite:///{database}",
            extra={
                "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "API_ALLOWED_CLIENT_IDS": f"{seed.CLIENT_ID},{seed.MACHINE_CLIENT_ID}",
                # No collectstatic here: whitenoise's warning about it is not the bench's business.
                "PYTHONWARNINGS": "ignore::UserWarning",
            },
        ),
    }


def machine_token(emulator: Emulator) -> str:
    response = requests.post(
        f"{emulator.url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(seed.MACHINE_CLIENT_ID, seed.MACHINE_CLIENT_SECRET),
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def hammer(port: int, path: str, headers: dict[str, str], seconds: float, queue) -> None:
    """One client: requests one after another for `seconds`; puts (done, errors)."""
    done = errors = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        # Sync workers close every connection, so each request opens one, for both endpoints.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                done += 1
            else:
                errors += 1
        except OSError:
            errors += 1
        finally:
            connection.close()
    queue.put((done, errors))


def throughput(port: int, path: str, headers: dict[str, str], *, seconds: float, clients: int):
    """Requests per second of `clients` processes for `seconds`, and the errors seen."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=hammer, args=(port, path, headers, seconds, queue))
        for _ in range(clients)
    ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    return sum(done for done, _ in results) / seconds, sum(errors for _, errors in results)


def wait_until_up(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            headers = {"X-Forwarded-Proto": "https"}
            if requests.get(f"http://127.0.0.1:{port}/healthz", headers=headers, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz")


def bench_server(emulator: Emulator, token: str, args: argparse.Namespace) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        environ = site_environ(emulator, port=port, database=Path(directory) / "bench.sqlite3")
        manage = [sys.executable, str(BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=environ, cwd=BASE_DIR, check=True)
        gunicorn = [
            sys.executable, "-m", "gunicorn", "config.wsgi",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.workers),
            "--log-level", "warning",
        ]  # fmt: skip
        server = subprocess.Popen(gunicorn, env=environ, cwd=BASE_DIR)
        try:
            wait_until_up(port)
            # The production settings redirect plain HTTP; a TLS proxy would say https.
            https = {"X-Forwarded-Proto": "https"}
            bearer = {**https, "Authorization": f"Bearer {token}"}
            check = requests.get(f"http://127.0.0.1:{port}/api/me", headers=bearer, timeout=5)
            print(f"/api/me answers {check.status_code}: {check.text}")
            # Warm every worker's JWKS and token cache before timing.
            throughput(port, "/api/me", bearer, seconds=1.0, clients=args.clients)
            best = {"/healthz": 0.0, "/api/me": 0.0}
            failures = {"/healthz": 0, "/api/me": 0}
            for _ in range(args.rounds):
                for path, headers in (("/healthz", https), ("/api/me", bearer)):
                    rate, errors = throughput(
                        port, path, headers, seconds=args.seconds, clients=args.clients
                    )
                    best[path] = max(best[path], rate)
                    failures[path] += errors
        finally:
            server.terminate()
            server.wait(timeout=10)
    ratio = best["/api/me"] / best["/healthz"]
    print(
        f"gunicorn, {args.workers} sync workers, {args.clients} client processes, "
        f"best of {args.rounds} rounds of {args.seconds:.0f} s"
    )
    print(f"  /healthz (no token, SELECT 1)      {best['/healthz']:8.0f} req/s")
    print(f"  /api/me  (bearer token, cached)    {best['/api/me']:8.0f} req/s")
    print(f"  errors: {failures}")
    print(
        f"  /api/me / /healthz = {ratio:.2f} (target >= {THROUGHPUT_TARGET:.2f}: "
        f"{'met' if ratio >= THROUGHPUT_TARGET else 'NOT met'})"
    )


def bench_validator(emulator: Emulator, token: str, args: argparse.Namespace) -> None:
    environ = site_environ(emulator, port=8000, database=Path(tempfile.gettempdir()) / "x")
    os.environ.update(environ)
    import django

    django.setup()
    from api.bearer import bearer_authenticate, verified_tokens

    authorization = f"Bearer {token}"
    bearer_authenticate(authorization=authorization)  # the JWKS fetch: not timed

    def per_call(function, count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            function()
        return (time.perf_counter() - started) / count * 1e6

    def first() -> None:
        verified_tokens.clear()
        bearer_authenticate(authorization=authorization)

    def repeat() -> None:
        bearer_authenticate(authorization=authorization)

    first_us = min(per_call(first, 2000) for _ in range(3))
    repeat_us = min(per_call(repeat, 50000) for _ in range(3))
    print("bearer_authenticate, in-process, JWKS warm")
    print(f"  first validation (cache empty)     {first_us:8.1f} µs")
    print(f"  repeat of the same token (cached)  {repeat_us:8.1f} µs")
    print(
        f"  cached repeat target <= {CACHED_TARGET_US:.0f} µs: "
        f"{'met' if repeat_us <= CACHED_TARGET_US else 'NOT met'}; "
        f"{first_us / repeat_us:.0f}x faster than a first validation"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    emulator = Emulator(host="localhost", port=0).start()
    try:
        token = machine_token(emulator)
        bench_server(emulator, token, args)
        bench_validator(emulator, token, args)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
