"""One client holding connections against `atlas serve`, at full size, with figures.

    python -m bench.abuse            # full size: about 3 minutes
    python -m bench.abuse --quick    # small numbers and short timeouts: a smoke run

Three runs, each with a normal client making one request per connection every 50 ms
throughout (statuses and latency are its figures):

- hold: 1,500 connections that send nothing plus 1,500 that send half a request head,
  against a server started under a soft limit of 1,024 open files with the machine's hard
  limit (which the server raises to), on the seed data; watched for 40 s.
- hold, no room: the same with the hard limit 1,024 too, so the connection cap is what
  holds; the service degrades (503 with Retry-After) until the head timeout frees it.
- slow readers: 1,000 clients request the largest page (`/api/v1/metrics?limit=500`, about
  430 KB) of the 3M synthetic dataset and never read; the worker's resident memory and open
  files are sampled until the connections are gone.

It prints figures and asserts nothing; the targets are in the issue, the figures in the
report. Results also land in bench/results/abuse-*.md.
"""

import argparse
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.load import MemorySampler, rss_mb
from bench.run import BENCH, log, parse_options, synthetic_database
from harness import (
    HALF_HEAD,
    Held,
    Prober,
    ProbeSummary,
    Serving,
    Watcher,
    load_seeds,
    normal_request,
    open_many,
    serving,
    summarise,
)

LARGEST_PAGE = b"GET /api/v1/metrics?limit=500 HTTP/1.1\r\nHost: atlas\r\n\r\n"


@dataclass(frozen=True)
class Size:
    silent: int
    half: int
    slow: int
    watch: float  # seconds the hold runs are watched
    slow_watch: float  # at most this long for the slow readers to be gone
    within: float  # an abusive connection counts as closed if closed within this
    env: dict[str, str]
    cities: int


FULL = Size(1500, 1500, 1000, 40, 30, 30, {}, 3000)
QUICK = Size(
    150, 150, 100, 6, 6, 3,
    {"ATLAS_HEAD_TIMEOUT": "1", "ATLAS_KEEP_ALIVE_TIMEOUT": "2", "ATLAS_SEND_TIMEOUT": "1"},
    30,
)  # fmt: skip


@dataclass(frozen=True)
class HoldResult:
    label: str
    probes: ProbeSummary
    held: list[Held]
    within: float
    ended: float  # when the watch ended: a connection still open then counts as held

    def row(self) -> str:
        p = self.probes
        opened = [h for h in self.held if h.failed is None]
        closed = sum(1 for h in opened if h.closed is not None and h.held_for(0) <= self.within)
        failed = Counter(h.failed for h in self.held if h.failed)
        answers = Counter(str(h.status) for h in opened if h.status)
        longest = max((h.held_for(self.ended) for h in opened), default=0.0)
        still_open = sum(1 for h in opened if h.closed is None)
        share = closed / len(opened) if opened else 0.0
        statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(p.statuses.items()))
        return (
            f"| {self.label} | {p.requests:,} | {p.ok_share:.1%} | {p.p50_ms:.1f} / {p.p99_ms:.1f}"
            f" | {statuses} | {len(opened):,} ({_counts(failed) or 'all connected'})"
            f" | {share:.1%} | {_counts(answers) or 'none'} | {longest:.1f} | {still_open:,} |"
        )


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k}: {n:,}" for k, n in sorted(counter.items()))


def raise_own_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def hold(server: Serving, size: Size, label: str) -> HoldResult:
    prober = Prober(server.address)
    prober.start()
    time.sleep(1)  # a second of normal service first
    held = open_many(server.address, "silent", size.silent)
    held += open_many(server.address, "half", size.half, HALF_HEAD)
    log(f"{label}: {sum(1 for h in held if h.failed is None)} connections held")
    watcher = Watcher(held)
    watcher.start()
    time.sleep(size.watch)
    probes = summarise(prober.stop())
    ended = time.monotonic()
    watcher.stop()
    return HoldResult(label, probes, held, size.within, ended)


@dataclass(frozen=True)
class SlowResult:
    readers: int
    opened: int
    probes: ProbeSummary
    rss_before: float
    rss_peak: float
    rss_after: float
    files_before: int
    files_peak: int
    files_after: int
    gone_after: float | None  # seconds until the worker held none of them
    kernel_peak: float  # MB of TCP buffers on the host (/proc/net/sockstat)
    kernel_after: float


def slow_readers(server: Serving, size: Size) -> SlowResult:
    pid = server.process.pid
    normal_request(server.address, LARGEST_PAGE.split(b" ")[1].decode())  # warm caches
    rss_before, files_before = rss_mb(pid), server.open_files()
    sampler = MemorySampler(pid)
    sampler.start()
    prober = Prober(server.address)
    prober.start()
    started = time.monotonic()
    held = open_many(server.address, "slow", size.slow, LARGEST_PAGE)
    opened = sum(1 for h in held if h.failed is None)
    files_peak, kernel_peak, gone_after = 0, 0.0, None
    deadline = started + size.slow_watch
    while time.monotonic() < deadline:
        files = server.open_files()
        files_peak = max(files_peak, files)
        kernel_peak = max(kernel_peak, tcp_buffers_mb())
        if files <= files_before and gone_after is None and time.monotonic() - started > 1:
            gone_after = time.monotonic() - started
            break
        time.sleep(0.25)
    time.sleep(1)
    probes = summarise(prober.stop())
    samples = sampler.stop()
    for h in held:
        if h.sock is not None:
            h.sock.close()
    return SlowResult(
        size.slow, opened, probes, rss_before, max([rss_before, *samples]), rss_mb(pid),
        files_before, files_peak, server.open_files(), gone_after, kernel_peak, tcp_buffers_mb(),
    )  # fmt: skip


def tcp_buffers_mb() -> float:
    """Memory the kernel holds in TCP buffers, host-wide: where unread answers wait."""
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            fields = line.split()
            return int(fields[fields.index("mem") + 1]) * resource.getpagesize() / 2**20
    return float("nan")


@contextmanager
def seeded() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="atlas-abuse-") as directory:
        url = f"sqlite:///{directory}/atlas.db"
        load_seeds(url)
        yield url


def render(holds: list[HoldResult], slow: SlowResult, size: Size, dataset: str) -> str:
    lines = [
        f"# Holding connections, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"One worker on 127.0.0.1. Hold runs: {size.silent:,} silent + {size.half:,} half-head"
        f" connections from one client, seed data, watched {size.watch:g} s; a normal client"
        " makes one request per new connection every 50 ms throughout.",
        "",
        "| run | normal requests | answered 200 | p50 / p99 ms | statuses | abusive opened"
        f" | closed by the server within {size.within:g} s | answers to abusive | longest held s"
        " | still open at the end |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(h.row() for h in holds),
        "",
        f"Slow readers: {slow.readers:,} clients ({slow.opened:,} connected) request"
        f" `/api/v1/metrics?limit=500` on {dataset} and never read.",
        "",
        "| worker RSS before / peak / after MB | open files before / peak / after"
        " | all gone after s | kernel TCP buffers peak / after MB | normal requests"
        " | answered 200 | p50 / p99 ms | statuses |",
        "|---|---|---|---|---|---|---|---|",
        f"| {slow.rss_before:.1f} / {slow.rss_peak:.1f} / {slow.rss_after:.1f}"
        f" | {slow.files_before} / {slow.files_peak} / {slow.files_after}"
        f" | {'not within the watch' if slow.gone_after is None else f'{slow.gone_after:.1f}'}"
        f" | {slow.kernel_peak:.0f} / {slow.kernel_after:.0f}"
        f" | {slow.probes.requests:,} | {slow.probes.ok_share:.1%}"
        f" | {slow.probes.p50_ms:.1f} / {slow.probes.p99_ms:.1f}"
        f" | {', '.join(f'{k}: {n:,}' for k, n in sorted(slow.probes.statuses.items()))} |",
        "",
        "Latency is over the normal requests that got an answer (any status).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.abuse", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small numbers, short timeouts")
    parser.add_argument("--data", type=Path, default=BENCH / "data")
    parser.add_argument("--output", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    raise_own_limit(min(hard, size.silent + size.half + size.slow + 1024))
    holds = []
    with seeded() as url:
        for label, limits in [
            (f"soft 1,024, hard {hard:,}", (1024, hard)),
            ("soft and hard 1,024", (1024, 1024)),
        ]:
            with serving(url, open_files=limits, env=size.env) as server:
                holds.append(hold(server, size, label))
    options = parse_options(["--cities", str(size.cities), "--data", str(args.data)])
    database = synthetic_database(options, size.cities)
    rows = f"{size.cities * options.indicators * options.years:,} synthetic rows (nominal)"
    with serving(f"sqlite:///{database}", open_files=(1024, hard), env=size.env) as server:
        slow = slow_readers(server, size)
    report = render(holds, slow, size, rows)
    print(report)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / f"abuse-{datetime.now(UTC):%Y%m%d-%H%M}.md").write_text(report)


if __name__ == "__main__":
    main()
