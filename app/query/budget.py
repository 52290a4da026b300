"""A time budget for every statement, and two lanes so slow work cannot starve fast work.

Every request first runs in the fast lane under a short budget. Work that overruns it is
stopped by the engine (SQLite: a progress handler that interrupts past the deadline;
PostgreSQL: `statement_timeout` on the lane's connections) and run again in the slow lane,
which has its own threads and connections and the full budget; past that the request is
refused with a problem that names what made it expensive. A query shape that once overran
the fast budget goes straight to the slow lane next time, so a client repeating an
expensive URL never occupies the fast lane again.

On SQLite a third lane, the inline one, runs a shape seen to finish well inside a few
milliseconds (a quarter of its budget, in the fast lane's CPU time) on the event loop's
own thread, on a connection of its own: no thread hop, which was the largest Python cost
of a cheap request (docs/performance.md). Its budget is that of one such request, so a
shape that turns slow (another value, a cold page cache) holds the loop no longer than
that before it is stopped, forgotten as quick and run again in the fast lane. PostgreSQL
has none: its statements wait on the network, and a server that stops answering would
hold the loop for as long.
"""

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import Connection, Engine, event

SQLITE_CHECK_EVERY = 1000  # virtual machine instructions between deadline checks (~10 us)
_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement stopped by its timeout


class BudgetExceeded(Exception):
    """The statement ran past the lane's time budget and was stopped by the engine."""


@dataclass
class _Deadline:
    at: float | None = None

    def passed(self) -> int:
        return 1 if self.at is not None and time.monotonic() > self.at else 0


def watch_sqlite(engine: Engine) -> None:
    """Give every SQLite connection of `engine` a deadline its statements are stopped at."""

    @event.listens_for(engine, "connect")
    def _install(dbapi_connection: Any, record: Any) -> None:
        deadline = _Deadline()
        record.info["deadline"] = deadline
        dbapi_connection.set_progress_handler(deadline.passed, SQLITE_CHECK_EVERY)


def watch_statements(engine: Engine) -> None:
    """Check every connection's deadline before each statement. The engine stops one
    statement (PostgreSQL's statement_timeout; SQLite's progress handler, which runs only
    every 1,000 steps); this bounds a request of many statements, each under the budget (a
    place's standings on every indicator, 6.6 s on PostgreSQL at 3M rows before), which
    stops at the first statement that would start past the deadline."""

    @event.listens_for(engine, "connect")
    def _install(dbapi_connection: Any, record: Any) -> None:
        record.info.setdefault("deadline", _Deadline())  # SQLite's, when watched already

    @event.listens_for(engine, "before_cursor_execute")
    def _check(connection: Connection, *_: Any) -> None:
        holder = connection.connection.info.get("deadline")
        if isinstance(holder, _Deadline) and holder.passed():
            raise BudgetExceeded


@contextmanager
def deadline(connection: Connection, seconds: float) -> Iterator[None]:
    """Statements on `connection` inside the block stop `seconds` from now (SQLite: the
    progress handler interrupts the running statement; PostgreSQL: no statement starts
    past it, and the lane's statement_timeout stops the one running)."""
    holder = connection.connection.info.get("deadline")
    if not isinstance(holder, _Deadline):
        yield
        return
    holder.at = time.monotonic() + seconds
    try:
        yield
    finally:
        holder.at = None


def overran(error: BaseException | None) -> bool:
    """Whether a driver error is the engine stopping a statement at its budget."""
    if isinstance(error, sqlite3.OperationalError):
        return str(error) == "interrupted"
    return getattr(error, "sqlstate", None) == _QUERY_CANCELED


@dataclass
class Lane:
    name: str
    engine: Engine
    limiter: anyio.CapacityLimiter
    budget: float  # seconds


@dataclass
class Lanes:
    """The fast and slow lanes (and on SQLite the inline one), the query shapes lately seen
    to overrun the fast budget (for `forget_after` seconds: a shape is heavy for some
    values, or was slowed by a stall, and should not be sent to the single slow thread for
    the life of the process), and the shapes seen quick enough to read inline (until one
    overruns there or is found heavy)."""

    fast: Lane
    slow: Lane
    inline: Lane | None = None
    remembered: int = 1024
    forget_after: float = 60.0
    _heavy: OrderedDict[Hashable, float] = field(default_factory=OrderedDict)
    _quick: OrderedDict[Hashable, None] = field(default_factory=OrderedDict)
    _suspect: OrderedDict[Hashable, bool] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inline_lane(self, shape: Hashable | None) -> Lane | None:
        """The inline lane, if `shape` has been seen to finish inside its budget."""
        return self.inline if shape is not None and shape in self._quick else None

    def took(self, shape: Hashable | None, seconds: float) -> None:
        """A read of `shape` in the fast lane took `seconds` of its thread's CPU (its SQL
        and its Python, not the waits for the GIL that inflate its wall time under load).
        A quarter of the inline budget makes it quick: a shape near the budget would
        otherwise be learned and stopped in turn, wasting the budget every other time."""
        if shape is None or self.inline is None or seconds >= self.inline.budget / 4:
            return
        with self._lock:
            self._quick[shape] = None
            self._quick.move_to_end(shape)
            while len(self._quick) > self.remembered:
                self._quick.popitem(last=False)

    def weigh(self, shape: Hashable | None, seconds: float) -> None:
        """A shape whose reads held a fast-lane thread for a tenth of the fast budget or
        more (its thread's CPU: 10 ms, what a cheap request queued behind it may wait) twice
        in a row is heavy: the slow lane reads it next (for `forget_after`), as if it had
        overrun. The fast lane's thread is for reads that finish quickly: with the heavy
        shapes of the starvation check at 40-90 ms each, under the budget, a cheap request
        queued behind them (p50 150 ms, p99 224-250); once a quarter of the budget was
        heavy, those shapes got faster (20-40 ms), stayed in the fast lane, and it did again
        (p50 117-162 ms, p99 215-249; a tenth: p50 5.0-6.7, p99 17.5-22.6).
        One long read is not enough: a shape's first read compiles its statements, and any
        read may pay for a garbage collection, so a quick list was sent to the single slow
        thread for a minute after one such read. A shape names the page size and
        `count=true` (app.api.routing.budget_terms), so a page of 500 found heavy leaves
        the same list's pages of 10 in the fast lane. On PostgreSQL the thread's CPU leaves
        out the server's work: only an overrun moves a read whose time is spent there."""
        if shape is None:
            return
        heavy = seconds >= self.fast.budget / 10
        with self._lock:
            once = self._suspect.pop(shape, False)
            if heavy and not once:
                self._suspect[shape] = True
                while len(self._suspect) > self.remembered:
                    self._suspect.popitem(last=False)
        if heavy and once:
            self.remember(shape)

    def not_quick(self, shape: Hashable | None) -> None:
        """`shape` overran the inline budget: it runs in the fast lane until seen quick again."""
        with self._lock:
            self._quick.pop(shape, None)

    def first_lane(self, shape: Hashable | None) -> Lane:
        if shape is None:
            return self.fast
        seen = self._heavy.get(shape)
        return (
            self.slow
            if seen is not None and time.monotonic() - seen < self.forget_after
            else self.fast
        )

    def remember(self, shape: Hashable | None) -> None:
        if shape is None:
            return
        with self._lock:
            self._quick.pop(shape, None)
            self._heavy[shape] = time.monotonic()
            self._heavy.move_to_end(shape)
            while len(self._heavy) > self.remembered:
                self._heavy.popitem(last=False)

    def dispose(self) -> None:
        for lane in (self.fast, self.slow, self.inline):
            if lane is not None:
                lane.engine.dispose()
