"""The site as deployed, under load: gunicorn on PostgreSQL and Redis, driven from another process.

Run: .venv/bin/python bench/load.py [--seconds 5] [--concurrency 8] [--workers 2] [--baseline REF]

Throwaway PostgreSQL and Redis servers start on free loopback ports (`make service-deps` installs
them), the emulator runs in a process of its own (AWS is a separate party to a deployed site), and
the site runs under gunicorn with config/gunicorn.conf.py and the production settings, first with
one worker, then with `--workers`. This process is the load: `--concurrency` threads, each a
browser with its own keep-alive connection and, for the signed-in pages, its own session signed in
through managed login. Each scenario runs for `--seconds` (bounded in time and count, loopback
only): /healthz, the home page anonymous and signed in, /protected/, and whole managed-login
sign-ins. Prints requests per second, latency percentiles, errors (any answer but the expected
one) and lost sessions (a signed-in page that no longer knows its user), the ratios the issue asks
for, and each worker's resident memory. Prints only; never asserts.

Every party shares the machine's CPUs, so throughput also moves with the load tool's own cost and
with anything else running. Each scenario therefore also prints the CPU milliseconds per request
of each party, from /proc: the site's workers, this load process, Redis, PostgreSQL and the
emulator; the site's CPU per request is the steadier figure on a busy machine. `--baseline REF`
extracts that commit (`git archive`) and measures it beside this tree, taking turns scenario by
scenario, and prints both side by side (before | after). On a machine with few cores more
workers than free cores measure slower, not faster.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.demo_process import descendants
from tests.prod.servers import (
    BASE_DIR,
    Browser,
    Gunicorn,
    Postgres,
    Redis,
    free_port,
    manage,
    site_env,
)

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
    # CPU seconds each party used during the scenario: the site's workers, this load process,
    # Redis, PostgreSQL and the emulator (AWS), from /proc.
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000

    def cpu_ms(self, party: str) -> float:
        """`party`'s CPU milliseconds per completed request."""
        return self.cpu.get(party, 0.0) * 1000 / len(self.latencies) if self.latencies else 0.0

    def line(self) -> str:
        return (
            f"{self.rate:7.1f}/s p50 {self.percentile(50):6.1f} p99 {self.percentile(99):6.1f} ms "
            f"site CPU {self.cpu_ms('site'):4.2f} ms"
        )

    def cpu_line(self) -> str:
        return ", ".join(f"{party} {self.cpu_ms(party):.2f}" for party in self.cpu)


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


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: set[int]) -> float:
    """User plus system CPU seconds the processes `pids` have used, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited: its time is lost, which only understates
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLOCK_TICKS


# Each party's processes, by name; "load" is this process (its threads are the browsers).
Parties = dict[str, Callable[[], set[int]]]


def cpu_snapshot(parties: Parties) -> dict[str, float]:
    times = os.times()
    return {"load": times.user + times.system} | {
        name: cpu_seconds(pids()) for name, pids in parties.items()
    }


def run(
    name: str,
    step: Step,
    browsers: list[Browser],
    seconds: float,
    parties: Parties | None = None,
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
    before = cpu_snapshot(parties or {})
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    after = cpu_snapshot(parties or {})
    result.cpu = {party: after[party] - before[party] for party in before}
    return result


@dataclass
class Tree:
    """A checkout of the site to measure: this one, or a baseline extracted from git."""

    label: str
    code: Path


def scenarios(
    sites: list[tuple[Tree, Gunicorn, Parties]], concurrency: int, seconds: float
) -> dict[str, list[Result]]:
    """Every scenario against each site in turn, `concurrency` browsers at once: a baseline and
    this tree take turns scenario by scenario, so a busy moment of the machine hits both."""
    anonymous, signed_in = {}, {}
    for tree, site, _ in sites:
        anonymous[tree.label] = [Browser(site.url) for _ in range(concurrency)]
        signed_in[tree.label] = [Browser(site.url) for _ in range(concurrency)]
        for browser in signed_in[tree.label]:
            browser.sign_in("bob")
            browser.get("/protected/")  # warm: the identity's credentials are in the session now
    plan = [
        ("GET /healthz", page("/healthz"), anonymous),
        ("GET / anonymous", page("/"), anonymous),
        ("GET / signed in", page("/", signed_in_as="bob"), signed_in),
        ("GET /protected/ signed in", page("/protected/"), signed_in),
        ("managed-login sign-ins", sign_in("bob"), anonymous),
    ]
    results: dict[str, list[Result]] = {tree.label: [] for tree, _, _ in sites}
    for name, step, browsers in plan:
        for tree, _, parties in sites:
            results[tree.label].append(run(name, step, browsers[tree.label], seconds, parties))
    return results


def worker_memory(site: Gunicorn) -> list[int]:
    """Each worker's resident memory in KiB, from /proc."""
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


def baseline_extract(ref: str, workdir: Path) -> Tree:
    """The tree of git `ref` (a commit, branch or tag of this repository), in `workdir`."""
    code = workdir / "baseline"
    code.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(BASE_DIR), "archive", ref], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
    return Tree(f"baseline {ref}", code)


Figures = dict[int, dict[str, tuple[list[Result], list[int]]]]


def measure(args: argparse.Namespace, trees: list[Tree], workdir: Path) -> Figures:
    postgres, redis = Postgres.start(), Redis.start()
    counts = sorted({1, args.workers})
    ports = {(workers, tree.label): free_port() for workers in counts for tree in trees}
    spawn = multiprocessing.get_context("spawn")
    answers = spawn.Queue()
    urls = [f"http://127.0.0.1:{port}" for port in ports.values()]
    emulator = spawn.Process(target=emulator_serve, args=(urls, answers), daemon=True)
    emulator.start()
    shared: Parties = {
        "redis": lambda: {redis.process.pid},
        "postgres": lambda: {postgres.process.pid} | descendants(postgres.process.pid),
        "aws": lambda: {emulator.pid} | descendants(emulator.pid),  # type: ignore[operator]
    }
    figures: Figures = {}
    try:
        emulator_url, issuer = answers.get(timeout=60)
        # Each tree its own database (their migrations may differ) and its own Redis database.
        stores = {
            tree.label: (postgres.create_database(f"load_{n}"), redis.url(n))
            for n, tree in enumerate(trees)
        }
        for workers in counts:
            sites: list[tuple[Tree, Gunicorn, Parties]] = []
            try:
                for tree in trees:
                    port = ports[(workers, tree.label)]
                    database_url, cache_url = stores[tree.label]
                    env = site_env(
                        app_url=f"http://127.0.0.1:{port}",
                        emulator_url=emulator_url,
                        issuer=issuer,
                        database_url=database_url,
                        cache_url=cache_url,
                        extra={"GUNICORN_MAX_REQUESTS": "0"},  # no recycling mid-measurement
                    )
                    if workers == counts[0]:
                        manage(env, "migrate", "-v", "0", code=tree.code)
                        manage(env, "collectstatic", "--noinput", "-v", "0", code=tree.code)
                    logs = workdir / f"{tree.code.name}-workers-{workers}"
                    logs.mkdir()
                    site = Gunicorn.start(env, logs, port=port, workers=workers, code=tree.code)
                    pid = site.process.pid
                    parties = {"site": lambda pid=pid: {pid} | descendants(pid)} | shared
                    sites.append((tree, site, parties))
                print(
                    f"-- {workers} worker(s), {args.concurrency} clients, {args.seconds:g} s each,"
                    f" {os.cpu_count()} CPUs for the site, the load, PostgreSQL, Redis and AWS"
                )
                results = scenarios(sites, args.concurrency, args.seconds)
                side_by_side(results)
                figures[workers] = {
                    tree.label: (results[tree.label], worker_memory(site))
                    for tree, site, _ in sites
                }
            finally:
                for _, site, _ in sites:
                    site.stop()
    finally:
        emulator.kill()
        redis.stop()
        postgres.stop()
    return figures


def side_by_side(results: dict[str, list[Result]]) -> None:
    labels = list(results)
    print(f"  {'':<26} " + " | ".join(f"{label:<44}" for label in labels))
    for row in zip(*results.values(), strict=True):
        print(f"  {row[0].name:<26} " + " | ".join(result.line() for result in row))
    for label, rows in results.items():
        print(f"  CPU ms per request, {label} (site = the gunicorn workers):")
        for result in rows:
            print(f"    {result.name:<26} {result.cpu_line()}")
            if result.errors or result.lost:
                print(f"    errors={result.errors} lost={result.lost}: {result.first_error}")


def report(figures: Figures, workers: int) -> None:
    labels = list(figures[workers])
    by_name = {
        label: {result.name: result for result in figures[workers][label][0]} for label in labels
    }

    def ratio(top: str, bottom: str, of: Callable[[Result], float]) -> str:
        figures_ = []
        for label in labels:
            below = of(by_name[label][bottom])
            figures_.append(f"{of(by_name[label][top]) / below:.2f}" if below else "n/a")
        return " | ".join(f"{figure:>6}" for figure in figures_)

    def rate(result: Result) -> float:
        return result.rate

    def per_site_cpu(result: Result) -> float:  # requests per site CPU second
        return 1 / result.cpu_ms("site") if result.cpu_ms("site") else 0.0

    print(f"\n-- ratios ({workers} workers): {' | '.join(labels)}")
    signed, anonymous = "GET / signed in", "GET / anonymous"
    print(f"  signed-in / anonymous home page, throughput:      {ratio(signed, anonymous, rate)}")
    print("    (target: at least 0.90)")
    print(
        f"  signed-in / anonymous home page, by site CPU:     "
        f"{ratio(signed, anonymous, per_site_cpu)}"
    )
    print(
        f"  /protected/ / home page signed in, throughput:    "
        f"{ratio('GET /protected/ signed in', signed, rate)}"
    )
    if 1 in figures and workers != 1:
        for name in by_name[labels[0]]:
            scales = []
            for label in labels:
                below = {r.name: r for r in figures[1][label][0]}[name].rate
                scales.append(f"{by_name[label][name].rate / below:.2f}x" if below else "n/a")
            print(f"  {name:<26} {workers} workers vs 1: {' | '.join(scales)}")
    for label in labels:
        memory = figures[workers][label][1]
        sizes = ", ".join(f"{kib / 1024:.0f} MiB" for kib in memory)
        print(f"  resident memory per worker, {label}: {sizes}")
    errors = sum(
        result.errors + result.lost
        for trees in figures.values()
        for results, _ in trees.values()
        for result in results
    )
    print(f"  errors and lost sessions, all runs: {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--baseline",
        metavar="GIT_REF",
        help="also measure this commit of the repository, side by side (before | after)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        trees = [baseline_extract(args.baseline, workdir)] if args.baseline else []
        trees.append(Tree("this tree", BASE_DIR))
        figures = measure(args, trees, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(figures, args.workers)


if __name__ == "__main__":
    main()
