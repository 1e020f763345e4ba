"""`manage.py demo`: time from start to manifest written, and memory once ready.

Run: .venv/bin/python bench/demo.py [--runs 3]

Each run starts the demo on free ports with a manifest and database of its own, measures the wall
time until the manifest exists and the resident memory (sum of RSS, from /proc, of the demo process
and all its children) once it is ready, then stops it with SIGTERM. Targets: ready within 10 s,
under 400 MB. Prints only; never asserts.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from tests.demo_process import descendants, free_port  # noqa: E402

TARGET_READY_S = 10.0
TARGET_RSS_MB = 400.0
TIMEOUT_S = 60.0


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (0 when it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def one_run(workdir: Path) -> tuple[float, float, int, float]:
    """(seconds to manifest, total RSS in MB, process count, seconds to stop) for one demo start."""
    manifest = workdir / "manifest.json"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'demo.sqlite3'}",
    }
    command = [
        *(sys.executable, "manage.py", "demo", "--port", str(free_port("127.0.0.1"))),
        *("--emulator-port", str(free_port("localhost")), "--manifest", str(manifest)),
    ]
    start = time.perf_counter()
    demo = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while not manifest.exists():
            if demo.poll() is not None or time.perf_counter() - start > TIMEOUT_S:
                raise RuntimeError(f"demo did not become ready (exit code {demo.poll()})")
            time.sleep(0.02)
        ready = time.perf_counter() - start
        time.sleep(0.5)  # let the site's first requests settle before reading memory
        tree = [demo.pid, *descendants(demo.pid)]
        memory = sum(rss_mb(pid) for pid in tree)
        stop_start = time.perf_counter()
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
        return ready, memory, len(tree), time.perf_counter() - stop_start
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs

    # A process-wide setting would otherwise leak in from the caller's shell (e.g. tests).
    for name in ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG", "APP_URL", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)

    results = []
    print(
        f"manage.py demo, {runs} runs (targets: ready < {TARGET_READY_S:.0f} s, "
        f"memory < {TARGET_RSS_MB:.0f} MB)"
    )
    print()
    print(f"{'run':<5}{'ready (s)':>11}{'RSS (MB)':>11}{'processes':>11}{'stop (s)':>10}")
    for number in range(1, runs + 1):
        with tempfile.TemporaryDirectory(prefix="bench-demo-") as workdir:
            ready, memory, processes, stopped = one_run(Path(workdir))
        results.append((ready, memory))
        print(f"{number:<5}{ready:>11.2f}{memory:>11.0f}{processes:>11}{stopped:>10.2f}")

    ready_median = statistics.median(r for r, _ in results)
    memory_max = max(m for _, m in results)
    ready_verdict = "meets" if ready_median < TARGET_READY_S else "MISSES"
    memory_verdict = "meets" if memory_max < TARGET_RSS_MB else "MISSES"
    print()
    print(
        f"ready, median: {ready_median:.2f} s  ({ready_verdict} the {TARGET_READY_S:.0f} s target)"
    )
    print(
        f"memory, max:   {memory_max:.0f} MB  ({memory_verdict} the {TARGET_RSS_MB:.0f} MB target)"
    )


if __name__ == "__main__":
    main()
