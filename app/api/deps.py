"""Dependencies shared by the routers: the database connection and the settings."""

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.errors import ParameterError, ProblemError

RETRY_AFTER_SECONDS = "2"
T = TypeVar("T")
_UNLIMITED = anyio.CapacityLimiter(1000)  # the real bound is the per-app db_limiter


def unavailable(why: str) -> ProblemError:
    return ProblemError(
        503, "service-unavailable", why, headers={"Retry-After": RETRY_AFTER_SECONDS}
    )


async def in_database(request: Request, work: Callable[[Connection], T]) -> T:
    """Run `work` with a pooled connection in one worker thread: a request makes one thread
    hop however many statements it runs (a sync dependency plus a sync endpoint made three).

    At most `db_threads` requests use the database at once. CPython's sqlite3 releases and
    retakes the GIL for every row it steps, so many threads querying at once convoy on the
    GIL: measured with wrk at 32 connections, 40 threads gave 72 req/s, 3 gave 366 and 1
    gave 666 on the same query. Waiting for a slot is bounded by the pool timeout; past it
    the answer is 503 with Retry-After.
    """
    engine: Engine = request.app.state.engine
    limiter: anyio.CapacityLimiter = request.app.state.db_limiter
    timeout: float = request.app.state.settings.pool_timeout
    acquired = False
    with anyio.move_on_after(timeout):
        await limiter.acquire()
        acquired = True
    if not acquired:
        raise unavailable("the database is busy; retry shortly")

    def run() -> T:
        try:
            connection = engine.connect()
        except PoolTimeout:
            raise unavailable("all database connections are busy; retry shortly") from None
        except DBAPIError:
            raise unavailable("the database is unreachable; retry shortly") from None
        with connection:
            return work(connection)

    try:
        return await anyio.to_thread.run_sync(run, limiter=_UNLIMITED)
    finally:
        limiter.release()


async def no_query_parameters(request: Request) -> None:
    """Detail endpoints take no query parameters; an unexpected one is a 400, not ignored.
    (Async on purpose: FastAPI runs a plain `def` dependency in the thread pool.)"""
    names = sorted({key for key, _ in request.query_params.multi_items()})
    if names:
        raise ProblemError(
            400,
            "unknown-parameter",
            f"unknown query parameter(s) {', '.join(map(repr, names))}; this endpoint takes none",
            [ParameterError(name, "not a parameter of this endpoint") for name in names],
        )
