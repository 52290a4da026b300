"""The benchmark: Innovation Atlas against Datasette and a bare ceiling on the same file.

    python -m bench            # full run: 3M observations, 3 rounds of 5 s per query
    python -m bench --quick    # a small smoke run

It builds the synthetic databases once (kept in bench/data), serves the same SQLite file
three ways with the same uvicorn settings and worker count, checks that the three return
the same rows for each query, then drives each with wrk in interleaved rounds and prints
medians. It also measures depth, size, memory and cold start, and Atlas on PostgreSQL.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.config import PROJECT_ROOT, Settings
from app.migrate import is_behind, upgrade_to_head
from app.seeding.archive import revision_of
from bench.queries import Fixture, Query, identities, queries, read_fixture
from bench.sweep import full_report
from bench.wrk import WrkResult, run_wrk
from harness import PostgresCluster, free_port

BENCH = PROJECT_ROOT / "bench"
SYSTEMS = ("atlas", "datasette", "ceiling")


@dataclass(frozen=True)
class Options:
    cities: int
    indicators: int
    years: int
    small_cities: int
    seconds: int
    warmup: int
    rounds: int
    connections: int
    workers: int
    sql_threads: int
    postgres_sql_threads: int  # 0: Atlas's own default on PostgreSQL (its pool size)
    postgres: bool
    data: Path
    output: Path


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cities", type=int, default=3000)
    parser.add_argument("--indicators", type=int, default=40)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--small-cities", type=int, default=30, help="cities in the small database")
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--sql-threads", type=int, default=1, help="threads running SQL per worker, all three"
    )
    parser.add_argument(
        "--postgres-sql-threads",
        type=int,
        default=0,
        help="Atlas's SQL threads on PostgreSQL (default: what Atlas runs there, its pool size:"
        " a thread waits for the server's answer, where on SQLite it runs the statement)",
    )
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    parser.add_argument("--quick", action="store_true", help="small data, short runs")
    parser.add_argument("--data", type=Path, default=BENCH / "data")
    parser.add_argument("--output", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)
    if args.quick:
        args.cities, args.small_cities, args.seconds, args.warmup, args.rounds = 120, 10, 1, 1, 1
    return Options(
        args.cities,
        args.indicators,
        args.years,
        args.small_cities,
        args.seconds,
        args.warmup,
        args.rounds,
        args.connections,
        args.workers,
        args.sql_threads,
        args.postgres_sql_threads,
        args.postgres,
        args.data,
        args.output,
    )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Data ----------------------------------------------------------------------------------


def synthetic_database(options: Options, cities: int) -> Path:
    options.data.mkdir(parents=True, exist_ok=True)
    path = options.data / f"synth-{cities}x{options.indicators}x{options.years}.db"
    if not path.exists():
        log(f"building {path.name}")
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        synth(f"sqlite:///{partial}", cities, options)
        partial.rename(path)
    elif is_behind(revision_of(path)):  # built by an earlier schema: the server refuses it
        log(f"migrating {path.name} to the current schema")
        upgrade_to_head(f"sqlite:///{path}")
    return path


def synth(url: str, cities: int, options: Options) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "synth",
            "--database-url",
            url,
            "--cities",
            str(cities),
            "--indicators",
            str(options.indicators),
            "--years",
            str(options.years),
        ],
        check=True,
        cwd=PROJECT_ROOT,
    )


# Servers -------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    started_in: float

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()] if children.exists() else []
        return pids or [self.process.pid]


def status_mb(pid: int, field: str) -> float:
    """A memory figure of a process from /proc/PID/status (VmRSS now, VmHWM its peak), MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def serving(
    name: str, database: Path, options: Options, env: dict[str, str] | None = None
) -> Iterator[Server]:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.serve",
            name,
            "--port",
            str(port),
            "--workers",
            str(options.workers),
            "--sql-threads",
            str(options.sql_threads),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "BENCH_DB": str(database), **(env or {})},
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    probe = "/-/versions.json" if name == "datasette" else "/healthz"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}")
            with suppress(httpx.TransportError):
                if httpx.get(base + probe, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start in 60 s")
            time.sleep(0.02)
        yield Server(name, base, process, time.perf_counter() - started)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def url_of(server: Server, query: Query) -> str:
    path: str = getattr(query, server.name)
    return server.base + path


# Measurements --------------------------------------------------------------------------


def check_same_rows(servers: dict[str, Server], query_list: list[Query]) -> dict[str, int]:
    """Each system must return the same rows, in the same order, for each query."""
    rows: dict[str, int] = {}
    for query in query_list:
        answers = {}
        for name, server in servers.items():
            response = httpx.get(url_of(server, query), timeout=60)
            response.raise_for_status()
            answers[name] = identities(name, query, response.json())
        reference = answers["atlas"]
        for name, found in answers.items():
            if found != reference:
                raise AssertionError(
                    f"{query.name}: {name} returned {found[:5]}..., atlas {reference[:5]}..."
                )
        if not reference:
            raise AssertionError(f"{query.name}: no rows; the comparison would be empty")
        rows[query.name] = len(reference)
    return rows


def rounds(
    servers: dict[str, Server], query: Query, options: Options
) -> dict[str, list[WrkResult]]:
    results: dict[str, list[WrkResult]] = {name: [] for name in servers}
    for server in servers.values():
        run_wrk(url_of(server, query), seconds=options.warmup, connections=options.connections)
    for _ in range(options.rounds):
        for name, server in servers.items():  # interleaved: A, B, C, A, B, C, ...
            results[name].append(
                run_wrk(
                    url_of(server, query), seconds=options.seconds, connections=options.connections
                )
            )
    return results


def median(results: list[WrkResult], field: str) -> float:
    return float(statistics.median(getattr(r, field) for r in results))


def single_connection_p50(url: str, options: Options) -> float:
    return statistics.median(
        float(run_wrk(url, seconds=options.seconds, connections=1, threads=1).p50_ms)
        for _ in range(options.rounds)
    )


def cold_start(database: Path, options: Options) -> float:
    times = []
    for _ in range(3):
        with serving("atlas", database, options) as server:
            times.append(server.started_in)
    return statistics.median(times)


# Report --------------------------------------------------------------------------------


def table(
    query_list: list[Query],
    results: dict[str, dict[str, list[WrkResult]]],
    postgres: dict[str, list[WrkResult]] | None,
) -> str:
    lines = [
        "| query | Atlas req/s | Datasette req/s | ceiling req/s | Atlas / Datasette"
        " | Atlas / ceiling"
        " | Atlas p50 / p99 ms | Datasette p50 / p99 ms | ceiling p50 / p99 ms"
        + (" | Atlas on PostgreSQL req/s | p50 / p99 ms" if postgres else "")
        + " |",
        "|" + "---|" * (9 + (2 if postgres else 0)),
    ]
    for query in query_list:
        r = results[query.name]
        a, d, c = (median(r[s], "requests_per_second") for s in SYSTEMS)
        cells = [
            f"{query.name}: {query.title}",
            f"{a:,.0f}",
            f"{d:,.0f}",
            f"{c:,.0f}",
            f"{a / d:.2f}x",
            f"{a / c:.0%}",
        ]
        cells += [f"{median(r[s], 'p50_ms'):.1f} / {median(r[s], 'p99_ms'):.1f}" for s in SYSTEMS]
        if postgres:
            p = postgres[query.name]
            cells += [
                f"{median(p, 'requests_per_second'):,.0f}",
                f"{median(p, 'p50_ms'):.1f} / {median(p, 'p99_ms'):.1f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv)
    big = synthetic_database(options, options.cities)
    small = synthetic_database(options, options.small_cities)
    fixture = read_fixture(str(big))
    query_list = queries(fixture, big.stem)
    results: dict[str, dict[str, list[WrkResult]]] = {}
    extra: dict[str, Any] = {}
    with (
        serving("atlas", big, options) as atlas,
        serving("datasette", big, options) as datasette,
        serving("ceiling", big, options) as ceiling,
    ):
        servers = {"atlas": atlas, "datasette": datasette, "ceiling": ceiling}
        extra["rows_checked"] = check_same_rows(servers, query_list)
        log(f"same rows from all three: {extra['rows_checked']}")
        for query in query_list:
            log(f"measuring {query.name}: {query.title}")
            results[query.name] = rounds(servers, query, options)
        extra["atlas_peak_rss_mb"] = max(status_mb(pid, "VmHWM") for pid in atlas.worker_pids())
        extra["errors"] = {
            s: sum(r.errors for q in results.values() for r in q[s]) for s in SYSTEMS
        }
        page_one = f"{atlas.base}/api/v1/metrics?limit=50"
        extra["page1_p50_ms"] = single_connection_p50(page_one, options)
        extra["deep_p50_ms"] = single_connection_p50(url_of(atlas, query_list[4]), options)
        extra["q1_big_p50_ms"] = single_connection_p50(url_of(atlas, query_list[0]), options)
        log("sweeping random query shapes (SQLite)")
        extra["sweep_sqlite"] = full_report(f"sqlite:///{big}", atlas.base, sweep_count(options))
    small_queries = queries(read_fixture(str(small)), small.stem)
    with serving("atlas", small, options) as atlas_small:
        extra["q1_small_p50_ms"] = single_connection_p50(
            url_of(atlas_small, small_queries[0]), options
        )
    extra["cold_start_s"] = cold_start(big, options)
    postgres = run_postgres(options, fixture) if options.postgres else None
    report = render(options, fixture, query_list, results, postgres, extra)
    print(report)
    options.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (options.output / f"bench-{stamp}.md").write_text(report, encoding="utf-8")
    raw = {q: {s: [asdict(r) for r in rs] for s, rs in v.items()} for q, v in results.items()}
    (options.output / f"bench-{stamp}.json").write_text(
        json.dumps(
            {
                "options": str(options),
                "results": raw,
                "postgres": postgres and {q: [asdict(r) for r in rs] for q, rs in postgres.items()},
                "extra": extra,
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    log(f"written to {options.output}/bench-{stamp}.md")


SWEEPS: dict[str, str] = {}


def postgres_threads(options: Options) -> str:
    if options.postgres_sql_threads:
        return str(options.postgres_sql_threads)
    return f"{Settings.model_fields['pool_size'].default} (its default there, the pool size)"


def sweep_count(options: Options) -> int:
    return 100 if options.cities < 1000 else 600


def run_postgres(options: Options, fixture: Fixture) -> dict[str, list[WrkResult]]:
    """The same data in a throwaway PostgreSQL cluster, Atlas only."""
    with PostgresCluster() as cluster:
        url = cluster.url(cluster.create_database("bench"))
        log("building the same data in PostgreSQL")
        synth(url, options.cities, options)
        query_list = queries(fixture, "unused")
        results: dict[str, list[WrkResult]] = {}
        # The copy's `atlas synth` stored a key of its own; the fixture's cursors are signed
        # with the SQLite copy's, so the server is given that one.
        env = {"DATABASE_URL": url, "ATLAS_CURSOR_SECRET": fixture.cursor_secret}
        on_postgres = replace(options, sql_threads=options.postgres_sql_threads)
        with serving("atlas", Path("/nonexistent"), on_postgres, env) as atlas:
            log("sweeping random query shapes (PostgreSQL)")
            SWEEPS["postgresql"] = full_report(url, atlas.base, sweep_count(options))
            for query in query_list:
                log(f"measuring {query.name} on PostgreSQL")
                run_wrk(
                    url_of(atlas, query), seconds=options.warmup, connections=options.connections
                )
                results[query.name] = [
                    run_wrk(
                        url_of(atlas, query),
                        seconds=options.seconds,
                        connections=options.connections,
                    )
                    for _ in range(options.rounds)
                ]
        return results


def render(
    options: Options,
    fixture: Fixture,
    query_list: list[Query],
    results: dict[str, dict[str, list[WrkResult]]],
    postgres: dict[str, list[WrkResult]] | None,
    extra: dict[str, Any],
) -> str:
    p50_p99 = max(
        median(results[q.name]["atlas"], "p99_ms") / median(results[q.name]["atlas"], "p50_ms")
        for q in query_list
    )
    lines = [
        f"# Benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Synthetic data: {options.cities} cities x {options.indicators} indicators x"
        f" {options.years} years; wrk {options.connections} connections, {options.seconds:g} s"
        f" runs, {options.rounds} interleaved rounds (medians), {options.workers} worker(s) with"
        f" {options.sql_threads} SQL thread(s) each,"
        " same SQLite file, 127.0.0.1."
        + (f" Atlas on PostgreSQL: {postgres_threads(options)} SQL thread(s)." if postgres else ""),
        "",
        table(query_list, results, postgres),
        "",
        f"- Same rows from all three before timing: {extra['rows_checked']}",
        f"- Errors during the runs: {extra['errors']}",
        f"- q1 single-connection p50: {extra['q1_small_p50_ms']:.2f} ms on"
        f" {options.small_cities} cities,"
        f" {extra['q1_big_p50_ms']:.2f} ms on {options.cities} cities"
        f" ({extra['q1_big_p50_ms'] / extra['q1_small_p50_ms']:.2f}x)",
        f"- Page {2000} deep vs page 1 (single-connection p50): {extra['deep_p50_ms']:.2f} ms vs"
        f" {extra['page1_p50_ms']:.2f} ms ({extra['deep_p50_ms'] / extra['page1_p50_ms']:.2f}x)",
        f"- Worst Atlas p99/p50 at {options.connections} connections: {p50_p99:.2f}x",
        f"- Atlas worker peak RSS after the run: {extra['atlas_peak_rss_mb']:.0f} MB",
        "- Atlas cold start to first healthy response (median of 3):"
        f" {extra['cold_start_s']:.2f} s",
    ]
    lines += ["", "## Random query shapes (SQLite)", "", "```", extra["sweep_sqlite"], "```"]
    if "postgresql" in SWEEPS:
        lines += ["", "## Random query shapes (PostgreSQL)", "", "```", SWEEPS["postgresql"], "```"]
    return "\n".join(lines) + "\n"
