"""A throwaway PostgreSQL cluster for the tests and benchmarks: its own data directory,
socket directory and port, started with pg_ctl and removed afterwards.

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
from pathlib import Path

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

    def __enter__(self) -> "PostgresCluster":
        """`with PostgresCluster() as cluster:` starts it and removes it afterwards."""
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> "PostgresCluster":
        self.sockets.mkdir()
        if self.as_server_user:
            shutil.chown(self.base, "postgres")
            shutil.chown(self.sockets, "postgres")
        if not self.data.exists():
            self._run(
                str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
        self.resume()
        return self

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
