"""A SQLite writer that dies mid-transaction, for the fault tests and `bench.faults`; and one
that holds the file's exclusive lock for as long as a test needs.

    python -m harness.sqlite_writer PATH

It opens PATH read-write with a tiny page cache, changes rows in several tables and writes
enough new pages that SQLite must spill some of them into the database file before the
commit (the rollback journal then holds the originals). It prints `spilled` once the file
itself has changed, then waits for SIGKILL: what is left is a hot journal and a database
file with half a transaction in it, as a crash or a power cut leaves them.
"""

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

READY = "spilled"


@contextmanager
def held_exclusively(path: str | Path) -> Iterator[None]:
    """Every read of the SQLite file at `path` waits (or fails at once, with busy_timeout
    0) until the block ends: a writer's exclusive lock, as during a commit."""
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        locker.close()


def write_until_killed(path: Path) -> None:
    size_before = path.stat().st_size
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA cache_size = 10")  # pages: the transaction must spill
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("UPDATE source SET title = title || ' (half-written)'")
    connection.execute("DELETE FROM observation WHERE id % 2 = 0")
    connection.execute("CREATE TABLE half_written (payload BLOB)")
    connection.executemany(
        "INSERT INTO half_written VALUES (randomblob(1000))", [()] * 3000
    )  # fmt: skip
    journal = path.with_name(path.name + "-journal")
    if not (journal.exists() and path.stat().st_size > size_before):
        raise SystemExit("the transaction did not spill into the database file")
    print(READY, flush=True)
    while True:
        time.sleep(60)


def journal_of(path: Path) -> Path:
    return path.with_name(path.name + "-journal")


def kill_spilling_writer(path: Path, alive: float = 0.5) -> None:
    """Run the writer on `path` until it has spilled, let it hold its lock `alive` seconds
    (readers meet it meanwhile), SIGKILL it, and check it left a hot journal."""
    from app.config import PROJECT_ROOT

    writer = subprocess.Popen(
        [sys.executable, "-m", "harness.sqlite_writer", str(path)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert writer.stdout is not None
    with writer.stdout:
        assert writer.stdout.readline().strip() == READY
        time.sleep(alive)
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=10) == -signal.SIGKILL
    assert journal_of(path).exists()


if __name__ == "__main__":
    write_until_killed(Path(sys.argv[1]))
