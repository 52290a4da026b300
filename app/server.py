"""Running the API under uvicorn, single- or multi-process.

uvicorn's multi-process path binds the listening socket itself with `proto=0`; sockets
accepted from it then report proto 0, asyncio skips TCP_NODELAY, and every keep-alive
response waits ~40 ms for the client's delayed ACK (uvicorn issue #3149, still present in
0.54). `AtlasConfig` binds with IPPROTO_TCP, which is all it takes.
"""

import logging
import socket

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from app.config import get_settings
from app.errors import PROBLEM_MEDIA_TYPE, problem_body

logger = logging.getLogger("uvicorn.error")

MAX_TARGET_BYTES = 8 * 1024  # the request target: path and query string
MAX_HEADER_BYTES = 16 * 1024  # the whole head: request line and header fields
REASONS = {400: b"Bad Request", 414: b"URI Too Long", 431: b"Request Header Fields Too Large"}
LINGER_BYTES = 1024 * 1024
LINGER_SECONDS = 2.0


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a cap on the request head.

    httptools buffers a request line or header of any length (a 1 MB header was answered
    200), and uvicorn's `h11_max_incomplete_event_size` applies only to h11. Here a head
    whose target exceeds MAX_TARGET_BYTES is answered 414, one whose fields exceed
    MAX_HEADER_BYTES 431, each with a problem document, and the connection closes. A head
    still incomplete is measured by the bytes received for it, so memory per connection
    stays bounded by the cap plus one read.

    Closing while the client is still sending makes the kernel answer with a reset, which
    can destroy the response before the client reads it; so the refusal half-closes, reads
    and discards up to LINGER_BYTES for at most LINGER_SECONDS, then closes (a lingering
    close, as nginx does).
    """

    _received = 0  # bytes received since the current head began
    _fields = 0  # bytes of header fields parsed in the current head
    _in_head = True
    _lingering = False

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._received += len(data)
            if self._received > LINGER_BYTES:
                self.transport.close()
            return
        if self._in_head:
            self._received += len(data)
        super().data_received(data)
        if self._in_head and not self._lingering and not self.transport.is_closing():
            self._check_head(self._received)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._fields = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._fields += len(name) + len(value) + 4

    def on_headers_complete(self) -> None:
        if self._lingering:
            return
        self._in_head = False
        self._received = 0
        if not self._check_head(len(self.url) + self._fields):
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._lingering:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._lingering:
            return
        super().on_message_complete()
        self._in_head = True

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse, as a problem document too."""
        self._refuse(400, "the request is not valid HTTP/1.1", kind="malformed-request")

    def _check_head(self, size: int) -> bool:
        """Refuse the request if its head is over a cap; say whether it was refused."""
        if len(self.url) > MAX_TARGET_BYTES:
            self._refuse(414, f"the request target exceeds {MAX_TARGET_BYTES} bytes")
        elif size > MAX_HEADER_BYTES:
            self._refuse(431, f"the request line and headers exceed {MAX_HEADER_BYTES} bytes")
        else:
            return False
        return True

    def _refuse(self, status: int, detail: str, kind: str = "request-too-large") -> None:
        self.logger.warning("Refused a request: %s", detail)
        path = self.url.split(b"?", 1)[0][:200].decode("ascii", "replace") or "/"
        body = problem_body(status=status, kind=kind, detail=detail, instance=path)
        reason = REASONS[status]
        head = [b"HTTP/1.1 %d %s\r\n" % (status, reason)]
        head += [
            name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
        ]
        head += [
            b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n",
            b"content-length: %d\r\n" % len(body),
            b"x-content-type-options: nosniff\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join([*head, body]))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._lingering = True
        self._received = 0
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


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
    trusted = get_settings().trusted_proxies.strip()
    return AtlasConfig(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=BoundedHttpToolsProtocol,
        server_header=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
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
