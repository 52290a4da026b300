"""The databases a worker reads from: the primary (`DATABASE_URL`) and its streaming
replicas (`ATLAS_REPLICA_URLS`), each with its own lanes (app.query.budget).

Every worker checks every node in the background, each `ATLAS_VERSION_REFRESH_MS`: is it
reachable, how far behind its primary is it, and which dataset version does it hold. That
record (the board) decides where reads go and lets a 304 be answered without a query
(app.middleware). Reads go to the least busy fit replica (round robin among equals); a
replica that cannot be reached or lags past `ATLAS_REPLICA_MAX_LAG_MS` is skipped, and the
primary serves when no replica is fit. Loads never come here: they write to the primary.
"""

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import anyio
import anyio.to_thread
from sqlalchemy import Connection, Engine, text

from .config import Settings
from .db import build_engine, is_sqlite
from .facts.version import read_version
from .faults import is_database_fault
from .query.budget import Lanes

logger = logging.getLogger("atlas")

CHECK_STATEMENT_MS = 2000  # a health check that takes longer than this finds the node unfit

# On a standby: how long ago the last replayed transaction committed on the primary, or 0
# when everything received has been replayed (an idle primary sends nothing to replay).
STANDBY_LAG = text(
    "SELECT pg_is_in_recovery() AS standby,"
    " CASE WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0"
    " ELSE 1000 * EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
    " END AS lag_ms,"
    " (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
    " ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint AS lsn"
)


@dataclass
class Node:
    """One database and what the last check found; `busy` counts the requests on it now."""

    name: str
    url: str
    lanes: Lanes
    replica: bool
    archived: bool = False  # a kept release's database: it holds that version, for good
    reachable: bool = False
    fit: bool = False
    version: str | None = None
    lag_ms: float | None = None
    problem: str | None = None  # shown in /readyz: no host names, no driver text
    detail: str | None = None  # the driver's words, for the log only
    checked_at: float | None = None
    busy: int = 0
    _seen_at: float = 0.0

    def observe(self, version: str, started_at: float) -> None:
        """A request read `version` in a snapshot taken at `started_at` (monotonic): newer
        than the board's record if it started later than the record was made."""
        if started_at >= self._seen_at:
            self.version, self._seen_at = version, started_at

    def holds(self, version: str) -> bool:
        """Whether the board has this node at `version` (whole, or its first digits)."""
        return self.version is not None and self.version.startswith(version)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": "archive" if self.archived else "replica" if self.replica else "primary",
            "reachable": self.reachable,
            "fit": self.fit,
            "dataset_version": self.version,
            "lag_ms": None if self.lag_ms is None else round(self.lag_ms),
            "busy": self.busy,
            "problem": self.problem,
        }


class KeptReleases(Protocol):
    """What the nodes ask of the kept releases (app.archives.Archives, which imports Node)."""

    folder: Path  # this database's own folder of kept releases, set once its key is read

    @property
    def versions(self) -> set[str]: ...

    def holding(self, version: str) -> list[Node]: ...

    def scan(self, head: str | None) -> None: ...

    def restore(self, version: str, head: str | None) -> None: ...

    def dispose(self) -> None: ...


@dataclass
class Nodes:
    """The primary and the replicas, the board of what each holds, and the choice of node;
    with `archives`, the kept releases too, for reads pinned to them."""

    primary: Node
    replicas: list[Node]
    max_lag_ms: float
    archives: "KeptReleases | None" = None
    _turn: Iterator[int] = field(default_factory=itertools.count)
    _primary_lsns: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    _checkers: dict[str, Engine] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def all(self) -> list[Node]:
        return [self.primary, *self.replicas]

    def order(self, version: str | None = None) -> list[Node]:
        """The nodes to try for a read, best first: the fit replicas, least busy first (in
        turn among equals), then the primary; the unfit replicas are left out. With a
        `version` wanted (a pin, or the first digits a cursor carries), the nodes the board
        knows at that version come first, and a replica lagging past the bound serves it
        too: it holds just the data asked for."""
        fit = [node for node in self.replicas if node.fit]
        if fit:
            turn = next(self._turn) % len(fit)
            fit = fit[turn:] + fit[:turn]
            fit.sort(key=lambda node: node.busy)
        chosen = [*fit, self.primary]
        if version is not None:
            chosen += [node for node in self._lagging() if node.holds(version)]
            chosen += self._archived(version)
            chosen.sort(key=lambda node: not node.holds(version))
        return chosen

    def _archived(self, version: str) -> list[Node]:
        """The restored releases holding `version` (`prepare` restores one first)."""
        return [] if self.archives is None else self.archives.holding(version)

    def scan_archives(self) -> None:
        """Read the kept releases again, as restorable from the version the board has the
        primary at. Blocking: run it in a thread."""
        if self.archives is not None:
            self.archives.scan(self.primary.version)

    def holding(self, version: str) -> bool:
        """Whether a node the board knows, or a restored release, holds `version`."""
        return any(node.holds(version) for node in self.all) or bool(self._archived(version))

    def prepare(self, version: str, *, stale: bool = False) -> bool:
        """Before a read pinned to `version`: when no node holds it (with `stale`, whatever
        the board says of the live nodes: one it had at `version` answered from another),
        read the kept releases again (a load may have just kept it) and restore it if it is
        kept. Whether a restored release now holds it that did not. Blocking (files, and a
        copy of a database): run it in a thread."""
        if self.archives is None or self.archives.holding(version):
            return False
        if not stale and any(node.holds(version) for node in self.all):
            return False
        self.scan_archives()
        if not self.archives.holding(version):
            self.archives.restore(version, self.primary.version)
        return bool(self.archives.holding(version))

    def _lagging(self) -> list[Node]:
        return [node for node in self.replicas if node.reachable and not node.fit]

    def served_versions(self) -> set[str]:
        """The versions an unpinned read could be answered from now: those of the fit
        replicas, and the primary's (it serves when none is fit)."""
        return {
            node.version
            for node in (*self.replicas, self.primary)
            if node.version is not None and (node.fit or node is self.primary)
        }

    def known_versions(self) -> set[str]:
        """Every version the board knows a reachable node at, and every kept release's."""
        live = {
            node.version
            for node in (*self.replicas, self.primary)
            if node.version is not None and (node.reachable or node is self.primary)
        }
        return live | (self.archives.versions if self.archives is not None else set())

    def has(self, version: str) -> bool:
        """Whether a read pinned to `version` can be served (as far as the board knows)."""
        return (
            version in self.served_versions()
            or any(node.holds(version) for node in self._lagging())
            or bool(self.archives is not None and self.archives.holding(version))
        )

    def unfit(self, node: Node, why: str) -> None:
        """A request found `node` failing: skip it until a check finds it well again."""
        if node.replica:
            node.reachable, node.fit, node.problem = False, False, why

    @contextmanager
    def using(self, node: Node) -> Iterator[None]:
        with self._lock:
            node.busy += 1
        try:
            yield
        finally:
            with self._lock:
                node.busy -= 1

    # Health checks ------------------------------------------------------------------------

    def check(self, node: Node) -> None:
        """Check `node` now (blocking: run it in a thread) and record the result."""
        was = node.problem
        self._check(node)
        if node.problem != was:  # a change of state is logged, once
            if node.problem is None:
                logger.warning("%s serves reads again", node.name)
            else:
                logger.warning("%s is not fit: %s (%s)", node.name, node.problem, node.detail)

    def _check(self, node: Node) -> None:
        started = time.monotonic()
        try:
            version, lag_ms, lsn = self._probe(node)
        except Exception as error:
            node.reachable = node.fit = False
            node.problem = "unreachable" if is_database_fault(error) else "check failed"
            node.detail = _short(error)
            node.checked_at = time.monotonic()
            return
        node.observe(version, started)
        if node is self.primary and lsn is not None:
            self._primary_lsns.append((started, lsn))
        elif lsn is not None:
            lag_ms = max(lag_ms or 0.0, self._behind_primary_ms(lsn, started))
        node.lag_ms = lag_ms
        node.reachable = True
        node.checked_at = time.monotonic()
        if node.replica and (lag_ms is None or lag_ms > self.max_lag_ms):
            node.fit = False
            node.problem = (
                "replay lag unknown" if lag_ms is None else f"lagging {round(lag_ms)} ms behind"
            )
        elif node.replica and self._behind_a_load(node):
            node.fit = False
            node.problem = "lagging a load behind the primary"
        else:
            node.fit, node.problem, node.detail = True, None, None

    def _behind_a_load(self, node: Node) -> bool:
        """Whether the replica holds another dataset version than the primary was last seen
        at. The replay lag alone misses a load still being replayed when the transaction
        replayed last committed just before it: a client that read the new version from
        the primary would then read the old one again. Versions are hashes, not ordered,
        so a replica seen ahead of the primary's record also waits for the next check."""
        primary = self.primary.version
        return primary is not None and node.version is not None and node.version != primary

    def _probe(self, node: Node) -> tuple[str, float | None, int | None]:
        engine = self._checkers.get(node.name)
        if engine is None:
            engine = build_engine(
                node.url, read_only=True, pool_size=1, statement_timeout_ms=CHECK_STATEMENT_MS
            )
            self._checkers[node.name] = engine
        with engine.connect() as connection:
            version = read_version(connection)
            if is_sqlite(node.url):
                return version, 0.0, None
            return (version, *_standby_lag(connection))

    def _behind_primary_ms(self, replayed: int, now: float) -> float:
        """How long ago the primary was past what the replica has replayed, from the
        primary's positions recorded by earlier checks: a replica cut off from its primary
        replays nothing and believes itself current; this sees it fall behind."""
        for at, position in self._primary_lsns:
            if position > replayed:
                return max(0.0, (now - at) * 1000)
        return 0.0

    def readiness(self) -> list[dict[str, Any]]:
        return [node.describe() for node in self.all]

    def dispose(self) -> None:
        for node in self.all:
            node.lanes.dispose()
        if self.archives is not None:
            self.archives.dispose()
        for engine in self._checkers.values():
            engine.dispose()


def _standby_lag(connection: Connection) -> tuple[float | None, int | None]:
    row = connection.execute(STANDBY_LAG).one()
    return (None if row.lag_ms is None else float(row.lag_ms)), row.lsn


def _short(error: BaseException) -> str:
    return " ".join(str(getattr(error, "orig", None) or error).split())[:200]


async def check_all(nodes: Nodes) -> None:
    """Check every node at once, each in a thread."""
    async with anyio.create_task_group() as group:
        for node in nodes.all:
            group.start_soon(partial(anyio.to_thread.run_sync, nodes.check, node))
        group.start_soon(anyio.to_thread.run_sync, nodes.scan_archives)


@asynccontextmanager
async def keep_checking(nodes: Nodes, every: float) -> AsyncIterator[None]:
    """Check every node now, then every `every` seconds while the block runs."""
    await check_all(nodes)

    async def loop() -> None:
        while True:
            await anyio.sleep(every)
            await check_all(nodes)

    async with anyio.create_task_group() as group:
        group.start_soon(loop)
        try:
            yield
        finally:
            group.cancel_scope.cancel()


def replica_problem(settings: Settings) -> str | None:
    """Why the replicas configured cannot be used, or None."""
    if not settings.replicas:
        return None
    if is_sqlite(settings.database_url):
        return (
            "ATLAS_REPLICA_URLS is set but DATABASE_URL is SQLite: read replicas are PostgreSQL"
            " streaming replicas of a PostgreSQL primary; unset ATLAS_REPLICA_URLS"
        )
    if any(is_sqlite(url) for url in settings.replicas):
        return "ATLAS_REPLICA_URLS must name PostgreSQL databases (replicas of DATABASE_URL)"
    return None
