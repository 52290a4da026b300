"""A real `atlas serve` process on 127.0.0.1, for tests that need a socket."""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.config import PROJECT_ROOT
from tests.support.postgres import free_port


@contextmanager
def running_server(database_url: str, *, workers: int = 1, **env: str) -> Iterator[str]:
    port = free_port()
    # The server's log goes to a file: a pipe nobody reads fills up after a few thousand
    # access-log lines and then blocks the server mid-request.
    log = tempfile.NamedTemporaryFile(prefix="atlas-server-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                output = Path(log.name).read_text(errors="replace")[-4000:]
                raise RuntimeError(f"server exited with {process.returncode}: {output}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become healthy in 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)
