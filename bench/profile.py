"""Where one benchmark query's time goes: Atlas served as the benchmark serves it, the
query driven by wrk, its worker sampled by py-spy (every thread, so the request's SQL,
which runs in a worker thread, is seen too).

    python -m bench.profile q3                 # 8 s of q3 at 4 connections
    python -m bench.profile q4 --svg q4.svg    # and a flame graph

It prints the share of samples under each middleware layer, the route, and the lines of
app.query.statements.fetch (the driver's execute, its fetch, the rows as dicts), and the
files whose own code took most. Figures are shares of the samples taken while a thread
held the GIL (`--gil`): the Python a request costs, not its waits.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.queries import queries, read_fixture
from bench.run import BENCH, parse_options, serving
from bench.wrk import run_wrk

# Frames whose inclusive share is printed, in the order a request meets them.
LAYERS = (
    "ProxyHeadersMiddleware.__call__",
    "OriginMiddleware.http",
    "CacheHeadersMiddleware.__call__",
    "DatasetVersionMiddleware.http",
    "ResponseHeadersMiddleware.http",
    "CORSMiddleware.__call__",
    "RequestChecksMiddleware.__call__",
    "HeadMiddleware.__call__",
    "GZipMiddleware.__call__",
    "PinnedVersionMiddleware.__call__",
    "ConditionalGetMiddleware.__call__",
    "UnexpectedErrorMiddleware.http",
    "Router.__call__",
    "APIRoute.handle",
    "in_database",
    "_run.<locals>.run",
    "open_snapshot",
    "fetch",
    "Response.__call__",
)


def spy() -> str:
    path = Path(sys.executable).with_name("py-spy")
    return str(path) if path.exists() else "py-spy"


def record(name: str, seconds: int, connections: int, raw: Path, svg: Path | None) -> float:
    options = parse_options(["--no-postgres"])
    database = BENCH / "data" / f"synth-{options.cities}x{options.indicators}x{options.years}.db"
    query = {q.name: q for q in queries(read_fixture(str(database)), database.stem)}[name]
    with serving("atlas", database, options) as atlas:
        url = atlas.base + query.atlas
        run_wrk(url, seconds=2, connections=connections)  # compiled and warm
        pid = str(atlas.worker_pids()[0])
        runs = [(raw, "raw")] + ([(svg, "flamegraph")] if svg else [])
        samplers = []
        for out, form in runs:
            command = [spy(), "record", "--pid", pid, "--rate", "400", "--gil", "--nonblocking"]
            command += ["--duration", str(seconds), "--format", form, "-o", str(out)]
            samplers.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
        time.sleep(0.5)
        result = run_wrk(url, seconds=seconds, connections=connections)
        for sampler in samplers:
            sampler.wait()
    return result.requests_per_second


def summary(raw: Path) -> str:
    total = 0
    inclusive: Counter[str] = Counter()
    statements: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        frames = stack.split(";")
        for name in {f.split(" (")[0] for f in frames}:
            inclusive[name] += samples
        for frame in frames:
            if frame.startswith("fetch (app/query/statements.py"):
                statements[frame.split(" (")[1].rstrip(")")] += samples
        where = re.search(r"\(([^:)]+)", frames[-1])
        own[where.group(1) if where else frames[-1]] += samples
    lines = [f"{total} samples holding the GIL", "", "| under | share |", "|---|---|"]
    lines += [f"| {layer} | {inclusive[layer] / total:.1%} |" for layer in LAYERS]
    lines += ["", "| fetch, by line | share |", "|---|---|"]
    lines += [f"| {where} | {n / total:.1%} |" for where, n in statements.most_common(6)]
    lines += ["", "| own code of | share |", "|---|---|"]
    lines += [f"| {where} | {n / total:.1%} |" for where, n in own.most_common(12)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("query", choices=[f"q{n}" for n in range(1, 7)])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--svg", type=Path, help="also write a flame graph here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "profile.txt"
        rate = record(args.query, args.seconds, args.connections, raw, args.svg)
        print(f"{args.query}: {rate:,.0f} req/s while sampled ({args.connections} connections)")
        print(summary(raw))


if __name__ == "__main__":
    main()
