"""nginx as a caching proxy in front of `atlas serve` processes: the shipped example
(deploy/nginx-cache.conf) rendered with private ports and directories, and run."""

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.config import PROJECT_ROOT
from harness.postgres import free_port

CACHE_EXAMPLE = PROJECT_ROOT / "deploy" / "nginx-cache.conf"
EXAMPLE_UPSTREAMS = ("server 127.0.0.1:8001 ", "server 127.0.0.1:8002 ")


EXAMPLE_RATE = "rate=100r/s"


def render_cache_example(
    upstreams: list[int], listen_port: int, cache_dir: Path, *, client_rate: str | None = None
) -> str:
    """The example with its two upstream servers, listening port and cache directory
    replaced; every replaced line must be in it as printed. `client_rate` replaces the
    per-client request rate (a benchmark's one client is every client)."""
    text = CACHE_EXAMPLE.read_text(encoding="utf-8")
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{listen_port};",
        "/var/cache/nginx/atlas": str(cache_dir),
    }
    if client_rate is not None:
        replacements[EXAMPLE_RATE] = f"rate={client_rate}"
    replacements.update(
        {
            line: f"server 127.0.0.1:{port} "
            for line, port in zip(EXAMPLE_UPSTREAMS, upstreams, strict=True)
        }
    )
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


@contextmanager
def caching_proxy(
    upstreams: list[int], workdir: Path, *, client_rate: str | None = None
) -> Iterator[str]:
    """nginx running the cache example in front of `upstreams` (one worker, its files in
    `workdir`); yields its base URL once it answers."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "atlas-cache.conf").write_text(
        render_cache_example(upstreams, port, workdir / "cache", client_rate=client_rate)
    )
    # Run as root (as here), nginx's workers would drop to `nobody`, who cannot write the
    # cache in a private temporary directory; they keep the invoking user instead.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (workdir / "nginx.conf").write_text(
        f"{user}daemon off; pid {workdir}/nginx.pid; error_log {workdir}/error.log;\n"
        "worker_processes 1; worker_rlimit_nofile 4096;\n"
        "events { worker_connections 1024; }\n"
        f"http {{ access_log off; client_body_temp_path {workdir}/body;"
        f" proxy_temp_path {workdir}/proxy; include {workdir}/atlas-cache.conf; }}\n"
    )
    process = subprocess.Popen(
        [nginx, "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                log = (workdir / "error.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"nginx exited with {process.returncode}: {log}")
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{base}/healthz", timeout=1)
                break
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not answer in 10 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
