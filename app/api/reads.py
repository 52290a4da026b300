"""How a request reads: which database node and lane serve it, its time budget, the dataset
version it is pinned to, the snapshot it reads in, and when a failed read is retried."""

import logging
import time
import traceback
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..archives import StillRestoring
from ..db import roll_back_hot_journal
from ..errors import InvalidParameter, ProblemError
from ..faults import is_database_fault, is_hot_journal
from ..nodes import Node, Nodes
from ..query.budget import BudgetExceeded, Lane, deadline, overran
from ..query.cursors import VERSION_DIGITS
from ..query.parsing import unknown_parameters
from ..query.snapshot import open_snapshot
from .history import as_of_problem, published_at, releases, retired

RETRY_AFTER_SECONDS = "2"
T = TypeVar("T")
_UNLIMITED = anyio.CapacityLimiter(1000)  # the real bounds are the lanes' limiters
logger = logging.getLogger("atlas")


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


@dataclass(frozen=True)
class Wanted:
    """The dataset version a read must be answered from, and who asked for it: `cursor` (a
    walk continues at its version), `version` (the client's pin), `as_of` (the release
    current at a date), or None (a request that reads more than once reads one version)."""

    version: str  # the whole version, or its first digits (a cursor's)
    parameter: str | None = None

    def matches(self, version: str | None) -> bool:
        """A cursor names its version by the digits it was issued with
        (app.query.cursors.VERSION_DIGITS), a pin by at least its first 12 digits (the
        middleware refuses fewer: an empty or short prefix matched every version), anything
        else by the whole version."""
        if version is None:
            return False
        if self.parameter == "cursor":
            return version[:VERSION_DIGITS] == self.version
        if self.parameter == "version":
            return version.startswith(self.version)
        return version == self.version


class _NodeFault(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _OtherVersion(Exception):
    """The node's snapshot holds another version than the one wanted."""


def version_gone(wanted: Wanted, served: Iterable[str] = ()) -> ProblemError:
    if wanted.parameter == "cursor":
        why = (
            f"this walk started on dataset version {wanted.version}, which no database"
            " serves any longer (the data was reloaded); restart the walk from the first page"
        )
        return ProblemError(409, "cursor-version-gone", f"cursor: {why}",
                            [InvalidParameter("cursor", why)])  # fmt: skip
    if wanted.parameter in ("version", "as_of"):
        now = ", ".join(sorted(v[:VERSION_DIGITS] for v in served)) or "none"
        why = (
            f"dataset version {wanted.version} is not served by any database now (served:"
            f" {now}); pin one of those, or drop the pin to read the current version"
        )
        return ProblemError(409, "version-gone", f"{wanted.parameter}: {why}",
                            [InvalidParameter(wanted.parameter, why)])  # fmt: skip
    return ProblemError(
        409, "version-gone", "the data was reloaded while this answer was read; repeat the request"
    )


def wanted_version(request: Request) -> Wanted | None:
    """The version this request must read: the one it has read already, else the pin."""
    state = request.scope.get("state", {})
    if "dataset_version" in state:
        return Wanted(state["dataset_version"])
    pinned = state.get("pinned_version")
    return Wanted(pinned, state.get("pinned_by", "version")) if pinned else None


async def in_database(
    request: Request,
    work: Callable[[Connection], T],
    *,
    shape: Hashable | None = None,
    cost: str | None = None,
    version: Wanted | None = None,
) -> T:
    """Run `work` in one snapshot of one database, under a time budget, and record the
    dataset version it read (`request.state.dataset_version`, reported in the response).

    The database is the first fit replica the nodes offer (app.nodes), else the primary; a
    node that fails is skipped for the next one (reads are idempotent), and only when none
    can answer is the request a 503. With a `version` wanted (a cursor's, a pin, or the
    request's own earlier read) a node holding another version is passed over, and when no
    node holds it the answer is a 409 (`version_gone`).
    """
    nodes: Nodes = request.app.state.nodes
    wanted = version or wanted_version(request)
    if wanted is None and "as_of" in request.scope.get("state", {}):
        wanted = await _as_of(request, nodes)
    if wanted is not None and not nodes.holding(wanted.version):
        await _prepare(nodes, wanted)
    if wanted is not None and wanted.parameter == "version":
        _check_unique(wanted, nodes)
    why = "the database is unavailable; retry shortly"
    other_version = False
    for node in nodes.order(wanted.version if wanted else None):
        if wanted and other_version and not wanted.matches(node.version):
            continue  # one node had moved on; try only those the board knows at the version
        try:
            with nodes.using(node):
                read_at, result = await _on_node(request, node, work, shape, cost, wanted)
        except _NodeFault as fault:
            nodes.unfit(node, fault.why)
            why = fault.why
            continue
        except _OtherVersion:
            other_version = True
            continue
        request.state.dataset_version = read_at
        request.state.node = node.name
        return result
    if wanted is not None and other_version:
        if await _prepare(nodes, wanted, stale=True):
            # the board still had a node at the version, which a load has since moved on
            return await in_database(request, work, shape=shape, cost=cost, version=wanted)
        raise await _not_served(request, nodes, wanted)
    raise unavailable(why)


async def _prepare(nodes: Nodes, wanted: Wanted, *, stale: bool = False) -> bool:
    """`nodes.prepare` in a thread: a kept release restored if need be, or a 503 naming
    the pause when its restore outlasts the wait (app.archives)."""
    try:
        return await anyio.to_thread.run_sync(partial(nodes.prepare, wanted.version, stale=stale))
    except StillRestoring as restoring:
        raise ProblemError(
            503, "release-restoring", f"{wanted.parameter or 'version'}: {restoring}",
            headers={"Retry-After": str(restoring.seconds)},
        ) from None  # fmt: skip


async def _as_of(request: Request, nodes: Nodes) -> Wanted:
    """Pin the request to the release current at the moment `as_of=` names (the primary's
    release table says which), as if `version=` had named it."""
    state = request.scope["state"]
    at, shown = state["as_of"]
    history = await _on_primary(request, nodes, releases)
    found = published_at(history, at)
    if found is None:
        raise as_of_problem(history, shown)
    state["pinned_version"], state["pinned_by"] = found.version, "as_of"
    return Wanted(found.version, "as_of")


async def _not_served(request: Request, nodes: Nodes, wanted: Wanted) -> ProblemError:
    """Why no database holds the version wanted: a 410 when it is a release no longer kept,
    else the 409 naming what is served."""
    if wanted.parameter is not None:
        try:
            history = await _on_primary(request, nodes, releases)
        except ProblemError:
            history = []
        problem = retired(history, wanted.version, wanted.parameter, nodes.known_versions())
        if problem is not None:
            return problem
    return version_gone(wanted, nodes.served_versions())


async def _on_primary(request: Request, nodes: Nodes, work: Callable[[Connection], T]) -> T:
    """A small read of the primary, whatever version it holds (the release table)."""
    try:
        return await _run(request, nodes.primary.lanes.fast, work)
    except _NodeFault as fault:
        raise unavailable(fault.why) from None
    except BudgetExceeded as overrun:
        _let_go(overrun)
        raise unavailable("the database is busy; retry shortly") from None


def _check_unique(wanted: Wanted, nodes: Nodes) -> None:
    """A pin's digits must name one version among those served: two versions that share
    them are a 422 asking for more digits."""
    named = {v for v in nodes.known_versions() if wanted.matches(v)}
    if len(named) > 1:
        listed = ", ".join(sorted(named))
        raise ProblemError(
            422, "invalid-parameter", f"version: {wanted.version} names {len(named)} versions"
            f" served ({listed}); give more of its digits",
            [InvalidParameter("version", "names several versions served; give more digits")],
        )  # fmt: skip


async def _on_node(
    request: Request,
    node: Node,
    work: Callable[[Connection], T],
    shape: Hashable | None,
    cost: str | None,
    wanted: Wanted | None,
) -> tuple[str, T]:
    """`work` on `node`: in its fast lane first; if it overruns the fast budget it runs
    again, from the start, in the slow lane (reads are idempotent), and `shape` is
    remembered as heavy. Past the slow lane's budget the answer is 422 naming `cost`."""

    def snapshot(connection: Connection) -> tuple[str, T]:
        started = time.monotonic()
        read_at = open_snapshot(connection)
        node.observe(read_at, started)
        if wanted is not None and not wanted.matches(read_at):
            raise _OtherVersion(read_at)
        return read_at, work(connection)

    lanes = node.lanes
    lane = lanes.first_lane(shape)
    if lane is lanes.fast:
        try:
            return await _run(request, lane, snapshot)
        except BudgetExceeded as overrun:
            lanes.remember(shape)
            _let_go(overrun)
    try:
        return await _run(request, lanes.slow, snapshot)
    except BudgetExceeded as overrun:
        _let_go(overrun)
        raise too_expensive(int(lanes.slow.budget * 1000), cost) from None


def _let_go(overrun: BaseException) -> None:
    """Clear the frames an overrun's traceback holds. They keep the stopped statement's
    cursor alive in a reference cycle until the cyclic collector runs, and on SQLite a live
    statement holds the file's read lock: `atlas load` failed with "database is locked"
    while a server sat idle after a detail request had overrun its fast budget."""
    error: BaseException | None = overrun
    while error is not None:
        traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__


async def _run(request: Request, lane: Lane, work: Callable[[Connection], T]) -> T:
    """`work` on a connection of `lane`, in a worker thread: a request makes one thread hop
    however many statements it runs.

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

    def budgeted(connection: Connection) -> T:
        with deadline(connection, lane.budget):
            try:
                return work(connection)
            except DBAPIError as error:  # a statement run through SQLAlchemy, not fetch
                if overran(error.orig):
                    raise BudgetExceeded from error
                raise

    def run() -> T:
        try:
            return read(lane.engine, budgeted)
        except BudgetExceeded:
            raise
        except Exception as error:
            # The lane's statement_timeout also bounds the pool's liveness ping: on a loaded
            # server a ping past a tiny budget is that budget overrun, not a database fault.
            if overran(getattr(error, "orig", error)):
                raise BudgetExceeded from error
            if is_database_fault(error):
                raise _NodeFault(_reason(error)) from None
            raise

    try:
        return await anyio.to_thread.run_sync(run, limiter=_UNLIMITED)
    finally:
        lane.limiter.release()


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
    with engine.connect() as connection:
        return work(connection)


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


async def no_query_parameters(request: Request) -> None:
    """Detail endpoints take no query parameters (but `version`, which the middleware has
    taken); an unexpected one is a 400, not ignored. (Async on purpose: FastAPI runs a plain
    `def` dependency in the thread pool.)"""
    names = sorted({key for key, _ in request.query_params.multi_items()})
    if names:
        raise unknown_parameters(names, ())
