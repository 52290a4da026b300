"""The security review's probes of exports, as figures: 32 HEAD exports held open at once,
then 64 CSV exports at once, each against one worker on synthetic data, with a cheap JSON
page probed all the while (its latency is what a crowd of exports must not take away).

    python -m bench.exports [--cities 100]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from app.config import PROJECT_ROOT
from harness.server import server_process

EXPORT = "/api/v1/metrics?format=csv"
PROBE = "/api/v1/indicators?limit=5"


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / 100


def probing(base: str, stop: threading.Event, samples: list[float]) -> threading.Thread:
    def run() -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            while not stop.is_set():
                started = time.perf_counter()
                http.get(PROBE).raise_for_status()
                samples.append((time.perf_counter() - started) * 1000)
                time.sleep(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def crowd(count: int, request: Callable[[], int]) -> Counter[int]:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def one() -> None:
        status = request()
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def measure(name: str, base: str, pid: int, count: int, request: Callable[[], int]) -> None:
    samples: list[float] = []
    stop = threading.Event()
    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    probe = probing(base, stop, samples)
    statuses = crowd(count, request)
    elapsed = time.perf_counter() - started
    time.sleep(1)  # anything still walking after the answers shows in the CPU
    stop.set()
    probe.join()
    print(
        f"{name}: {count} at once, statuses {dict(sorted(statuses.items()))} in {elapsed:.1f} s;"
        f" server CPU {cpu_seconds(pid) - cpu:.2f} s; probe p50 {statistics.median(samples):.1f}"
        f" ms, p90 {percentile(samples, 0.9):.1f} ms, max {max(samples):.1f} ms"
        f" ({len(samples)} probes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'synth.db'}"
        subprocess.run(
            [sys.executable, "-m", "app", "synth", "--database-url", url,
             "--cities", str(args.cities)],
            cwd=PROJECT_ROOT, check=True, capture_output=True,
        )  # fmt: skip
        with server_process(url) as (base, process):
            rows = httpx.get(f"{base}/api/v1/metrics?limit=1&count=true").json()["meta"]
            print(
                f"one worker, {rows['total']:,} rows{'+' if rows['total_relation'] != 'eq' else ''}"
            )

            def head() -> int:
                return httpx.head(base + EXPORT, timeout=60).status_code

            def export() -> int:
                with httpx.stream("GET", base + EXPORT, timeout=120) as response:
                    for _ in response.iter_bytes():
                        pass
                    return response.status_code

            measure("HEAD exports", base, process.pid, 32, head)
            measure("CSV exports", base, process.pid, 64, export)


if __name__ == "__main__":
    main()
