"""Running the API under uvicorn, single- or multi-process.

uvicorn's multi-process path binds the listening socket itself with `proto=0`; sockets
accepted from it then report proto 0, asyncio skips TCP_NODELAY, and every keep-alive
response waits ~40 ms for the client's delayed ACK (uvicorn issue #3149, still present in
0.54). `AtlasConfig` binds with IPPROTO_TCP, which is all it takes.

Left to itself, uvicorn never times out a connection that has not completed a request head,
and a process under the usual soft limit of 1,024 open files stops accepting once that many
are held: 1,500 silent plus 1,500 half-head connections from one client made every other
request fail. Here a head must arrive within `head_timeout`, the soft limit is raised to the
hard one, and connections beyond a per-worker cap are refused at once with a 503.
"""

import gc
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from .config import get_settings
from .limits import ConnectionLimits, connection_limits, file_margin, raise_open_files_limit
from .locations import NAME
from .protocol import MAX_HEADER_BYTES, BoundedHttpToolsProtocol

logger = logging.getLogger("uvicorn.error")


class AtlasConfig(uvicorn.Config):
    """uvicorn's settings plus the connection limits, fixed before workers start: the
    open-files limit they derive from is the one the workers inherit."""

    def __init__(self, *args: Any, limits: ConnectionLimits | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or connection_limits(get_settings())

    def bind_socket(self) -> socket.socket:
        if self.uds is not None or self.fd is not None:
            return super().bind_socket()
        family = socket.AF_INET6 if self.host and ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.set_inheritable(True)
        logger.info("Listening on http://%s:%d", self.host, sock.getsockname()[1])
        return sock


def config(host: str, port: int, workers: int) -> AtlasConfig:
    trusted = get_settings().trusted_proxies.strip()
    return AtlasConfig(
        f"{NAME}.main:create_app",  # the workers import the package by the name it runs as
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=BoundedHttpToolsProtocol,
        server_header=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=get_settings().keep_alive_timeout,
    )


def serve(host: str, port: int, workers: int) -> None:
    """Serve until stopped, with the open-files limit raised first (workers inherit it)."""
    before, limit = raise_open_files_limit()
    settings = config(host, port, workers)
    raised = f" (raised from {before})" if limit > before else ""
    logger.info(
        "Open files: %d%s; up to %d connections per worker (%d kept for the database,"
        " files and refusals); request heads within %g s",
        limit, raised, settings.limits.max_connections, file_margin(get_settings()),
        settings.limits.head_timeout,
    )  # fmt: skip
    server = uvicorn.Server(settings)
    if workers > 1:
        sock = settings.bind_socket()
        Multiprocess(settings, sockets=[sock]).run()
    else:
        server.run()


@contextmanager
def start_up_frozen() -> Iterator[None]:
    """Every object alive after start-up (the app, its routes and schemas, the modules,
    the engines) out of the cyclic collector's reach while the server runs.

    The collector's full passes walked all of them: 88-126 ms each, every 1.2-1.5 s under
    load and now and then when idle, and every request in flight waited (a cheap request
    beside heavy ones: p99 105 ms, max 134; with them frozen, 23 and 26). Unfrozen at
    shut-down, so an app made and closed in one process (the tests) can be collected; left
    alone when something else froze objects already."""
    if gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
