"""One client holding connections to a server, as an attacker with one laptop would, and a
prober making normal requests meanwhile. Used by tests/test_server.py with small numbers and
by bench/abuse.py at full size.

Kinds of held connection:
- `silent`: connects and sends nothing;
- `half`: sends half a request head and nothing more;
- `flood`: connects and waits to see what the server says (the flood beyond the cap);
- `slow`: requests a page and never reads a byte of the answer.

The first three are read, so the server's answer and its close are seen as they happen. A
slow reader must not read, so its close is seen in the socket's TCP state instead: the
server's reset moves it out of ESTABLISHED even with the answer unread.
"""

import selectors
import socket
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass

HALF_HEAD = b"GET /api/v1/cities HTTP/1.1\r\nHost: x\r\n"
TCP_ESTABLISHED = 1
CONNECT_SECONDS = 5.0

Address = tuple[str, int]


@dataclass
class Held:
    kind: str
    sock: socket.socket | None
    opened: float
    closed: float | None = None
    answer: bytes = b""  # the first bytes the server sent
    failed: str | None = None  # why the connection could not be opened

    @property
    def status(self) -> int | None:
        if not self.answer.startswith(b"HTTP/1.1 "):
            return None
        return int(self.answer[9:12])

    def held_for(self, now: float) -> float:
        return (self.closed or now) - self.opened


def open_many(
    address: Address, kind: str, count: int, payload: bytes = b"", *, rcvbuf: int = 0
) -> list[Held]:
    """Open `count` connections at once (non-blocking connects, so a server that has stopped
    accepting costs seconds, not one timeout per connection) and send each the payload."""
    held = []
    for _ in range(count):
        sock = socket.socket()
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        held.append(Held(kind, sock, time.monotonic()))
        sock.connect_ex(address)
    pending: dict[socket.socket, Held] = {h.sock: h for h in held if h.sock is not None}
    with selectors.DefaultSelector() as selector:
        for waiting in pending:
            selector.register(waiting, selectors.EVENT_WRITE)
        deadline = time.monotonic() + CONNECT_SECONDS
        while pending and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.1):
                selector.unregister(key.fileobj)
                connected = key.fileobj
                assert isinstance(connected, socket.socket)
                h = pending.pop(connected)
                error = connected.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    _failed(h, OSError(error, "connect failed"))
    for h in pending.values():
        _failed(h, TimeoutError("connect timed out"))
    for h in held:
        if h.sock is not None and payload:
            try:
                h.sock.sendall(payload)
            except OSError as exc:
                _failed(h, exc)
    return held


def _failed(held: Held, exc: OSError) -> None:
    assert held.sock is not None
    held.sock.close()
    held.sock = None
    held.closed = time.monotonic()
    held.failed = type(exc).__name__


def tcp_state(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


class Watcher(threading.Thread):
    """Notes when the server answers and closes each held connection, until stopped."""

    def __init__(self, held: list[Held]) -> None:
        super().__init__(daemon=True)
        self.held = [h for h in held if h.sock is not None]
        self._halt = threading.Event()

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        unread = []
        for h in self.held:
            assert h.sock is not None
            if h.kind == "slow":
                unread.append(h)
            else:
                h.sock.setblocking(False)
                selector.register(h.sock, selectors.EVENT_READ, h)
        while not self._halt.is_set():
            for key, _ in selector.select(timeout=0.1):
                h = key.data
                try:
                    data = h.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    h.answer = (h.answer + data)[:4096]
                else:
                    h.closed = time.monotonic()
                    selector.unregister(h.sock)
            for h in [h for h in unread if tcp_state(h.sock) != TCP_ESTABLISHED]:  # type: ignore[arg-type]
                h.closed = time.monotonic()
                unread.remove(h)
        selector.close()

    def stop(self) -> None:
        self._halt.set()
        self.join()
        for h in self.held:
            assert h.sock is not None
            h.sock.close()


@dataclass
class Probe:
    started: float
    seconds: float
    status: int | None  # None: no answer (reset, closed, timed out)
    error: str | None = None


def normal_request(address: Address, target: str = "/api/v1/cities?limit=5") -> Probe:
    """One request on a new connection, as a client that knows nothing of the attack."""
    started = time.monotonic()
    request = f"GET {target} HTTP/1.1\r\nHost: atlas\r\nConnection: close\r\n\r\n".encode()
    try:
        with socket.create_connection(address, timeout=5) as sock:
            sock.sendall(request)
            received = b""
            while data := sock.recv(65536):
                received += data
    except OSError as exc:
        return Probe(started, time.monotonic() - started, None, type(exc).__name__)
    seconds = time.monotonic() - started
    if not received.startswith(b"HTTP/1.1 "):
        return Probe(started, seconds, None, "no answer")
    return Probe(started, seconds, int(received[9:12]))


class Prober(threading.Thread):
    """Normal requests one after another, `interval` apart, until stopped."""

    def __init__(self, address: Address, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.address = address
        self.interval = interval
        self.probes: list[Probe] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.probes.append(normal_request(self.address))
            self._halt.wait(self.interval)

    def stop(self) -> list[Probe]:
        self._halt.set()
        self.join()
        return self.probes


@dataclass(frozen=True)
class ProbeSummary:
    requests: int
    ok: int
    statuses: dict[str, int]
    p50_ms: float
    p99_ms: float

    @property
    def ok_share(self) -> float:
        return self.ok / self.requests if self.requests else 0.0


def summarise(probes: list[Probe]) -> ProbeSummary:
    """Statuses of all, latency of those answered (a refused connection is fast, not good)."""
    statuses = Counter(str(p.status) if p.status else (p.error or "none") for p in probes)
    times = sorted(p.seconds * 1000 for p in probes if p.status is not None)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] if times else float("nan")
    return ProbeSummary(
        len(probes),
        sum(1 for p in probes if p.status == 200),
        dict(statuses),
        statistics.median(times) if times else float("nan"),
        p99,
    )
