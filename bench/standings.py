"""A place's standings on every indicator (`/places/{slug}/rankings`) at scale: the latency
of a real `atlas serve` on the benchmark's synthetic data, for a few places and peer groups.

    python -m bench.standings                          # bench/data/synth-3000x40x25.db (3M)
    python -m bench.standings --database other.db      # another synthetic SQLite file
    python -m bench.standings --postgres               # the same shape in PostgreSQL, vacuumed
    python -m bench.standings --budget-ms 60000        # past the default query budget
    python -m bench.standings --url postgresql://...   # a database already generated

Prints the median and p99 of each URL's requests (sequential, after a warm-up) and the
server's CPU time per request (user and system, all its threads: steadier than latency on a
shared machine); it asserts nothing about them.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

import httpx

from app.db import build_engine
from app.migrate import is_behind, upgrade_to_head
from app.seeding.archive import revision_of
from app.synthetic import Shape, generate
from harness import PostgresCluster, server_process

PLACES = ("synth-city-00001", "synth-city-01500", "synth-city-03000")
QUERIES = ("", "?peers=same_province", "?year=2020")


def percentile(timings: list[float], share: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """The process's user and system time so far, every thread included (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, rounds: int, budget_ms: int) -> None:
    served = server_process(url, ATLAS_QUERY_BUDGET_MS=str(budget_ms))
    with served as (base, process), httpx.Client(base_url=base, timeout=120) as client:
        for query in QUERIES:
            for place in PLACES:
                target = f"/api/v1/places/{place}/rankings{query}"
                response = client.get(target)  # warm: its statements compiled
                timings = []
                cpu = cpu_seconds(process.pid)
                for _ in range(rounds):
                    started = time.perf_counter()
                    response = client.get(target)
                    timings.append((time.perf_counter() - started) * 1000)
                cpu = (cpu_seconds(process.pid) - cpu) / rounds * 1000
                returned = response.json().get("meta", {}).get("returned", "-")
                print(
                    f"{target:60s} status {response.status_code} standings {returned:>3}"
                    f"  median {statistics.median(timings):7.1f} ms"
                    f"  p99 {percentile(timings, 0.99):7.1f} ms  cpu {cpu:6.1f} ms/request"
                )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, default=Path("bench/data/synth-3000x40x25.db"))
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--url", help="serve this database as it is")
    parser.add_argument("--cities", type=int, default=3000)
    parser.add_argument("--indicators", type=int, default=40)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--budget-ms", type=int, default=1000)
    args = parser.parse_args(argv)
    if args.url:
        print(f"{args.url.split('://')[0]}: {args.url.rsplit('/', 1)[-1]}")
        measure(args.url, args.rounds, args.budget_ms)
        return
    if not args.postgres:
        print(f"SQLite: {args.database}")
        if is_behind(revision_of(args.database)):  # built by an earlier schema: refused
            print(f"migrating {args.database} to the current schema")
            upgrade_to_head(f"sqlite:///{args.database.resolve()}")
        measure(f"sqlite:///{args.database.resolve()}", args.rounds, args.budget_ms)
        return
    shape = Shape(cities=args.cities, indicators=args.indicators, years=args.years)
    print(f"PostgreSQL: {shape}")
    with PostgresCluster() as cluster:
        url = cluster.url(cluster.create_database())
        upgrade_to_head(url)
        engine = build_engine(url)
        try:
            started = time.perf_counter()
            report = generate(engine, shape)
            seconds = time.perf_counter() - started
            print(f"generated {report.observations:,} observations in {seconds:.0f} s (vacuumed)")
        finally:
            engine.dispose()
        measure(url, args.rounds, args.budget_ms)


if __name__ == "__main__":
    main()
