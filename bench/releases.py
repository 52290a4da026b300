"""What keeping past releases costs: disk, load time and query speed, on SQLite and on
PostgreSQL (a throwaway cluster).

    python -m bench.releases                 # the full seeds, 1 + 10 loads, 200 rounds
    python -m bench.releases --no-postgres   # SQLite only
    python -m bench.releases --quick         # one small table, 1 + 2 loads (the smoke test)

The issue's target: with ten releases of the real data, each changing 1%, the database at
most 1.2x one release, and the query benchmarks within 10% of one release.

A copy of the seeds (the official tables included) is loaded into a fresh database through
`seed()` with keeping on (`--keep 11`), then loaded ten more times, each time with about 1%
of the observations' values revised: table facts drawn at random, each cell of the table,
its fact's `stated` and `value` and the table's checksum in tables.yaml rewritten together,
so every load passes the checks and makes a new dataset version, and keeps its delta.
Each load is timed, and the keep step (from the pipeline's "keeping" progress step to the
end of `seed()`, i.e. `keep_release` with its prune) on its own. Sizes: the primary database
after the first load and after the last (SQLite: the file and its WAL; PostgreSQL:
`pg_database_size`), and the archives folder. Then the oldest kept release is restored
whole, timed, as the first request pinned to it starts its restore.

Then four apps are served in process (Starlette's TestClient) and a handful of requests
timed, the four in turn for each round: (a) the current version unpinned, (b) pinned with
`version=<current>`, (c) pinned to the oldest kept release (answered from its restored copy),
and (d) unpinned on a database the same seeds were loaded into once, without archives.
Prints median and p95 per request and the ratios b/a, c/a and a/d; asserts nothing about
them. The report is also written to bench/results/releases-<UTC time>.md.
"""

import argparse
import csv
import hashlib
import io
import random
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import make_url, text

from app.config import PROJECT_ROOT, Settings
from app.db import build_engine, is_sqlite
from app.seeding.archive import Keeping, archive_path, for_database, kept_versions, restore
from app.seeding.cells import FACT_COLUMNS, STATED_UNITS, TABLES_DIR, TABLES_FILE
from app.seeding.pipeline import Seeded, seed
from harness import PostgresCluster

warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")
from fastapi.testclient import TestClient  # noqa: E402

from app.main import create_app  # noqa: E402

BENCH = PROJECT_ROOT / "bench"
API = "/api/v1"
KEEPING_STEP = "keeping the release for pinned reads"  # app.seeding.pipeline's progress step

# Representative reads over the official tables' data: a filtered list of metrics, a place,
# a place's metrics, a ranking and a series.
REQUESTS = {
    "metrics, one indicator and year, by value": f"{API}/metrics?indicator=patents_granted"
    "&year=2020&sort=-value&limit=50",
    "metrics, a province's counties, one year": f"{API}/metrics?indicator=population_urban"
    "&province=hubei&year=2020&limit=50",
    "place detail": f"{API}/places/hefei",
    "a place's metrics": f"{API}/places/hubei/metrics?limit=25&sort=-year",
    "ranking, one year": f"{API}/rankings?indicator=rd_intensity&year=2020&limit=10",
    "series, three provinces": f"{API}/series?indicator=patents_granted&places=hubei,anhui,"
    "guangdong",
}
QUICK_TABLES = ["torch-hitech-firms"]  # --quick: one small table instead of all
QUICK_REQUESTS = {
    "metrics, one indicator and year, by value": f"{API}/metrics?indicator="
    "high_tech_enterprises_certified&year=2020&sort=-value&limit=50",
    "place detail": f"{API}/places/hefei",
    "ranking, one year": f"{API}/rankings?indicator=high_tech_enterprises_certified&year=2020"
    "&limit=10",
}
CONFIGS = ("a", "b", "c", "d")
CONFIG_NAMES = {
    "a": "(a) current, unpinned",
    "b": "(b) version=<current>",
    "c": "(c) version=<oldest kept>",
    "d": "(d) one release, no archives",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Seeds revised by about 1% a load ------------------------------------------------------


class Revisions:
    """A copy of the seeds whose table facts are revised in place, a share at a time."""

    def __init__(self, source: Path, folder: Path, tables: list[str] | None) -> None:
        self.root = folder / "seeds"
        shutil.copytree(source, self.root)
        self.manifest = yaml.safe_load((self.root / TABLES_FILE).read_text(encoding="utf-8"))
        if tables is not None:
            unknown = set(tables) - {t["id"] for t in self.manifest["tables"]}
            if unknown:
                raise SystemExit(f"no such table in {TABLES_FILE}: {', '.join(sorted(unknown))}")
            self.manifest["tables"] = [t for t in self.manifest["tables"] if t["id"] in tables]
            self._write_manifest()

    def _write_manifest(self) -> None:
        (self.root / TABLES_FILE).write_text(
            yaml.safe_dump(self.manifest, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )

    def facts(self) -> list[tuple[int, int]]:
        """Every table fact, as (table's index in the manifest, its line in the facts file,
        counted from 0 after the header)."""
        found = []
        for index, table in enumerate(self.manifest["tables"]):
            rows = _read_csv(self.root / TABLES_DIR / table["facts"])
            found += [(index, line) for line in range(len(rows) - 1)]
        return found

    def observations(self) -> int:
        """How many observations the seeds hold: the table facts and the documents'."""
        documents = sum(
            len(yaml.safe_load(path.read_text(encoding="utf-8")).get("observations") or [])
            for path in (self.root / "documents").glob("*.yaml")
        )
        return len(self.facts()) + documents

    def revise(self, rng: random.Random, count: int) -> int:
        """Change the values of `count` table facts drawn at random: the cell, the fact's
        stated figure and normalised value, and the table's checksum. Returns how many."""
        facts = self.facts()
        chosen = rng.sample(facts, min(count, len(facts)))
        by_table: dict[int, list[int]] = {}
        for index, line in chosen:
            by_table.setdefault(index, []).append(line)
        for index, lines in by_table.items():
            self._revise_table(self.manifest["tables"][index], lines, rng)
        self._write_manifest()
        return len(chosen)

    def _revise_table(self, table: dict[str, Any], lines: list[int], rng: random.Random) -> None:
        table_path = self.root / TABLES_DIR / table["file"]
        facts_path = self.root / TABLES_DIR / table["facts"]
        cells = _read_csv(table_path)
        facts = _read_csv(facts_path)
        columns = {name: number for number, name in enumerate(FACT_COLUMNS)}
        for line in lines:
            fact = facts[line + 1]
            stated = fact[columns["stated"]]
            revised = _revised(stated, rng)
            row, column = (int(n) for n in fact[columns["at"]].removeprefix("cell=").split(","))
            if cells[row - 1][column - 1] != stated:
                raise RuntimeError(f"{table['file']} {fact[columns['at']]} is not {stated!r}")
            cells[row - 1][column - 1] = revised
            fact[columns["stated"]] = revised
            factor, _ = STATED_UNITS[fact[columns["unit_stated"]]]
            fact[columns["value"]] = format((Decimal(revised) * factor).normalize(), "f")
        table_path.write_bytes(_csv_bytes(cells))
        facts_path.write_bytes(_csv_bytes(facts))
        table["sha256"] = hashlib.sha256(table_path.read_bytes()).hexdigest()


def _revised(stated: str, rng: random.Random) -> str:
    """A revision of a stated figure: up or down by 0.5-5%, to the same decimals, and never
    the same text (a zero or a tiny figure moves by one unit of its last digit)."""
    decimals = len(stated.split(".")[1]) if "." in stated else 0
    unit = Decimal(1).scaleb(-decimals)
    share = Decimal(str(round(rng.uniform(0.005, 0.05), 4))) * rng.choice((1, -1))
    value = (Decimal(stated) * (1 + share)).quantize(unit)
    if value == Decimal(stated) or value < 0:
        value = Decimal(stated) + unit
    return format(value, "f")


def _read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


# Loads --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    number: int
    changed: int  # observations revised before this load
    version: str
    load_s: float  # seed() up to the keep step: read, check, migrate, load, release
    keep_s: float | None  # the keep step: keep_release and its prune
    primary_bytes: int
    archives_bytes: int
    archives: int
    not_kept: str | None


def timed_seed(
    url: str, seeds: Path, documents: Path | None, keeping: Keeping | None
) -> tuple[Seeded, float, float | None]:
    """`seed()` as `atlas load` runs it, timed up to its keep step and the keep step alone
    (marked by the pipeline's progress step; nothing else runs after it)."""
    marks: dict[str, float] = {}

    def progress(step: str) -> None:
        marks[step] = time.perf_counter()

    started = time.perf_counter()
    seeded = seed(url, seeds, documents, progress, keeping=keeping)
    ended = time.perf_counter()
    if KEEPING_STEP in marks:
        return seeded, marks[KEEPING_STEP] - started, ended - marks[KEEPING_STEP]
    return seeded, ended - started, None


def database_bytes(url: str) -> int:
    if is_sqlite(url):
        path = Path(make_url(url).database or "")
        wal = path.with_name(path.name + "-wal")
        return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            size = connection.execute(text("SELECT pg_database_size(current_database())"))
            return int(size.scalar_one())
    finally:
        engine.dispose()


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def own_folder(keeping: Keeping, url: str) -> Path:
    """The folder of the archives where the database at `url` keeps its releases."""
    engine = build_engine(url)
    try:
        own = for_database(keeping, engine)
    finally:
        engine.dispose()
    return own.folder if own is not None else keeping.folder


# Queries ------------------------------------------------------------------------------


@dataclass
class Timings:
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # url, config
    nodes: dict[str, set[str]] = field(default_factory=dict)  # config: nodes that answered

    def median(self, name: str, config: str) -> float:
        return statistics.median(self.samples[name][config])

    def p95(self, name: str, config: str) -> float:
        ordered = sorted(self.samples[name][config])
        return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def settings(url: str, archives: Path, data: Path) -> Settings:
    return Settings(database_url=url, archives_dir=archives, data_dir=data)


def time_requests(
    apps: dict[str, tuple[TestClient, str]],
    versions: dict[str, str],
    requests: dict[str, str],
    rounds: int,
) -> Timings:
    """Each request on each app in turn, `rounds` times (after a tenth as many untimed),
    once one answer from each is checked: a 200 from the version the config means."""
    timings = Timings()
    for name, url in requests.items():
        timings.samples[name] = {config: [] for config in apps}
        for config, (client, pin) in apps.items():
            response = client.get(_pinned(url, pin))
            if response.status_code != 200:
                raise RuntimeError(f"{CONFIG_NAMES[config]}: {url} answered "
                                   f"{response.status_code}: {response.text[:300]}")  # fmt: skip
            body = response.json()
            if "data" in body and not body["data"]:
                raise RuntimeError(f"{url} returned no rows: pick another request")
            served = response.headers["x-atlas-dataset-version"]
            if served != versions[config]:
                raise RuntimeError(f"{CONFIG_NAMES[config]}: {url} was answered from"
                                   f" {served[:16]}, not {versions[config][:16]}")  # fmt: skip
            timings.nodes.setdefault(config, set()).add(response.headers.get("x-atlas-node", "?"))
        for turn in range(-max(2, rounds // 10), rounds):  # a few untimed rounds first
            for config, (client, pin) in apps.items():
                target = _pinned(url, pin)
                started = time.perf_counter()
                response = client.get(target)
                if turn >= 0:
                    timings.samples[name][config].append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{target} answered {response.status_code} during the run")
    return timings


def _pinned(url: str, version: str) -> str:
    if not version:
        return url
    return f"{url}{'&' if '?' in url else '?'}version={version}"


# One engine ---------------------------------------------------------------------------


@dataclass
class EngineResult:
    engine: str
    observations: int
    loads: list[Load]
    baseline_bytes: int
    baseline_load_s: float
    timings: Timings
    requests: dict[str, str]
    notes: list[str]
    restore_s: float  # the oldest kept release restored whole, as a first pin to it does
    restored_bytes: int  # that whole database


@dataclass(frozen=True)
class Options:
    seeds: Path
    documents: Path | None
    tables: list[str] | None
    loads: int
    share: float
    keep: int
    rounds: int
    seed: int
    requests: dict[str, str]


def run_engine(name: str, urls: tuple[str, str], folder: Path, options: Options) -> EngineResult:
    """Load the seeds and `options.loads` revisions with keeping into `urls[0]`, the seeds
    once without keeping into `urls[1]`, then time the requests on both."""
    url, baseline_url = urls
    revisions = Revisions(options.seeds, folder, options.tables)
    observations = revisions.observations()
    keeping = Keeping(folder / "archives", options.keep)
    rng = random.Random(options.seed)
    notes: list[str] = []

    log(f"{name}: loading once, without keeping (the one-release database)")
    _, baseline_load_s, _ = timed_seed(baseline_url, revisions.root, options.documents, None)
    baseline_bytes = database_bytes(baseline_url)

    loads: list[Load] = []
    for number in range(options.loads + 1):
        changed = revisions.revise(rng, round(observations * options.share)) if number else 0
        log(f"{name}: load {number + 1} of {options.loads + 1} ({changed} values revised)")
        seeded, load_s, keep_s = timed_seed(url, revisions.root, options.documents, keeping)
        if seeded.report.release is None:
            notes.append(f"load {number + 1} made no release (version {seeded.version[:16]})")
        if seeded.not_kept:
            notes.append(f"load {number + 1}: not kept: {seeded.not_kept}")
        if loads and seeded.version == loads[-1].version:
            notes.append(f"load {number + 1} left the version as it was")
        loads.append(
            Load(number + 1, changed, seeded.version, load_s, keep_s, database_bytes(url),
                 folder_bytes(keeping.folder), len(kept_versions(own_folder(keeping, url))),
                 seeded.not_kept)
        )  # fmt: skip

    current, oldest = loads[-1].version, loads[0].version
    kept_in = own_folder(keeping, url)
    kept = kept_versions(kept_in)
    if oldest not in kept:
        notes.append(f"the first release {oldest[:16]} is not among the kept: {len(kept)} kept")
        oldest = next(load.version for load in loads if load.version in kept)
    log(f"{name}: restoring the oldest kept release {oldest[:16]}")
    started = time.perf_counter()
    if restore(kept_in, oldest, url) is None:
        notes.append(f"the oldest kept release {oldest[:16]} could not be restored")
    restore_s = time.perf_counter() - started
    restored = archive_path(kept_in, oldest)
    restored_bytes = restored.stat().st_size if restored.exists() else 0
    log(f"{name}: timing {len(options.requests)} requests x {options.rounds} rounds x 4")
    with ExitStack() as stack:
        archived = stack.enter_context(
            TestClient(create_app(settings(url, keeping.folder, folder / "data")))
        )
        single = stack.enter_context(
            TestClient(create_app(settings(baseline_url, folder / "none", folder / "data")))
        )
        baseline_version = single.get(f"{API}/sources?limit=1").headers["x-atlas-dataset-version"]
        if baseline_version != oldest:
            notes.append(
                f"the one-release database holds {baseline_version[:16]}, not the first"
                f" release {oldest[:16]}"
            )
        apps = {"a": (archived, ""), "b": (archived, current), "c": (archived, oldest),
                "d": (single, "")}  # fmt: skip
        versions = {"a": current, "b": current, "c": oldest, "d": baseline_version}
        timings = time_requests(apps, versions, options.requests, options.rounds)
    return EngineResult(name, observations, loads, baseline_bytes, baseline_load_s, timings,
                        options.requests, notes, restore_s, restored_bytes)  # fmt: skip


# Report -------------------------------------------------------------------------------


def mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def render_engine(result: EngineResult, options: Options) -> list[str]:
    loads = result.loads
    first, last = loads[0], loads[-1]
    one = first.primary_bytes
    lines = [
        f"## {result.engine}",
        "",
        f"{result.observations:,} observations; each later load revised"
        f" {loads[1].changed if len(loads) > 1 else 0:,} of them"
        f" ({options.share:.0%}); keep={options.keep}.",
        "",
        "| load | version | values revised | load s | keep step s | primary | archives |",
        "|---|---|---|---|---|---|---|",
    ]
    for load in loads:
        keep = f"{load.keep_s:.2f}" if load.keep_s is not None else "not run"
        lines.append(
            f"| {load.number} | {load.version[:12]} | {load.changed:,} | {load.load_s:.2f}"
            f" | {keep} | {mb(load.primary_bytes)} | {load.archives}, {mb(load.archives_bytes)} |"
        )
    keeps = [load.keep_s for load in loads if load.keep_s is not None]
    total = last.primary_bytes + last.archives_bytes
    lines += [
        "",
        f"- Primary database after one release: {mb(one)}; after {len(loads)}:"
        f" {mb(last.primary_bytes)} ({last.primary_bytes / one:.2f}x)",
        f"- Archives after {len(loads)} loads: {last.archives} releases kept (their deltas),"
        f" {mb(last.archives_bytes)} in all (one: {mb(first.archives_bytes)})",
        f"- (database + archives) / one release: {mb(total)} / {mb(one)} = {total / one:.2f}x"
        " (target: at most 1.2x)",
        f"- The oldest kept release restored whole (the first pin to it starts it and waits"
        f" up to ATLAS_RESTORE_WAIT_MS, then answers 503): {result.restore_s:.2f} s,"
        f" {mb(result.restored_bytes)}; with it on disk"
        f" {(total + result.restored_bytes) / one:.2f}x, until it is evicted",
        f"- Database loaded once without keeping: {mb(result.baseline_bytes)},"
        f" load {result.baseline_load_s:.2f} s",
        f"- Load time (without the keep step): first {first.load_s:.2f} s, later ones median"
        f" {statistics.median([x.load_s for x in loads[1:]] or [first.load_s]):.2f} s",
        f"- Keep step: median {statistics.median(keeps):.2f} s, max {max(keeps):.2f} s"
        if keeps
        else "- Keep step: never ran",
    ]
    lines += [f"- Note: {note}" for note in result.notes]
    timings = result.timings
    nodes = ", ".join(
        f"{CONFIG_NAMES[c]}: {'/'.join(sorted(timings.nodes.get(c, set())))}" for c in CONFIGS
    )
    lines += [
        "",
        f"Requests, {options.rounds} rounds each, the four configurations in turn; median /"
        " p95 ms; answered by " + nodes + ".",
        "",
        "| request | (a) unpinned | (b) version=current | (c) version=oldest | (d) one release"
        " | b/a | c/a | a/d |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ratios: dict[str, list[float]] = {"b": [], "c": [], "d": []}
    for name, url in result.requests.items():
        cells = [f"{timings.median(name, c):.2f} / {timings.p95(name, c):.2f}" for c in CONFIGS]
        a = timings.median(name, "a")
        b, c, d = (timings.median(name, x) for x in "bcd")
        ratios["b"].append(b / a)
        ratios["c"].append(c / a)
        ratios["d"].append(a / d)
        lines.append(
            f"| {name} `{url.removeprefix(API)}` | " + " | ".join(cells)
            + f" | {b / a:.2f} | {c / a:.2f} | {a / d:.2f} |"
        )  # fmt: skip
    lines += [
        "",
        f"- Medians' ratios, geometric mean over the requests: b/a {_geomean(ratios['b']):.2f},"
        f" c/a {_geomean(ratios['c']):.2f}, a/d {_geomean(ratios['d']):.2f}"
        " (a/d: the target is within 10% of one release)",
        "",
    ]
    return lines


def _geomean(values: list[float]) -> float:
    return statistics.geometric_mean(values) if values else float("nan")


def render(results: list[EngineResult], options: Options, failures: list[str]) -> str:
    tables = "all" if options.tables is None else ", ".join(options.tables)
    lines = [
        f"# Keeping past releases, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`python -m bench.releases`: seeds {options.seeds} (tables: {tables}), documents"
        f" {'checked' if options.documents else 'not checked'}; 1 + {options.loads} loads"
        f" through seed() with keeping, random seed {options.seed}; requests in process"
        " (TestClient).",
        "",
    ]
    for result in results:
        lines += render_engine(result, options)
    lines += [f"- FAILED: {failure}" for failure in failures]
    return "\n".join(lines).rstrip() + "\n"


# Main ---------------------------------------------------------------------------------


@contextmanager
def sqlite_urls(folder: Path) -> Iterator[tuple[str, str]]:
    yield f"sqlite:///{folder / 'atlas.db'}", f"sqlite:///{folder / 'one-release.db'}"


@contextmanager
def postgres_urls(_: Path) -> Iterator[tuple[str, str]]:
    with PostgresCluster() as cluster:
        yield (
            cluster.url(cluster.create_database("releases")),
            cluster.url(cluster.create_database("one_release")),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.releases",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seeds", type=Path, default=PROJECT_ROOT / "seeds")
    parser.add_argument("--documents", type=Path, default=Settings().documents_dir,
                        help="the raw documents, to check spans as `atlas load` does")  # fmt: skip
    parser.add_argument("--loads", type=int, default=10, help="loads after the first")
    parser.add_argument("--share", type=float, default=0.01, help="of the values, per load")
    parser.add_argument("--keep", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-postgres", dest="postgres", action="store_false")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one small table, 1 + 2 loads, 5 rounds (the smoke test)",
    )
    parser.add_argument("--output", type=Path, default=BENCH / "results")
    args = parser.parse_args(argv)
    if args.quick:
        options = Options(args.seeds, args.documents, QUICK_TABLES, 2, args.share, args.keep, 5,
                          args.seed, QUICK_REQUESTS)  # fmt: skip
    else:
        options = Options(args.seeds, args.documents, None, args.loads, args.share, args.keep,
                          args.rounds, args.seed, REQUESTS)  # fmt: skip
    engines: list[tuple[str, Callable[[Path], AbstractContextManager[tuple[str, str]]]]] = [
        ("SQLite", sqlite_urls)
    ]
    if args.postgres:
        engines.append(("PostgreSQL", postgres_urls))
    results: list[EngineResult] = []
    failures: list[str] = []
    for name, urls in engines:
        with tempfile.TemporaryDirectory(prefix="atlas-releases-") as tmp, urls(Path(tmp)) as pair:
            try:
                results.append(run_engine(name, pair, Path(tmp), options))
            except Exception as error:  # reported with the figures that were measured
                failures.append(f"{name}: {error.__class__.__name__}: {error}")
                log(f"{name} failed: {error!r}")
    report = render(results, options, failures)
    print(report)
    args.output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.output / f"releases-{stamp}.md").write_text(report, encoding="utf-8")
    log(f"written to {args.output}/releases-{stamp}.md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
