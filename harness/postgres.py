"""A throwaway PostgreSQL cluster for the tests and benchmarks: its own data directory,
socket directory and port, started with pg_ctl and removed afterwards; and streaming
replicas of one (`PostgresReplica`).

PostgreSQL refuses to run as root, so when the tests run as root the server commands run
as the `postgres` user through runuser.
"""

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Self

import psycopg


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    override = os.environ.get("ATLAS_PG_BINDIR")
    candidates = [override] if override else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found; install Debian's postgresql package"
        " (the README's test command does) or set ATLAS_PG_BINDIR"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresCluster:
    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.base = Path(tempfile.mkdtemp(prefix="atlas-pg-"))
        self.data = self.base / "data"
        self.sockets = self.base / "sockets"
        self.log = self.base / "server.log"
        self.port = free_port()
        self.as_server_user: list[str] = []
        if os.geteuid() == 0:
            self.as_server_user = ["runuser", "-u", "postgres", "--"]
        self._counter = 0

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self.as_server_user, *args], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed: {result.stderr or result.stdout}")

    def __enter__(self) -> Self:
        """`with PostgresCluster() as cluster:` starts it and removes it afterwards."""
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> Self:
        """Create the data directory if there is none (`create`), then start the server."""
        self.sockets.mkdir()
        if self.as_server_user:
            shutil.chown(self.base, "postgres")
            shutil.chown(self.sockets, "postgres")
        if not self.data.exists():
            self.create()
        self.resume()
        return self

    def create(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip

    def resume(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
            " -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip

    def pause(self) -> None:
        """Stop the server (fast shutdown), keeping its data for `resume`."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def crash(self) -> None:
        """Stop the server as a crash does (immediate shutdown: no checkpoint, every backend
        killed), keeping its data; `resume` then starts it with crash recovery."""
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
        )

    def stop(self) -> None:
        with contextlib.suppress(PostgresUnavailable):
            self._run(
                str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
            )
        shutil.rmtree(self.base, ignore_errors=True)

    def query(self, sql: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        with psycopg.connect(
            host=str(self.sockets), port=self.port, user="postgres", dbname=database,
            autocommit=True,
        ) as connection:  # fmt: skip
            return connection.execute(sql.encode()).fetchall()

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@/{database}?host={self.sockets}&port={self.port}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        with psycopg.connect(
            host=str(self.sockets),
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
        ) as connection:
            connection.execute(sql.encode())

    def create_database(self, prefix: str = "atlas") -> str:
        self._counter += 1
        name = f"{prefix}_{os.getpid()}_{self._counter}"
        self.execute(f'CREATE DATABASE "{name}"')
        return name


class PostgresReplica(PostgresCluster):
    """A hot standby of `primary`, streaming its WAL: copied with `pg_basebackup -R` (which
    writes `primary_conninfo` and `standby.signal`) into its own directory, on its own port
    and socket directory. Databases are created on the primary and replicate here."""

    def __init__(self, primary: PostgresCluster) -> None:
        super().__init__()
        self.primary = primary

    def create(self) -> None:
        """A copy of the primary's data, set to follow it."""
        self._run(
            str(self.bindir / "pg_basebackup"), "-D", str(self.data), "-R",
            "-h", str(self.primary.sockets), "-p", str(self.primary.port), "-U", "postgres",
            "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip

    def resume(self) -> None:
        super().resume()
        self.wait_until_caught_up()

    def pause_replay(self) -> None:
        self.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.execute("SELECT pg_wal_replay_resume()")

    def wait_until_caught_up(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far.

        The primary commits asynchronously, so its WAL reaches the replica when its WAL
        writer flushes it (within 200 ms). An insert position just past a page boundary is
        never flushed while the primary idles: after 2 s a replica that has replayed all
        the primary has flushed is taken as caught up."""
        (target,) = self.primary.query("SELECT pg_current_wal_insert_lsn()::text")[0]
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            (flushed,) = self.primary.query("SELECT pg_current_wal_flush_lsn()::text")[0]
            goal = target if time.monotonic() - started < 2 else flushed
            (behind,) = self.query(
                f"SELECT coalesce(pg_last_wal_replay_lsn() < '{goal}'::pg_lsn, true)"
            )[0]
            if not behind:
                return
            time.sleep(0.05)
        raise PostgresUnavailable(f"the replica did not reach {target} in {timeout} s")
