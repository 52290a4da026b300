"""Faults an operator meets, tried from outside over HTTP against a real `atlas serve`.

    python -m bench.faults                  # every fault, on the seed data
    python -m bench.faults --only sqlite    # one: pg-terminate, pg-stop, sqlite, startup

16 clients read the seed data in a loop on keep-alive connections while a fault happens:
PostgreSQL's backends terminated five times in 2.5 s (what a failover, a pooler restart or
an idle-session kill does); PostgreSQL stopped with `-m immediate` for 2 s, then started;
on SQLite, a writer killed mid-transaction after it spilled pages into the file (a hot
journal). A separate probe polls `/readyz`. For each fault it prints the answers by status,
the connections closed without a response, the time from the end of the fault to the last
failed answer, and whether the rows afterwards equal the rows before. Then it starts the
server on each kind of broken database and prints its exit status and stderr.
It prints figures and asserts nothing.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import cycle
from pathlib import Path

import httpx

from app.config import PROJECT_ROOT
from tests.conftest import load_seeds
from tests.support.postgres import PostgresCluster, free_port
from tests.support.server import running_server
from tests.support.sqlite_writer import READY
from tests.support.state import dump

CLIENTS = 16
PATHS = (
    "/api/v1/cities",
    "/api/v1/metrics?limit=5",
    "/api/v1/places/daye",
    "/api/v1/sources",
    "/api/v1/organizations?limit=3",
    "/api/v1/indicators",
)
CLOSED = "closed without response"
FAULTS = ("pg-terminate", "pg-stop", "sqlite", "startup")


@dataclass
class Tally:
    """Answers with the moment each arrived (monotonic seconds)."""

    answers: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str) -> None:
        with self.lock:
            self.answers.append((time.monotonic(), outcome))

    def counts(self) -> Counter[str]:
        return Counter(outcome for _, outcome in self.answers)

    def last_failure(self) -> float | None:
        failed = [moment for moment, outcome in self.answers if outcome != "200"]
        return max(failed) if failed else None


def outcome_of(client: httpx.Client, path: str) -> str:
    try:
        response = client.get(path)
    except (httpx.RemoteProtocolError, httpx.ReadError):
        return CLOSED
    except httpx.TransportError as exc:
        return type(exc).__name__
    status = str(response.status_code)
    if status == "503" and "retry-after" not in response.headers:
        return "503 without Retry-After"
    return status


@contextmanager
def traffic(base: str, clients: int = CLIENTS) -> Iterator[tuple[Tally, Tally]]:
    """`clients` readers of the data and one readiness probe, until the block ends."""
    data, ready = Tally(), Tally()
    stop = threading.Event()

    def reader(offset: int) -> None:
        paths = cycle(PATHS[offset % len(PATHS) :] + PATHS[: offset % len(PATHS)])
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                data.add(outcome_of(client, next(paths)))

    def probe() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                ready.add(outcome_of(client, "/readyz"))
                time.sleep(0.05)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(clients)]
    threads.append(threading.Thread(target=probe))
    for thread in threads:
        thread.start()
    try:
        yield data, ready
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def report(name: str, data: Tally, ready: Tally, fault_end: float, same_rows: bool) -> None:
    counts = data.counts()
    total = sum(counts.values())
    failed = total - counts["200"]
    last = data.last_failure()
    recovery = "no failed answer" if last is None else f"{max(0.0, last - fault_end):.2f} s"
    print(f"\n{name}")
    print(f"  data answers: {total:,}; " + ", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    print(f"  not 200: {failed:,} ({100 * failed / max(total, 1):.2f}%)")
    print(f"  last failed answer after the fault ended: {recovery}")
    print("  /readyz: " + ", ".join(f"{k}: {v:,}" for k, v in ready.counts().items()))
    print(f"  rows afterwards equal rows before: {same_rows}")


def watch_until_quiet(data: Tally, seconds: float = 2.0, limit: float = 30.0) -> None:
    """Keep the traffic going until the last `seconds` brought answers and all were 200
    (or `limit` passes): a server that answers nothing is not quiet."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        time.sleep(0.1)
        now = time.monotonic()
        with data.lock:
            recent = [outcome for moment, outcome in data.answers if now - moment < seconds]
        if now - started > seconds and recent and all(o == "200" for o in recent):
            return


# PostgreSQL ----------------------------------------------------------------------------


def terminate_backends(cluster: PostgresCluster, database: str) -> None:
    cluster.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )


def postgres_faults(only: set[str], workdir: Path) -> None:
    with PostgresCluster() as cluster:
        database = cluster.create_database()
        url = cluster.url(database)
        load_seeds(url)
        before = dump(url)
        with running_server(url, log_path=workdir / "pg-server.log") as base:
            if "pg-terminate" in only:
                with traffic(base) as (data, ready):
                    time.sleep(1)
                    for _ in range(5):
                        terminate_backends(cluster, database)
                        time.sleep(0.5)
                    end = time.monotonic()
                    watch_until_quiet(data)
                report("PostgreSQL: backends terminated 5 times in 2.5 s", data, ready, end,
                       dump(url) == before)  # fmt: skip
            if "pg-stop" in only:
                with traffic(base) as (data, ready):
                    time.sleep(1)
                    cluster.crash()
                    time.sleep(2)
                    cluster.resume()
                    end = time.monotonic()
                    watch_until_quiet(data)
                report("PostgreSQL: stopped -m immediate for 2 s, then started", data, ready,
                       end, dump(url) == before)  # fmt: skip


# SQLite --------------------------------------------------------------------------------


def sqlite_killed_writer(workdir: Path) -> None:
    path = workdir / "killed-writer.db"
    url = f"sqlite:///{path}"
    load_seeds(url)
    before = dump(url)
    with running_server(url, log_path=workdir / "sqlite-server.log") as base:
        with traffic(base) as (data, ready):
            time.sleep(1)
            writer = subprocess.Popen(
                [sys.executable, "-m", "tests.support.sqlite_writer", str(path)],
                cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert writer.stdout is not None
            assert writer.stdout.readline().strip() == READY
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            end = time.monotonic()
            hot = path.with_name(path.name + "-journal").exists()
            watch_until_quiet(data, limit=12)
        report(f"SQLite: writer killed mid-transaction (hot journal left: {hot})", data,
               ready, end, dump(url) == before)  # fmt: skip


# Startup -------------------------------------------------------------------------------


def serve_once(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", str(free_port())],
        env={**os.environ, "DATABASE_URL": url, "COLUMNS": "300"}, cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def startup_refusals(workdir: Path) -> None:
    print("\nStartup on broken databases (exit status, stderr lines, stderr)")
    empty = workdir / "empty.db"
    empty.touch()
    cases: dict[str, Callable[[], str]] = {
        "SQLite, missing file": lambda: f"sqlite:///{workdir / 'missing.db'}",
        "SQLite, empty file": lambda: f"sqlite:///{empty}",
    }
    with PostgresCluster() as cluster:
        cases |= {
            "PostgreSQL, nothing listening": lambda: (
                f"postgresql://atlas:secret@127.0.0.1:{free_port()}/atlas"
            ),
            "PostgreSQL, no such database": lambda: cluster.url("no_such_database"),
            "PostgreSQL, not loaded": lambda: cluster.url(cluster.create_database()),
        }
        for name, url in cases.items():
            result = serve_once(url())
            lines = result.stderr.strip().splitlines()
            print(f"  {name}: exit {result.returncode}, {len(lines)} line(s)")
            for line in lines:
                print(f"    | {line}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=[*FAULTS, "postgres"], action="append")
    parser.add_argument("--keep", type=Path, help="Keep the databases and server logs here.")
    options = parser.parse_args(argv)
    only = set(options.only or FAULTS)
    if "postgres" in only:
        only |= {"pg-terminate", "pg-stop"}
    with tempfile.TemporaryDirectory(prefix="atlas-faults-") as directory:
        workdir = options.keep or Path(directory)
        workdir.mkdir(parents=True, exist_ok=True)
        if only & {"pg-terminate", "pg-stop"}:
            postgres_faults(only, workdir)
        if "sqlite" in only:
            sqlite_killed_writer(workdir)
        if "startup" in only:
            startup_refusals(workdir)


if __name__ == "__main__":
    main()
