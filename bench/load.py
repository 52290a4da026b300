"""A bounded load run: many connections for a fixed time against one Atlas worker, on SQLite
and on PostgreSQL with a connection pool smaller than the concurrency, then the same with a
pool so small that requests must wait past the pool timeout.

    python -m bench.load                  # 64 connections, 60 s per engine
    python -m bench.load --quick          # small data, short runs (the smoke test)

wrk cycles through a mix of list, filter, cursor and detail URLs and counts every status
(a Lua hook), including whether each 503 carried Retry-After. The worker's resident
memory is sampled every second; the report gives it after warm-up, at the end, and its peak.
It prints figures and asserts nothing: the point is the errors, the statuses and the memory.
"""

import argparse
import re
import tempfile
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx

from bench.queries import queries, read_fixture
from bench.run import (
    BENCH,
    Server,
    log,
    parse_options,
    serving,
    status_mb,
    synth,
    synthetic_database,
)
from bench.wrk import WrkResult, read_report, wrk_output
from harness import PostgresCluster

LUA = """
local paths = {%s}
local n = 0
statuses = {}
missing_retry_after = 0
local threads = {}

function setup(thread) table.insert(threads, thread) end

function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and headers["retry-after"] == nil and headers["Retry-After"] == nil then
    missing_retry_after = missing_retry_after + 1
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("status %%d %%d\\n", status, count))
    end
    io.write(string.format("missing_retry_after %%d\\n", thread:get("missing_retry_after")))
  end
end
"""


@dataclass(frozen=True)
class LoadResult:
    label: str
    pool: str
    connections: int
    seconds: int
    report: WrkResult
    statuses: dict[int, int]
    missing_retry_after: int
    rss_after_warmup_mb: float
    rss_end_mb: float
    rss_peak_mb: float


def rss_mb(pid: int) -> float:
    return status_mb(pid, "VmRSS")


class MemorySampler(threading.Thread):
    """Samples a process's resident memory once a second until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[float] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(1.0):
            self.samples.append(rss_mb(self.pid))

    def stop(self) -> list[float]:
        self._halt.set()
        self.join()
        return self.samples


def url_mix(base: str, fixture_path: str) -> list[str]:
    """The benchmark's six queries plus lists, filters, cursor pages and details for a
    spread of indicators and years, so that many statement shapes and values are in play."""
    paths = [q.atlas for q in queries(read_fixture(fixture_path), "unused")]
    with httpx.Client(base_url=base, timeout=60) as http:
        codes = [i["code"] for i in http.get("/api/v1/indicators?limit=12").json()["data"]]
        for number, code in enumerate(codes):
            year = 2000 + number * 2
            page = f"/api/v1/metrics?indicator={code}&year={year}&sort=-value&limit=50"
            paths.append(page)
            following = http.get(page).json()["links"]["next"]
            if following:
                paths.append(httpx.URL(following).raw_path.decode())
            paths.append(f"/api/v1/metrics?indicator={code}&value__gte=100&limit=20")
            paths.append(f"/api/v1/indicators/{code}")
        for city in http.get("/api/v1/cities?limit=8").json()["data"]:
            paths.append(f"/api/v1/cities/{city['slug']}/metrics?limit=25&sort=-year")
            paths.append(f"/api/v1/cities/{city['slug']}")
    for path in paths:
        status = httpx.get(base + path, timeout=60).status_code
        if status != 200:
            raise RuntimeError(f"{path} answered {status} before the run")
    return paths


def drive(
    server: Server, paths: list[str], *, label: str, pool: str, seconds: int, connections: int
) -> LoadResult:
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % quoted)
    worker = server.worker_pids()[0]
    warmup = max(2, seconds // 6)
    run = partial(
        wrk_output, server.base, connections=connections, script=script.name, timeout="30s"
    )
    run(seconds=warmup)  # warm caches and pools first
    after_warmup = rss_mb(worker)
    sampler = MemorySampler(worker)
    sampler.start()
    output = run(seconds=seconds)
    samples = sampler.stop()
    Path(script.name).unlink()
    statuses: dict[int, int] = {}
    for status, count in re.findall(r"^status (\d+) (\d+)$", output, re.M):
        statuses[int(status)] = statuses.get(int(status), 0) + int(count)
    missing = sum(int(n) for n in re.findall(r"^missing_retry_after (\d+)$", output, re.M))
    end = rss_mb(worker)
    return LoadResult(
        label, pool, connections, seconds, read_report(output), statuses, missing,
        after_warmup, end, max([after_warmup, end, *samples]),
    )  # fmt: skip


def render(results: list[LoadResult], rows: str) -> str:
    lines = [
        f"# Load run, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"One Atlas worker on 127.0.0.1, {rows}; wrk 2 threads, a warm-up run first.",
        "",
        "| run | pool / concurrency | requests | req/s | p50 / p99 / max ms | statuses"
        " | 503 without Retry-After | socket errors | worker RSS after warm-up / end / peak MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(r.statuses.items()))
        w = r.report
        lines.append(
            f"| {r.label} | {r.pool} / {r.connections} | {w.requests:,} ({r.seconds} s)"
            f" | {w.requests_per_second:,.0f} | {w.p50_ms:.1f} / {w.p99_ms:.1f} / {w.max_ms:.0f}"
            f" | {statuses} | {r.missing_retry_after} | {w.socket_errors}"
            f" | {r.rss_after_warmup_mb:.1f} / {r.rss_end_mb:.1f} / {r.rss_peak_mb:.1f} |"
        )
    lines.append("")
    for r in results:
        unexpected = sum(n for s, n in r.statuses.items() if s not in (200, 503))
        growth = r.rss_end_mb - r.rss_after_warmup_mb
        errors = unexpected + r.report.socket_errors
        lines.append(
            f"- {r.label}: {errors} errors (statuses other than 200/503 and socket errors),"
            f" {r.statuses.get(503, 0):,} answered 503"
            f" ({r.missing_retry_after} without Retry-After); memory {growth:+.1f} MB"
            f" ({growth / r.rss_after_warmup_mb:+.1%}) from after warm-up to the end"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--pool", type=int, default=4, help="PostgreSQL pool, below --connections")
    parser.add_argument("--quick", action="store_true", help="small data, 5 s runs")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    parser.add_argument("--data", type=Path, default=BENCH / "data")
    parser.add_argument("--output", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)
    seconds = 5 if args.quick else args.seconds
    options = parse_options(
        ["--data", str(args.data), "--workers", "1", *(["--quick"] if args.quick else [])]
    )
    database = synthetic_database(options, options.cities)
    fixture_path = str(database)
    rows = f"{options.cities} x {options.indicators} x {options.years} synthetic data"
    results: list[LoadResult] = []
    pools = [("", f"{args.pool}", "5"), ("exhausted", "1", "0.25")]

    def run(label: str, server_env: dict[str, str], pool: str) -> None:
        # SQLite runs SQL on one thread (see app.api.reads); PostgreSQL on as many as the pool
        threads = 1 if "DATABASE_URL" not in server_env else int(server_env["ATLAS_POOL_SIZE"])
        served = replace(options, sql_threads=threads)
        with serving("atlas", database, served, server_env) as server:
            paths = url_mix(server.base, fixture_path)
            log(f"{label}: {len(paths)} URLs, {args.connections} connections, {seconds} s")
            results.append(drive(server, paths, label=label, pool=pool, seconds=seconds,
                                 connections=args.connections))  # fmt: skip

    for suffix, size, timeout in pools:
        env = {"ATLAS_POOL_SIZE": size, "ATLAS_POOL_TIMEOUT": timeout}
        label = "SQLite" + (f", {suffix}" if suffix else "")
        run(label, env, "1 SQL thread" if not suffix else "1, timeout 0.25 s")
    if args.postgres:
        with PostgresCluster() as cluster:
            url = cluster.url(cluster.create_database("load"))
            log("building the same data in PostgreSQL")
            synth(url, options.cities, options)
            for suffix, size, timeout in pools:
                # The fixture's cursors are signed with the SQLite copy's key, not the one
                # `atlas synth` stored in this copy.
                env = {
                    "DATABASE_URL": url,
                    "ATLAS_POOL_SIZE": size,
                    "ATLAS_POOL_TIMEOUT": timeout,
                    "ATLAS_CURSOR_SECRET": read_fixture(fixture_path).cursor_secret,
                }
                label = "PostgreSQL" + (f", {suffix}" if suffix else "")
                pool = f"{size} connection{'s' if size != '1' else ''}" + (
                    f", timeout {timeout} s" if suffix else ""
                )
                run(label, env, pool)
    report = render(results, rows)
    print(report)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.output / f"load-{stamp}.md").write_text(report, encoding="utf-8")
    log(f"written to {args.output}/load-{stamp}.md")


if __name__ == "__main__":
    main()
