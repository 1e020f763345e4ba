"""The site as deployed, under load: gunicorn on PostgreSQL and Redis, driven from another process.

Run: .venv/bin/python bench/load.py [--seconds 5] [--concurrency 8] [--workers 2]

Throwaway PostgreSQL and Redis servers start on free loopback ports (`make service-deps` installs
them), the emulator runs in a process of its own (AWS is a separate party to a deployed site), and
the site runs under gunicorn with config/gunicorn.conf.py and the production settings, first with
one worker, then with `--workers`. This process is the load: `--concurrency` threads, each a
browser with its own keep-alive connection and, for the signed-in pages, its own session signed in
through managed login. Each scenario runs for `--seconds` (bounded in time and count, loopback
only): /healthz, the home page anonymous and signed in, /protected/, and whole managed-login
sign-ins. Prints requests per second, latency percentiles, errors (any answer but the expected
one) and lost sessions (a signed-in page that no longer knows its user), the ratios the issue asks
for, and each worker's resident memory. Prints only; never asserts. On a machine with few cores the
load, the emulator and the databases compete with the workers: more workers than free cores then
measure slower, not faster.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.prod.servers import Browser, Gunicorn, Postgres, Redis, free_port, manage, site_env

MAX_REQUESTS_PER_THREAD = 100_000  # a bound on count as well as on time


@dataclass
class Result:
    """What one scenario measured."""

    name: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lost: int = 0
    first_error: str = ""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<26} {self.rate:8.1f}/s  p50 {self.percentile(50):7.1f} ms  "
            f"p90 {self.percentile(90):7.1f} ms  p99 {self.percentile(99):7.1f} ms  "
            f"n={len(self.latencies)} errors={self.errors} lost={self.lost}"
        )


# One request of a scenario: given the thread's browser, raise AssertionError on an error and
# return False for a lost session.
Step = Callable[[Browser], bool]


def page(path: str, *, signed_in_as: str | None = None) -> Step:
    def step(browser: Browser) -> bool:
        answer = browser.get(path)
        if answer.status_code in (301, 302) and signed_in_as:
            return False  # sent to sign in: the session was lost
        if answer.status_code != 200:
            raise AssertionError(f"GET {path}: {answer.status_code}")
        return not signed_in_as or f'data-testid="current-user">{signed_in_as}<' in answer.text

    return step


def sign_in(username: str) -> Step:
    """One whole managed-login sign-in: the site, the pool's hosted pages, the callback."""

    def step(browser: Browser) -> bool:
        browser.cookies.clear()
        browser.sign_in(username)
        return True

    return step


def run(
    name: str,
    step: Step,
    browsers: list[Browser],
    seconds: float,
) -> Result:
    """`step` in a loop on each browser's own thread for `seconds`."""
    result = Result(name)
    lock = threading.Lock()
    start = threading.Barrier(len(browsers) + 1)
    deadline = [0.0]

    def worker(browser: Browser) -> None:
        mine: list[float] = []
        errors = lost = 0
        first = ""
        start.wait()
        for _ in range(MAX_REQUESTS_PER_THREAD):
            began = time.perf_counter()
            if began >= deadline[0]:
                break
            try:
                kept = step(browser)
            except Exception as error:  # an error of any kind is counted, never fatal
                errors += 1
                first = first or f"{type(error).__name__}: {error}"[:300]
                continue
            mine.append(time.perf_counter() - began)
            lost += not kept
        with lock:
            result.latencies.extend(mine)
            result.errors += errors
            result.lost += lost
            result.first_error = result.first_error or first

    threads = [threading.Thread(target=worker, args=(browser,)) for browser in browsers]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def scenarios(site: Gunicorn, concurrency: int, seconds: float) -> list[Result]:
    """Every scenario against `site`, `concurrency` browsers at once."""
    anonymous = [Browser(site.url) for _ in range(concurrency)]
    signed_in = [Browser(site.url) for _ in range(concurrency)]
    for browser in signed_in:
        browser.sign_in("bob")
        browser.get("/protected/")  # warm: the identity's credentials are in the session now
    return [
        run("GET /healthz", page("/healthz"), anonymous, seconds),
        run("GET / anonymous", page("/"), anonymous, seconds),
        run("GET / signed in", page("/", signed_in_as="bob"), signed_in, seconds),
        run("GET /protected/ signed in", page("/protected/"), signed_in, seconds),
        run("managed-login sign-ins", sign_in("bob"), anonymous, seconds),
    ]


def worker_memory(site: Gunicorn) -> list[int]:
    """Each worker's resident memory in KiB, from /proc."""
    from tests.demo_process import descendants

    sizes = []
    for pid in sorted(descendants(site.process.pid)):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        sizes += [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")]
    return sizes


def emulator_serve(app_urls: list[str], answers: multiprocessing.Queue) -> None:
    """The child process: the emulator, with the sites' callbacks registered, until killed."""
    from emulator.server import Emulator

    emulator = Emulator(host="localhost", port=0).start()
    for url in app_urls:
        emulator.add_app_url(url)
    answers.put((emulator.url, emulator.issuer))
    threading.Event().wait()


def measure(args: argparse.Namespace, workdir: Path) -> dict[int, tuple[list[Result], list[int]]]:
    postgres, redis = Postgres.start(), Redis.start()
    ports = {count: free_port() for count in sorted({1, args.workers})}
    spawn = multiprocessing.get_context("spawn")
    answers = spawn.Queue()
    urls = [f"http://127.0.0.1:{port}" for port in ports.values()]
    emulator = spawn.Process(target=emulator_serve, args=(urls, answers), daemon=True)
    emulator.start()
    figures = {}
    try:
        emulator_url, issuer = answers.get(timeout=60)
        database_url = postgres.create_database("load")
        for workers, port in ports.items():
            env = site_env(
                app_url=f"http://127.0.0.1:{port}",
                emulator_url=emulator_url,
                issuer=issuer,
                database_url=database_url,
                cache_url=redis.url(),
                extra={"GUNICORN_MAX_REQUESTS": "0"},  # no recycling mid-measurement
            )
            if not figures:
                manage(env, "migrate", "-v", "0")
                manage(env, "collectstatic", "--noinput", "-v", "0")
            logs = workdir / f"workers-{workers}"
            logs.mkdir()
            site = Gunicorn.start(env, logs, port=port, workers=workers)
            try:
                print(
                    f"-- {workers} worker(s), {args.concurrency} clients, {args.seconds:g} s each,"
                    f" {os.cpu_count()} CPUs for the site, the load, PostgreSQL, Redis and AWS"
                )
                results = scenarios(site, args.concurrency, args.seconds)
                for result in results:
                    print("  " + result.line())
                    if result.first_error:
                        print(f"    first error: {result.first_error}")
                figures[workers] = (results, worker_memory(site))
            finally:
                site.stop()
    finally:
        emulator.kill()
        redis.stop()
        postgres.stop()
    return figures


def report(figures: dict[int, tuple[list[Result], list[int]]], workers: int) -> None:
    many, memory = figures[workers]
    by_name = {result.name: result for result in many}

    def ratio(top: str, bottom: str) -> str:
        below = by_name[bottom].rate
        return f"{by_name[top].rate / below:.2f}" if below else "n/a"

    print(f"\n-- ratios ({workers} workers)")
    home = ratio("GET / signed in", "GET / anonymous")
    print(f"  signed-in / anonymous home page throughput: {home} (target: at least 0.90)")
    print(
        f"  /protected/ / home page signed in, throughput: "
        f"{ratio('GET /protected/ signed in', 'GET / signed in')}"
    )
    if 1 in figures and workers != 1:
        single = {result.name: result for result in figures[1][0]}
        for name, result in by_name.items():
            below = single[name].rate
            scale = f"{result.rate / below:.2f}x" if below else "n/a"
            print(f"  {name:<26} {workers} workers vs 1: {scale}")
    print(f"  resident memory per worker: {', '.join(f'{kib / 1024:.0f} MiB' for kib in memory)}")
    errors = sum(
        result.errors + result.lost for results, _ in figures.values() for result in results
    )
    print(f"  errors and lost sessions, all runs: {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        figures = measure(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(figures, args.workers)


if __name__ == "__main__":
    main()
