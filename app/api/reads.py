"""How a request reads: which database node and lane serve it, its time budget, the dataset
version it is pinned to, the snapshot it reads in, and when a failed read is retried."""

import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request
from sqlalchemy import Connection

from ..archives import StillRestoring
from ..errors import InvalidParameter, ProblemError
from ..facts.version import UNVERSIONED
from ..nodes import Node, Nodes
from ..query.budget import BudgetExceeded
from ..query.cursors import VERSION_DIGITS
from ..query.parsing import unknown_parameters
from ..query.snapshot import open_snapshot
from ..query.statements import Replay, replaying
from .history import as_of_problem, published_at, releases, retired
from .lanes import Declined, NodeFault, let_go, run_in_lane, unavailable

T = TypeVar("T")


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
        except NodeFault as fault:
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
        return await run_in_lane(request, nodes.primary.lanes.fast, work)
    except NodeFault as fault:
        raise unavailable(fault.why) from None
    except BudgetExceeded as overrun:
        let_go(overrun)
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
    remembered as heavy. Past the slow lane's budget the answer is 422 naming `cost`.

    A shape the fast lane has seen finish inside the inline budget is read on the event
    loop's thread instead (app.query.budget); if it overruns there, or the database fails
    it, it is read again in the fast lane, which reports what it finds."""
    took = 0.0
    replay = Replay()  # what an attempt past its budget read, for the next to reuse

    def snapshot(connection: Connection) -> tuple[str, T]:
        nonlocal took
        started, cpu = time.monotonic(), time.thread_time()
        read_at = open_snapshot(connection)
        node.observe(read_at, started)
        if wanted is not None and not wanted.matches(read_at):
            raise _OtherVersion(read_at)
        if read_at == UNVERSIONED:  # nothing tells two attempts' data apart
            result = work(connection)
        else:
            with replaying(replay, read_at):
                result = work(connection)
        took = time.thread_time() - cpu
        return read_at, result

    lanes = node.lanes
    lane = lanes.first_lane(shape)
    if lane is lanes.fast:
        quick = shape if shape is not None else _route(request)
        inline = lanes.inline_lane(quick)
        if inline is not None:
            try:
                return await run_in_lane(request, lane, snapshot, inline=inline)
            except BudgetExceeded as overrun:
                lanes.not_quick(quick)
                let_go(overrun)
            except Declined:
                pass
        try:
            answer = await run_in_lane(request, lane, snapshot)
            if not replay.hits:  # its time is the read's own, not a part of it
                lanes.took(quick, took)
                lanes.weigh(shape, took)
            return answer
        except BudgetExceeded as overrun:
            lanes.remember(shape)
            let_go(overrun)
    replay.keep = False  # the last attempt
    try:
        return await run_in_lane(request, lanes.slow, snapshot)
    except BudgetExceeded as overrun:
        let_go(overrun)
        raise too_expensive(int(lanes.slow.budget * 1000), cost) from None


def _route(request: Request) -> Hashable | None:
    """The route's path template, for a read with no shape (a detail): its reads are alike
    whichever key the path names."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return ("route", path) if isinstance(path, str) else None


async def no_query_parameters(request: Request) -> None:
    """Detail endpoints take no query parameters (but `version`, which the middleware has
    taken); an unexpected one is a 400, not ignored. (Async on purpose: FastAPI runs a plain
    `def` dependency in the thread pool.)"""
    names = sorted({key for key, _ in request.query_params.multi_items()})
    if names:
        raise unknown_parameters(names, ())
