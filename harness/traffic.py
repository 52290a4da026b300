"""Concurrent readers of a running server, every answer recorded with its moment: the
load under which the fault tests and `bench.faults` break the database."""

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import cycle

import httpx

CLIENTS = 16
PATHS = (
    "/api/v1/cities",
    "/api/v1/metrics?limit=5",
    "/api/v1/places/daye",
    "/api/v1/sources",
    "/api/v1/organizations?limit=3",
    "/api/v1/indicators",
)
CLOSED = "closed without response"


@dataclass
class Tally:
    """Answers with the moment each arrived (monotonic seconds)."""

    answers: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str) -> None:
        with self.lock:
            self.answers.append((time.monotonic(), outcome))

    def counts(self) -> Counter[str]:
        return Counter(outcome for _, outcome in self.answers)

    def between(self, start: float, end: float) -> list[str]:
        return [outcome for moment, outcome in self.answers if start <= moment <= end]

    def last_failure(self) -> float | None:
        failed = [moment for moment, outcome in self.answers if outcome != "200"]
        return max(failed) if failed else None


def outcome_of(client: httpx.Client, path: str) -> str:
    try:
        response = client.get(path)
    except (httpx.RemoteProtocolError, httpx.ReadError):
        return CLOSED
    except httpx.TransportError as exc:
        return type(exc).__name__
    status = str(response.status_code)
    if status == "503" and "retry-after" not in response.headers:
        return "503 without Retry-After"
    if status != "200" and response.headers.get("content-type") != "application/problem+json":
        return f"{status} without a problem document"
    return status


@contextmanager
def traffic(base: str, clients: int = CLIENTS) -> Iterator[tuple[Tally, Tally]]:
    """`clients` readers of the data and one readiness probe, until the block ends."""
    data, ready = Tally(), Tally()
    stop = threading.Event()

    def reader(offset: int) -> None:
        paths = cycle(PATHS[offset % len(PATHS) :] + PATHS[: offset % len(PATHS)])
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                data.add(outcome_of(client, next(paths)))

    def probe() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                ready.add(outcome_of(client, "/readyz"))
                time.sleep(0.05)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(clients)]
    threads.append(threading.Thread(target=probe))
    for thread in threads:
        thread.start()
    try:
        yield data, ready
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def watch_until_quiet(data: Tally, seconds: float = 2.0, limit: float = 30.0) -> None:
    """Keep the traffic going until the last `seconds` brought answers and all were 200
    (or `limit` passes): a server that answers nothing is not quiet."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        time.sleep(0.1)
        now = time.monotonic()
        with data.lock:
            recent = [outcome for moment, outcome in data.answers if now - moment < seconds]
        if now - started > seconds and recent and all(o == "200" for o in recent):
            return
