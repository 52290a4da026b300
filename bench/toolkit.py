"""The analyst's toolkit at scale: search, facets, series, rankings and comparisons latency,
and the throughput and peak memory of a CSV export of every row, against a real `atlas
serve` on synthetic data.

    python -m bench.toolkit                       # 3,000 cities x 40 indicators x 25 years (3M)
    python -m bench.toolkit --cities 300          # a tenth of that
    python -m bench.toolkit --postgres            # the same on PostgreSQL

Prints figures; it asserts nothing about them (the machine is shared).
"""

import argparse
import statistics
import time
from pathlib import Path

import httpx

from app.db import build_engine
from app.migrate import upgrade_to_head
from app.synthetic import Shape, generate
from harness import PostgresCluster, server_process

LATENCY_QUERIES = {
    "search q=city 0012": "/api/v1/search?q=city%200012",
    "search q=synthetic (many)": "/api/v1/search?q=synthetic&limit=50",
    "list q= places": "/api/v1/places?q=city%2000123",
    "facets indicator,year (whole table)": "/api/v1/metrics?facets=indicator,year&limit=1",
    "facets year, one indicator": "/api/v1/metrics?indicator=synthetic_001&facets=year&limit=1",
    "series 5 cities": "/api/v1/series?indicator=synthetic_001"
    "&places=synth-city-00001,synth-city-00002,synth-city-00003,synth-city-00004,synth-city-00005",
    "latest, one indicator, one province": "/api/v1/metrics?latest=true&indicator=synthetic_001"
    "&province=synth-province-01&limit=50",
    "rankings, one year, every city": "/api/v1/rankings?indicator=synthetic_001&year=2020&limit=10",
    "rankings, latest, one province": "/api/v1/rankings?indicator=synthetic_001"
    "&peers=province:synth-province-01&place=synth-city-00001",
    "a city's standings, every indicator": "/api/v1/places/synth-city-00001/rankings"
    "?peers=same_province",
    "comparison 2020 -> 2024, one city": "/api/v1/comparisons?indicator=synthetic_001"
    "&subject=place:synth-city-00001&from=2020&to=2024",
    "conflict=true, one indicator": "/api/v1/metrics?conflict=true&indicator=synthetic_001",
}


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set so far (Linux: VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def latency(client: httpx.Client, url: str, rounds: int) -> tuple[float, float, int]:
    timings = []
    status = 0
    for _ in range(rounds):
        started = time.perf_counter()
        status = client.get(url).status_code
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], status


def export(client: httpx.Client, url: str) -> tuple[int, float, int]:
    rows, size = -1, 0  # the header is not a row
    started = time.perf_counter()
    with client.stream("GET", url, timeout=None) as response:
        for chunk in response.iter_bytes():
            size += len(chunk)
            rows += chunk.count(b"\n")
    return rows, time.perf_counter() - started, size


def run(url: str, shape: Shape, rounds: int) -> None:
    upgrade_to_head(url)
    engine = build_engine(url)
    try:
        started = time.perf_counter()
        report = generate(engine, shape)
        seconds = time.perf_counter() - started
        print(f"generated {report.observations:,} observations in {seconds:.0f} s")
    finally:
        engine.dispose()
    with server_process(url) as (base, process), httpx.Client(base_url=base, timeout=60) as client:
        for name, target in LATENCY_QUERIES.items():
            median, p95, status = latency(client, target, rounds)
            print(f"{name:40s} status {status}  median {median:7.1f} ms  p95 {p95:7.1f} ms")
        before = peak_rss_mib(process.pid)
        rows, seconds, size = export(client, "/api/v1/metrics?format=csv")
        after = peak_rss_mib(process.pid)
        print(
            f"CSV export of /metrics: {rows:,} rows, {size / 2**20:,.0f} MiB in {seconds:.1f} s"
            f" = {rows / seconds:,.0f} rows/s; worker peak RSS {before:.0f} MiB before,"
            f" {after:.0f} MiB after"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=3000)
    parser.add_argument("--indicators", type=int, default=40)
    parser.add_argument("--years", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    args = parser.parse_args(argv)
    shape = Shape(cities=args.cities, indicators=args.indicators, years=args.years)
    print(f"shape: {shape} ({'PostgreSQL' if args.postgres else 'SQLite'})")
    if args.postgres:
        with PostgresCluster() as cluster:
            run(cluster.url(cluster.create_database()), shape, args.rounds)
        return
    args.data.mkdir(parents=True, exist_ok=True)
    path = args.data / f"toolkit-{args.cities}-{args.indicators}-{args.years}.db"
    path.unlink(missing_ok=True)
    run(f"sqlite:///{path.resolve()}", shape, args.rounds)


if __name__ == "__main__":
    main()
