"""Dependencies shared by the routers: the database connection and the settings."""

from collections.abc import Callable, Hashable
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.errors import ParameterError, ProblemError
from app.query.budget import BudgetExceeded, Lane, Lanes, deadline, overran

RETRY_AFTER_SECONDS = "2"
T = TypeVar("T")
_UNLIMITED = anyio.CapacityLimiter(1000)  # the real bounds are the lanes' limiters


def unavailable(why: str) -> ProblemError:
    return ProblemError(
        503, "service-unavailable", why, headers={"Retry-After": RETRY_AFTER_SECONDS}
    )


def too_expensive(budget_ms: int, cost: str | None) -> ProblemError:
    detail = f"the query ran past its {budget_ms} ms budget and was stopped"
    if cost:
        detail += (
            f" ({cost}). Narrow it with a selective filter (an indicator, a place, a year),"
            " or sort by a field an equality filter fixes the rest of"
        )
    return ProblemError(422, "query-too-expensive", detail)


async def in_database(
    request: Request,
    work: Callable[[Connection], T],
    *,
    shape: Hashable | None = None,
    cost: str | None = None,
) -> T:
    """Run `work` with a pooled connection in one worker thread, under a time budget.

    The work runs in the fast lane first; if it overruns the fast budget it runs again, from
    the start, in the slow lane (reads are idempotent), and `shape` is remembered as heavy.
    Past the slow lane's budget the answer is 422 naming `cost` (the filters and sort).
    """
    lanes: Lanes = request.app.state.lanes
    lane = lanes.first_lane(shape)
    if lane is lanes.fast:
        try:
            return await _run(request, lane, work)
        except BudgetExceeded:
            lanes.remember(shape)
    try:
        return await _run(request, lanes.slow, work)
    except BudgetExceeded:
        raise too_expensive(int(lanes.slow.budget * 1000), cost) from None


async def _run(request: Request, lane: Lane, work: Callable[[Connection], T]) -> T:
    """`work` on a connection of `lane`, in a worker thread.

    At most the lane's limiter's worth of requests use its connections at once. CPython's
    sqlite3 releases and retakes the GIL for every row it steps, so many threads querying
    at once convoy on the GIL: measured with wrk at 32 connections, 40 threads gave 72
    req/s, 3 gave 366 and 1 gave 666 on the same query. Waiting for a slot is bounded by the
    pool timeout; past it the answer is 503 with Retry-After.
    """
    timeout: float = request.app.state.settings.pool_timeout
    acquired = False
    with anyio.move_on_after(timeout):
        await lane.limiter.acquire()
        acquired = True
    if not acquired:
        raise unavailable("the database is busy; retry shortly")

    def run() -> T:
        try:
            connection = lane.engine.connect()
        except PoolTimeout:
            raise unavailable("all database connections are busy; retry shortly") from None
        except DBAPIError:
            raise unavailable("the database is unreachable; retry shortly") from None
        with connection, deadline(connection, lane.budget):
            try:
                return work(connection)
            except DBAPIError as error:  # a statement run through SQLAlchemy rather than fetch
                if overran(error.orig):
                    raise BudgetExceeded from error
                raise

    try:
        return await anyio.to_thread.run_sync(run, limiter=_UNLIMITED)
    finally:
        lane.limiter.release()


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
