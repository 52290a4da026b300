"""A real `atlas serve` process on 127.0.0.1, for tests that need a socket."""

import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from app.config import PROJECT_ROOT
from harness.postgres import free_port


@contextmanager
def running_server(
    database_url: str, *, workers: int = 1, log_path: Path | None = None, **env: str
) -> Iterator[str]:
    """Start `atlas serve`, wait until ready, yield its base URL, stop it. The log is kept
    at `log_path` when given, else deleted."""
    with serving(database_url, workers=workers, log_path=log_path, env=env) as server:
        yield server.base


@contextmanager
def server_process(
    database_url: str, *, workers: int = 1, log_path: Path | None = None, **env: str
) -> Iterator[tuple[str, "subprocess.Popen[bytes]"]]:
    """`running_server`, for tests that signal the process themselves."""
    with serving(database_url, workers=workers, log_path=log_path, env=env) as server:
        yield server.base, server.process


def serve_once(database_url: str) -> subprocess.CompletedProcess[str]:
    """Run `atlas serve` on the database to its end, for a database it must refuse to start
    on: the exit status and the output, in one wide line (COLUMNS), say why."""
    return subprocess.run(
        [sys.executable, "-m", "app", "serve", "--port", str(free_port())],
        env={**os.environ, "DATABASE_URL": database_url, "COLUMNS": "300"}, cwd=PROJECT_ROOT,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@dataclass(frozen=True)
class Serving:
    base: str
    process: "subprocess.Popen[bytes]"
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        return address_of(self.base)

    def open_files(self) -> int:
        """File descriptors the server process holds now."""
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def open_sockets(self) -> int:
        """Sockets the server process holds now: its listener and its connections (not the
        database files, whose count the connection pool decides)."""
        folder = f"/proc/{self.process.pid}/fd"
        targets = []
        for name in os.listdir(folder):
            try:
                targets.append(os.readlink(f"{folder}/{name}"))
            except FileNotFoundError:  # closed between the listing and the read
                continue
        return sum(target.startswith("socket:") for target in targets)


@contextmanager
def serving(
    database_url: str,
    *,
    workers: int = 1,
    log_path: Path | None = None,
    open_files: tuple[int, int] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Serving]:
    """`running_server` with the process at hand; `open_files` starts it under that soft and
    hard RLIMIT_NOFILE, as `prlimit --nofile=SOFT:HARD` would."""
    port = free_port()
    # The server's log goes to a file: a pipe nobody reads fills up after a few thousand
    # access-log lines and then blocks the server mid-request.
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="atlas-server-", suffix=".log")
        os.close(handle)
    log = (log_path or Path(name)).open("wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url, **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=None if open_files is None else partial(_limit_open_files, open_files),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = Path(log.name).read_text(errors="replace")[-4000:]
                raise RuntimeError(f"server exited with {process.returncode}: {output}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become healthy in 30 s")
            time.sleep(0.1)
        yield Serving(base, process, Path(log.name))
    finally:
        stop(process)
        log.close()
        if log_path is None:
            Path(name).unlink(missing_ok=True)


def _limit_open_files(limits: tuple[int, int]) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, limits)


def address_of(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def exchange(address: tuple[str, int], request: bytes, chunk: int = 0) -> bytes:
    """Send raw bytes on a fresh connection (in `chunk`-sized writes if given) and read
    until the server closes it."""
    with socket.create_connection(address, timeout=30) as sock:
        step = chunk or len(request)
        for start in range(0, len(request), step):
            sock.sendall(request[start : start + step])
        received = b""
        while data := sock.recv(65536):
            received += data
        return received


def send_raw(base: str, method: str, target: str, headers: dict[str, str]) -> httpx.Response:
    """One request written byte for byte (for targets longer than httpx will build)."""
    host, port = address_of(base)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return parse_response(exchange((host, port), request))


def parse_response(raw: bytes) -> httpx.Response:
    """A response read off a `Connection: close` socket (so not chunked)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = [(name, value) for name, _, value in (line.partition(": ") for line in header_lines)]
    return httpx.Response(int(status_line.split(" ")[1]), headers=parsed, content=body)


def requests_in_flight(base: str, target: str, count: int) -> list[socket.socket]:
    """Send `count` GETs of `target`, each on a connection of its own, and return once the
    server has read every one of them (its side of each connection has nothing left
    unread): they are then in flight, not merely on their way. Read the answers with
    `answer_of`."""
    host, port = address_of(base)
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((host, port), timeout=60)
        sock.sendall(request.encode("latin-1"))
        sockets.append(sock)
    deadline = time.monotonic() + 30
    while _read_by_server(port) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not read {count} requests in 30 s")
        time.sleep(0.02)
    return sockets


def _read_by_server(port: int) -> int:
    """Established IPv4 connections to `port` whose received bytes the server has read
    (from /proc/net/tcp: local address, state 01, then tx_queue:rx_queue)."""
    read = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, queues = fields[1], fields[3], fields[4]
        if int(local.split(":")[1], 16) == port and state == "01":
            read += int(queues.split(":")[1], 16) == 0
    return read


def answer_of(sock: socket.socket) -> httpx.Response | str:
    """The response on a socket from `requests_in_flight`, or why there was none."""
    received = b""
    with sock:
        try:
            while data := sock.recv(65536):
                received += data
        except OSError as error:
            return f"no response: {error}"
    return parse_response(received) if received else "closed without response"


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
