"""The HTTP protocol each worker speaks: uvicorn's httptools protocol with bounds on what
one connection can hold (head size, head and send time, the connection cap), refusals
answered with a problem document. app.server fixes the limits and runs uvicorn with it."""

import contextlib
import fcntl
import logging
import socket
import struct
import sys
import termios
from asyncio import TimerHandle, Transport
from typing import Any

import uvicorn
from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from .config import get_settings
from .errors import PROBLEM_MEDIA_TYPE, problem_body
from .limits import (
    RECLAIM_IDLE_SECONDS,
    REFUSAL_LINGER_SECONDS,
    REFUSALS_LINGERING,
    RETRY_AFTER_SECONDS,
    ConnectionLimits,
    connection_limits,
)

logger = logging.getLogger("uvicorn.error")

MAX_TARGET_BYTES = 8 * 1024  # the request target: path and query string
MAX_HEADER_BYTES = 16 * 1024  # the whole head: request line and header fields
REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
}
LINGER_BYTES = 1024 * 1024
LINGER_SECONDS = 2.0


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounds on what one connection can hold.

    Size. httptools buffers a request line or header of any length (a 1 MB header was
    answered 200), and uvicorn's `h11_max_incomplete_event_size` applies only to h11. Here a
    head whose target exceeds MAX_TARGET_BYTES is answered 414, one whose fields exceed
    MAX_HEADER_BYTES 431, each with a problem document, and the connection closes. A head
    still incomplete is measured by the bytes received for it, so memory per connection
    stays bounded by the cap plus one read.

    Time. uvicorn arms its keep-alive timer only after a response, and cancels it on the
    first byte of the next head, so a connection that sends nothing, or half a head, is held
    forever. Here the head must be complete within `head_timeout`, counted from accept and
    then from the first byte of each later head: past it a partial head is answered 408, a
    silent connection closed. A response the client stops reading (the transport's buffer
    over its high-water mark) may stall for `send_timeout`; then the connection is reset.
    The keep-alive idle timeout stays uvicorn's.

    Count. A connection beyond `max_connections` takes the place of the longest-idle
    keep-alive connection, if one has been idle a second (as nginx reuses idle
    connections when it runs out); otherwise it is
    answered 503 with Retry-After at once, before it sends anything, instead of the worker
    running out of open files and failing everyone.

    Closing while the client is still sending makes the kernel answer with a reset, which
    can destroy the response before the client reads it; so a refusal half-closes, reads
    and discards up to LINGER_BYTES for at most LINGER_SECONDS, then closes (a lingering
    close, as nginx does).
    """

    url = b""  # uvicorn sets it when a head begins
    _received = 0  # bytes received since the current head began
    _fields = 0  # bytes of header fields parsed in the current head
    _in_head = True
    _lingering = False
    _head_timer: TimerHandle | None = None
    _stall_timer: TimerHandle | None = None
    _running: RequestResponseCycle | None = None  # the request being answered
    # Class-wide, as there is one server per process; oldest first. Refused connections
    # still open, and keep-alive connections idle between requests.
    refusals_lingering: dict["BoundedHttpToolsProtocol", None] = {}
    idle: dict["BoundedHttpToolsProtocol", float] = {}  # when each became idle

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        if isinstance(limits := getattr(config, "limits", None), ConnectionLimits):
            self.limits = limits  # fixed by app.server before the workers started
        else:
            self.limits = connection_limits(get_settings())

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            reclaimed = self._longest_idle()
            if reclaimed is not None:  # as nginx does: an idle client can reconnect
                self.idle.pop(reclaimed)
                reclaimed.connections.discard(reclaimed)
                reclaimed._close()
            else:
                self.connections.discard(self)
                self._refuse_busy()
                return
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disconnect_cycles()
        self._cancel_timers()
        self.refusals_lingering.pop(self, None)
        self.idle.pop(self, None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.idle.pop(self, None)
        if self._lingering:
            self._received += len(data)
            if self._received > LINGER_BYTES:
                self._close()
            return
        if self._in_head:
            self._received += len(data)
            self._start_head_timer()
        super().data_received(data)
        if self._in_head and not self._lingering and not self.transport.is_closing():
            self._check_head(self._received)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._fields = 0
        self._start_head_timer()

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._fields += len(name) + len(value) + 4

    def on_headers_complete(self) -> None:
        if self._lingering:
            return
        self._in_head = False
        self._received = 0
        self._cancel_head_timer()
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

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._stall_timer is None:
            self._stall_timer = self.loop.call_later(self.limits.send_timeout, self._stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # nothing more asked: idle
            self.idle[self] = self.loop.time()

    def timeout_keep_alive_handler(self) -> None:
        if not self.transport.is_closing():
            self._close()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._lingering or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._start_head_timer()  # the client waits on us: its next head is not late
            return
        if self._received:
            timeout = self.limits.head_timeout
            self._refuse(
                408, f"the request head did not arrive within {timeout:g} s", "request-timeout"
            )
        else:
            self._close()

    def _stalled(self) -> None:
        self._stall_timer = None
        self.logger.warning(
            "Reset a connection whose client read nothing for %g s", self.limits.send_timeout
        )
        self._reset()

    def _check_head(self, size: int) -> bool:
        """Refuse the request if its head is over a cap; say whether it was refused."""
        if len(self.url) > MAX_TARGET_BYTES:
            self._refuse(
                414, f"the request target exceeds {MAX_TARGET_BYTES} bytes", "uri-too-long"
            )
        elif size > MAX_HEADER_BYTES:
            self._refuse(431, f"the request line and headers exceed {MAX_HEADER_BYTES} bytes")
        else:
            return False
        return True

    def _refuse(self, status: int, detail: str, kind: str = "request-too-large") -> None:
        self.logger.warning("Refused a request: %s", detail)
        self._cancel_head_timer()
        path = self.url.split(b"?", 1)[0][:200].decode("ascii", "replace") or "/"
        self.transport.write(self._problem(status, kind, detail, path))
        self._linger(LINGER_SECONDS)

    def _longest_idle(self) -> "BoundedHttpToolsProtocol | None":
        """The keep-alive connection idle longest, if for RECLAIM_IDLE_SECONDS at least: a
        client between two requests in quick succession keeps its connection in a flood."""
        oldest = next(iter(self.idle.items()), None)
        if oldest is None or self.loop.time() - oldest[1] < RECLAIM_IDLE_SECONDS:
            return None
        return oldest[0]

    def _refuse_busy(self) -> None:
        """Answer a connection over the cap before it sends anything. Only so many refusals
        linger at once: the oldest, which has had longest to read its answer, is closed to
        make room, so a flood cannot turn every refusal into a reset."""
        detail = f"the server holds its maximum of {self.limits.max_connections} connections"
        retry = (b"retry-after", b"%d" % RETRY_AFTER_SECONDS)
        self.transport.write(self._problem(503, "server-busy", detail, "/", retry))
        if len(self.refusals_lingering) >= REFUSALS_LINGERING:
            oldest = next(iter(self.refusals_lingering))
            del self.refusals_lingering[oldest]
            oldest._close()
        self.refusals_lingering[self] = None
        self._linger(REFUSAL_LINGER_SECONDS)

    def _problem(
        self, status: int, kind: str, detail: str, path: str, *extra: tuple[bytes, bytes]
    ) -> bytes:
        body = problem_body(status=status, kind=kind, detail=detail, instance=path)
        headers = [
            *self.server_state.default_headers,
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", b"%d" % len(body)),
            (b"x-content-type-options", b"nosniff"),
            *extra,
            (b"connection", b"close"),
        ]
        head = [b"HTTP/1.1 %d %s\r\n" % (status, REASONS[status])]
        head += [name + b": " + value + b"\r\n" for name, value in headers]
        return b"".join([*head, b"\r\n", body])

    def _linger(self, seconds: float) -> None:
        """Half-close after a refusal and discard what still arrives, then close."""
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._lingering = True
        self._received = 0
        self.loop.call_later(seconds, self._close)

    def _close(self) -> None:
        """Close; reset instead if unsent bytes remain. A graceful close would wait for a
        client that reads nothing: for good with bytes in our buffer, and with up to a few
        hundred KB in the kernel's until it gives up on the orphaned socket."""
        if self.transport.is_closing():  # closed meanwhile (a lingering close's timer)
            return
        if self.transport.get_write_buffer_size() or self._kernel_unsent():
            self._reset()
        else:
            self.transport.close()

    def _reset(self) -> None:
        """Close with a reset (SO_LINGER of zero): the kernel drops what it still holds for
        the client at once, where a plain close would leave it queued behind a FIN."""
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._disconnect_cycles()  # before abort() wakes a send waiting to drain
        self.transport.abort()

    def _kernel_unsent(self) -> int:
        sock = self.transport.get_extra_info("socket")
        if sock is None:
            return 0
        try:
            unsent = bytearray(4)
            fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, unsent)
        except OSError:
            return 0
        return int.from_bytes(unsent, sys.byteorder)

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        self._running = cycle
        super()._start_asgi_task(cycle, app)

    def _disconnect_cycles(self) -> None:
        """uvicorn marks only the latest request's cycle disconnected when a connection is
        lost; with pipelining the one still answering is an earlier one, whose next write
        would then fail on the closed transport (uvloop raises)."""
        for cycle in (self.cycle, self._running):
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True

    def _start_head_timer(self) -> None:
        """Count from the first byte of a later head; a new connection counts from accept."""
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
