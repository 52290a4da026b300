"""Faults an operator meets, tried from outside over HTTP against a real `atlas serve`.

    python -m bench.faults                  # every fault, on the seed data
    python -m bench.faults --only sqlite    # one of: pg-terminate, pg-stop, sqlite, startup,
                                            # sigterm (or postgres: both PostgreSQL faults)

16 clients read the seed data in a loop on keep-alive connections while a fault happens:
PostgreSQL's backends terminated five times in 2.5 s (what a failover, a pooler restart or
an idle-session kill does); PostgreSQL stopped with `-m immediate` for 2 s, then started;
on SQLite, a writer killed mid-transaction after it spilled pages into the file (a hot
journal). A separate probe polls `/readyz`. For each fault it prints the answers by status,
the connections closed without a response, the time from the end of the fault to the last
failed answer, and whether the rows afterwards equal the rows before. Then it starts the
server on a SQLite file with a hot journal and on each kind of broken database (exit
status and stderr), and sends SIGTERM with 16 requests in flight.
It prints figures and asserts nothing.
"""

import argparse
import signal
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from harness import (
    CLIENTS,
    PostgresCluster,
    Tally,
    answer_of,
    dump,
    free_port,
    journal_of,
    kill_spilling_writer,
    load_seeds,
    requests_in_flight,
    running_server,
    serve_once,
    server_process,
    traffic,
    watch_until_quiet,
)

FAULTS = ("pg-terminate", "pg-stop", "sqlite", "startup", "sigterm")


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
            kill_spilling_writer(path, alive=1)  # readers meet its lock for 1 s
            end = time.monotonic()
            journal = journal_of(path)
            while journal.exists() and time.monotonic() - end < 12:
                time.sleep(0.01)
            rolled_back = time.monotonic() - end
            watch_until_quiet(data, limit=12)
        report("SQLite: writer alive 1 s after spilling, then killed (a hot journal)",
               data, ready, end, dump(url) == before)  # fmt: skip
        print(f"  journal gone {rolled_back:.2f} s after the writer's death")


# Startup -------------------------------------------------------------------------------


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


def start_on_hot_journal(workdir: Path) -> None:
    path = workdir / "hot-at-start.db"
    url = f"sqlite:///{path}"
    load_seeds(url)
    before = dump(url)
    kill_spilling_writer(path)
    print("\nSQLite: server started on a file with a hot journal")
    try:
        with running_server(url) as base:
            sources = httpx.get(f"{base}/readyz").json()["sources"]
            left = journal_of(path).exists()
            print(f"  started; /readyz: {sources} sources; journal left: {left}")
    except RuntimeError as refusal:
        print(f"  refused: {' '.join(str(refusal).split())[-300:]}")
    print(f"  rows afterwards equal rows before: {dump(url) == before}")


def sigterm_in_flight(workdir: Path) -> None:
    """16 requests the server has read wait on a locked SQLite file when SIGTERM arrives."""
    path = workdir / "sigterm.db"
    url = f"sqlite:///{path}"
    load_seeds(url)
    with server_process(url, ATLAS_POOL_TIMEOUT="30") as (base, process):
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        sockets = requests_in_flight(base, "/api/v1/sources?limit=500", CLIENTS)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        locker.close()
        answers = [answer_of(sock) for sock in sockets]
        code = process.wait(timeout=30)
    outcomes = Counter(a if isinstance(a, str) else str(a.status_code) for a in answers)
    print(f"\nSIGTERM with {CLIENTS} requests in flight (SQLite locked by a writer meanwhile)")
    print(f"  answers: {dict(outcomes)}; server exit status {code}")


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
        if "sqlite" in only:
            start_on_hot_journal(workdir)
        if "startup" in only:
            startup_refusals(workdir)
        if "sigterm" in only:
            sigterm_in_flight(workdir)


if __name__ == "__main__":
    main()
