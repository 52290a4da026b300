"""Running the API under uvicorn, single- or multi-process.

uvicorn's multi-process path binds the listening socket itself with `proto=0`; sockets
accepted from it then report proto 0, asyncio skips TCP_NODELAY, and every keep-alive
response waits ~40 ms for the client's delayed ACK (uvicorn issue #3149, still present in
0.54). `AtlasConfig` binds with IPPROTO_TCP, which is all it takes.
"""

import logging
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

logger = logging.getLogger("uvicorn.error")

MAX_HEADER_BYTES = 16 * 1024


class AtlasConfig(uvicorn.Config):
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
    return AtlasConfig(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        server_header=False,
        proxy_headers=False,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=15,
    )


def serve(host: str, port: int, workers: int) -> None:
    settings = config(host, port, workers)
    server = uvicorn.Server(settings)
    if workers > 1:
        sock = settings.bind_socket()
        Multiprocess(settings, sockets=[sock]).run()
    else:
        server.run()
