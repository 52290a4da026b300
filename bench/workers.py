"""Throughput against worker count: `atlas serve --workers 1` and `--workers 2` on the same
SQLite file (the seeds), driven by wrk at queries whose cost is in the API process (on
SQLite the engine runs inside it too: reading, shaping and serialising rows).

    python -m bench.workers                # 2 rounds of 6 s per worker count
    python -m bench.workers --seconds 3

Rounds alternate 1, 2, 1, 2 workers so a neighbour's load on this shared machine hits both;
medians are printed with the cores the server's processes used (CPU seconds over wall time,
from /proc) and the cores wrk used, which shows what the machine had left.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.config import PROJECT_ROOT
from bench.wrk import read_report, wrk_output
from harness.server import serving

QUERIES = {
    "500 places, sorted by name": "/api/v1/places?sort=name&limit=500",
    "100 metrics with provenance": "/api/v1/metrics?limit=100&sort=-year",
}
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Round:
    workers: int
    query: str
    rps: float
    p99_ms: float
    server_cores: float
    wrk_cores: float


def cpu_seconds(root: int) -> float:
    """User and system CPU of `root` and its children (uvicorn's workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if root in (pid, ppid):
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def children_cpu() -> float:
    """CPU this process's finished children (wrk) used so far."""
    usage = os.times()
    return usage.children_user + usage.children_system


def measure(base: str, pid: int, path: str, seconds: int, connections: int) -> Round:
    url = base + path
    wrk_output(url, seconds=2, connections=connections, threads=1)  # warm up
    server_before, wrk_before, start = cpu_seconds(pid), children_cpu(), time.monotonic()
    output = wrk_output(url, seconds=seconds, connections=connections, threads=1)
    wall = time.monotonic() - start
    report = read_report(output)
    if report.errors:
        raise RuntimeError(f"{report.errors} errors at {path}")
    return Round(
        workers=0, query=path, rps=report.requests_per_second, p99_ms=report.p99_ms,
        server_cores=(cpu_seconds(pid) - server_before) / wall,
        wrk_cores=(children_cpu() - wrk_before) / wall,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.workers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="atlas-bench-workers-") as workdir:
        url = f"sqlite:///{Path(workdir) / 'atlas.db'}"
        subprocess.run(
            [sys.executable, "-m", "app", "load", "--no-verify"],
            env={**os.environ, "DATABASE_URL": url}, cwd=PROJECT_ROOT,
            check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        for _ in range(args.rounds):
            for workers in (1, 2):
                with serving(url, workers=workers) as server:
                    for path in QUERIES.values():
                        result = measure(
                            server.base, server.process.pid, path, args.seconds, args.connections
                        )
                        rounds.append(
                            Round(workers, path, result.rps, result.p99_ms,
                                  result.server_cores, result.wrk_cores)
                        )  # fmt: skip
    print(report(rounds, args))


def report(rounds: list[Round], args: argparse.Namespace) -> str:
    lines = [
        f"`atlas serve --workers N` on SQLite (the seeds), {os.cpu_count()} cores;"
        f" wrk 1 thread, {args.connections} connections, {args.rounds} rounds of"
        f" {args.seconds} s (medians)",
        "",
        "| query | workers | req/s | p99 ms | server cores | wrk cores | vs 1 worker |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, path in QUERIES.items():
        single = 0.0
        for workers in (1, 2):
            mine = [r for r in rounds if r.query == path and r.workers == workers]
            rps = statistics.median(r.rps for r in mine)
            single = single or rps
            lines.append(
                f"| {name} | {workers} | {rps:,.0f}"
                f" | {statistics.median(r.p99_ms for r in mine):.1f}"
                f" | {statistics.median(r.server_cores for r in mine):.2f}"
                f" | {statistics.median(r.wrk_cores for r in mine):.2f} | {rps / single:.2f}x |"
            )
    load = os.getloadavg()
    lines += ["", f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
