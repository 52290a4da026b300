"""Running a read on a lane's connection: in a worker thread (a request makes one hop
however many statements it runs) or, for a quick shape on SQLite, on the event loop's own
thread; under the lane's time budget; once more when the database failed in a way a second
attempt cures; and a database's failure told apart from the request's (a 503, never a 500).
Which lane a read takes is app.api.reads' choice."""

import logging
import time
import traceback
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..db import roll_back_hot_journal
from ..errors import ProblemError
from ..faults import is_database_fault, is_hot_journal
from ..query.budget import BudgetExceeded, Lane, deadline, overran
from ..query.snapshot import close_snapshot

RETRY_AFTER_SECONDS = "2"
T = TypeVar("T")
_UNLIMITED = anyio.CapacityLimiter(1000)  # the real bounds are the lanes' limiters
logger = logging.getLogger("atlas")


def unavailable(why: str) -> ProblemError:
    return ProblemError(
        503, "service-unavailable", why, headers={"Retry-After": RETRY_AFTER_SECONDS}
    )


class NodeFault(Exception):
    """The database failed the read (app.faults): the node is skipped for the next one,
    and with none left the answer is a 503 saying `why`."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def let_go(overrun: BaseException) -> None:
    """Clear the frames an overrun's traceback holds. They keep the stopped statement's
    cursor alive in a reference cycle until the cyclic collector runs, and on SQLite a live
    statement holds the file's read lock: `atlas load` failed with "database is locked"
    while a server sat idle after a detail request had overrun its fast budget."""
    error: BaseException | None = overrun
    while error is not None:
        traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__


async def run_in_lane(
    request: Request, lane: Lane, work: Callable[[Connection], T], *, inline: Lane | None = None
) -> T:
    """`work` on a connection of `lane`, in a worker thread: a request makes one thread hop
    however many statements it runs. With `inline`, it runs on the event loop's thread
    instead, on the inline lane's connection, in one attempt; a database fault is Declined.

    At most the lane's limiter's worth of requests use its connections at once. CPython's
    sqlite3 releases and retakes the GIL for every row it steps, so many threads querying
    at once convoy on the GIL: measured with wrk at 32 connections, 40 threads gave 72
    req/s, 3 gave 366 and 1 gave 666 on the same query. Waiting for a slot is bounded by the
    pool timeout; past it the answer is 503 with Retry-After.

    An inline read takes one of the lane's slots too, so it never runs beside the lane's
    thread (whose every row would wait for the GIL), and it waits its turn in the same
    queue. Read one after another as they arrived, with no wait between, requests were
    answered out of order: q3 at 32 connections had a p99 five times its p50 (123-316 ms
    against 25-37 ms) while the app took 1.2 ms at its p99.
    """
    timeout: float = request.app.state.settings.pool_timeout
    acquired = False
    with anyio.move_on_after(timeout):
        await lane.limiter.acquire()
        acquired = True
    if not acquired:
        raise unavailable("the database is busy; retry shortly")
    try:
        if inline is not None:
            return _guarded(inline, work, inline=True)
        return await anyio.to_thread.run_sync(partial(_guarded, lane, work), limiter=_UNLIMITED)
    finally:
        lane.limiter.release()


class Declined(Exception):
    """The inline lane met a fault (a locked file, one to recover, a lost connection): the
    fast lane reads again, waiting and recovering in its thread as it always does."""


def _budgeted(lane: Lane, work: Callable[[Connection], T], connection: Connection) -> T:
    with deadline(connection, lane.budget):
        try:
            return work(connection)
        except DBAPIError as error:  # a statement run through SQLAlchemy, not fetch
            if overran(error.orig):
                raise BudgetExceeded from error
            raise


def _guarded(lane: Lane, work: Callable[[Connection], T], *, inline: bool = False) -> T:
    """`work` on a connection of `lane` under the lane's budget, in the calling thread:
    past the budget it raises BudgetExceeded, and a database fault is a NodeFault. Inline,
    one attempt and a fault is Declined: the fast lane then retries and recovers in its
    thread. The inline connection does not wait for a lock (busy_timeout 0, app.main), so
    nothing but its budget holds the loop."""
    attempt = _attempt if inline else read
    try:
        return attempt(lane.engine, partial(_budgeted, lane, work))
    except BudgetExceeded:
        raise
    except Exception as error:
        # The lane's statement_timeout also bounds the pool's liveness ping: on a loaded
        # server a ping past a tiny budget is that budget overrun, not a database fault.
        if overran(getattr(error, "orig", error)):
            raise BudgetExceeded from error
        if is_database_fault(error):
            if inline:
                raise Declined from None
            raise NodeFault(_reason(error)) from None
        raise


def read(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run the read `work` on a pooled connection, once more if the database failed in a
    way a second attempt cures; errors propagate (`in_database` makes faults 503s).

    Reads are idempotent, so a read whose connection died under it (a terminated backend,
    a server restart), wherever that happened (connecting, mid-statement, reading rows),
    runs once more on a fresh connection before anyone sees an error: with PostgreSQL's
    backends terminated five times in 2.5 s under 16 clients, 16 failed answers of 1,957
    (8 x 500, 8 closed unanswered) became none of 1,946. A SQLite file left
    mid-transaction by a dead writer is rolled back to its last commit, then read again.
    """
    try:
        return _attempt(engine, work)
    except Exception as error:
        if not (is_database_fault(error) and _worth_retrying(engine, error)):
            raise
    return _attempt(engine, work)


def _attempt(engine: Engine, work: Callable[[Connection], T]) -> T:
    """`work` on a pooled connection; its transaction ends in a COMMIT whatever it
    answered, a 404 as much as a page (app.query.snapshot.close_snapshot)."""
    with engine.connect() as connection:
        try:
            return work(connection)
        finally:
            close_snapshot(connection)


def _worth_retrying(engine: Engine, error: Exception) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True  # the pool has let go of the dead connection; the next one is new
    return is_hot_journal(error) and roll_back_hot_journal(engine)


_last_logged = 0.0


def _log_fault(error: Exception) -> None:
    """One line per second at most: an outage under load would otherwise log every request
    (1,308 lines in a 2 s PostgreSQL stop)."""
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= 1:
        _last_logged = now
        logger.warning("database unavailable: %s", " ".join(str(error).split())[:300])


def _reason(error: Exception) -> str:
    if isinstance(error, PoolTimeout):
        return "all database connections are busy; retry shortly"
    _log_fault(error)
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return "the connection to the database was lost; retry shortly"
    return "the database is unavailable; retry shortly"
