"""Statements compiled once and executed through the driver.

Building a SQLAlchemy statement, computing its cache key and compiling it took longer than
running it (about 1.6 ms against under 1 ms of SQL per list request, measured with
cProfile). So each distinct query shape is compiled once per dialect, with named bind
parameters, and later requests only bind values and run it on the driver's cursor.
"""

import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import BindParameter, Connection, Dialect, bindparam
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from .budget import BudgetExceeded, overran

Row = dict[str, Any]


def slot(name: str) -> BindParameter[Any]:
    """A named bind parameter whose value is supplied at execution."""
    return bindparam(name, value=None, required=False)


@dataclass(frozen=True)
class Prepared:
    sql: str
    names: tuple[str, ...]  # bind names, in order for positional paramstyles
    positional: bool
    defaults: Mapping[str, Any]  # values compiled into the statement (OFFSET 0 and the like)
    shape: Hashable = None
    # The result's column names, read from the first execution's cursor: the SQL is fixed,
    # so they are too, and psycopg builds a Column object per column for `description`
    # (5% of a one-row request's CPU on PostgreSQL).
    columns: list[tuple[str, ...]] = field(default_factory=list, compare=False)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        merged = {**self.defaults, **values}
        if self.positional:
            return tuple(merged[name] for name in self.names)
        return {name: merged[name] for name in self.names}


def prepare(statement: ClauseElement, dialect: Dialect, shape: Hashable = None) -> Prepared:
    # Constant IN lists (levels, say) are expanded now: they never vary between requests.
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    assert isinstance(compiled, SQLCompiler)
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(compiled.params)
    defaults = {name: value for name, value in compiled.params.items() if value is not None}
    return Prepared(str(compiled), names, positional, defaults, shape)


@dataclass(frozen=True)
class Ran:
    """A statement as it ran: its cache key, its SQL and the parameters bound to it."""

    shape: Hashable
    sql: str
    parameters: tuple[Any, ...] | dict[str, Any]


_RECORDING: ContextVar[list[Ran] | None] = ContextVar("recording", default=None)


@contextmanager
def recording() -> Iterator[list[Ran]]:
    """Collect the statements run in this context: for EXPLAIN in the benchmark, and so
    its bare ceiling replays exactly the statements Atlas runs."""
    ran: list[Ran] = []
    token = _RECORDING.set(ran)
    try:
        yield ran
    finally:
        _RECORDING.reset(token)


# A statement's column names and the driver's rows.
Read = tuple[tuple[str, ...], list[tuple[Any, ...]]]


class Replay:
    """The rows of the statements one read ran, kept for the same read run again.

    A read past its lane's budget runs again from the start in the next lane (reads are
    idempotent): a cold shape that overran the fast lane paid twice for every statement
    it had finished, its page read first in the fast lane and then in the slow one
    (`value__gte=…&qualifier=exact&within=…&sort=-key&count=true`: 85 ms, then 97 ms).
    Kept only for one dataset version: a second attempt that sees another version (a load
    committed in between, a replica behind) reads everything again.
    """

    def __init__(self) -> None:
        self.version: str | None = None
        self.rows: dict[tuple[str, str], Read] = {}
        self.keep = True  # false for a last attempt: nothing would take its rows
        self.hits = 0  # statements an attempt took from an earlier one
        # StatementCache.repeated's first answer for each shape: a later attempt takes the
        # statements the first did (a new shape's page is read as ids, then rows; later
        # as one joined statement), where `asked` says it has not yet asked about it.
        self.repeated: dict[Hashable, bool] = {}
        self.asked: set[Hashable] = set()


_REPLAY: ContextVar[Replay | None] = ContextVar("replay", default=None)


@contextmanager
def replaying(replay: Replay, version: str) -> Iterator[None]:
    """Statements run in this context on a snapshot of `version` are answered from
    `replay` when an earlier attempt on the same version ran them, and kept there."""
    if replay.version != version:
        replay.rows.clear()
        replay.repeated.clear()
        replay.version = version
    replay.hits = 0
    replay.asked.clear()
    token = _REPLAY.set(replay)
    try:
        yield
    finally:
        _REPLAY.reset(token)


class StatementCache:
    """Compiled statements by (dialect, shape). Shapes are bounded by the allow-lists (each
    filter, operator, value count up to 100, sort), so the cache cannot grow without end."""

    def __init__(self, limit: int = 4096) -> None:
        self._entries: dict[Hashable, Prepared] = {}
        self._sighted: set[Hashable] = set()
        self._lock = threading.Lock()
        self._limit = limit

    def repeated(self, connection: Connection, shape: Hashable) -> bool:
        """Whether `shape` was asked about before (and remember that it now was): a
        statement that only pays for its compilation when used again is compiled then."""
        key = (connection.dialect.name, shape)
        replay = _REPLAY.get()
        if replay is not None and key in replay.repeated and key not in replay.asked:
            replay.asked.add(key)
            return replay.repeated[key]
        answer = self._sight(key)
        if replay is not None:
            replay.repeated.setdefault(key, answer)
            replay.asked.add(key)
        return answer

    def _sight(self, key: Hashable) -> bool:
        if key in self._sighted:
            return True
        with self._lock:
            if len(self._sighted) >= self._limit:
                self._sighted.clear()
            self._sighted.add(key)
        return False

    def get(
        self, connection: Connection, shape: Hashable, build: Callable[[], ClauseElement]
    ) -> Prepared:
        key = (connection.dialect.name, shape)
        prepared = self._entries.get(key)
        if prepared is None:
            prepared = prepare(build(), connection.dialect, shape)
            with self._lock:
                if len(self._entries) >= self._limit:
                    self._entries.clear()
                self._entries[key] = prepared
        return prepared


STATEMENTS = StatementCache()


def fetch(connection: Connection, prepared: Prepared, values: Mapping[str, Any]) -> list[Row]:
    """The rows of a prepared statement: run on the connection's DBAPI cursor, or, in a
    read run again, those its earlier attempt read (`replaying`)."""
    parameters = prepared.parameters(values)
    replay = _REPLAY.get()
    if replay is None:
        names, rows = _run(connection, prepared, parameters)
    else:
        key = (prepared.sql, repr(parameters))
        kept = replay.rows.get(key)
        if kept is not None:
            replay.hits += 1
            names, rows = kept
        else:
            names, rows = _run(connection, prepared, parameters)
            if replay.keep:  # kept as the driver's tuples: readers may change the dicts
                replay.rows[key] = names, rows
    return [dict(zip(names, row, strict=True)) for row in rows]


def _run(
    connection: Connection, prepared: Prepared, parameters: tuple[Any, ...] | dict[str, Any]
) -> Read:
    """Run a prepared statement on the connection's DBAPI cursor.

    Going through `exec_driver_sql` rebuilt SQLAlchemy's result metadata from the cursor
    description on every call (about 7% of a one-row request's CPU). Driver errors are
    still classified by the dialect: a disconnect invalidates the pooled connection and is
    raised as DBAPIError with `connection_invalidated`, exactly as SQLAlchemy would.
    """
    ran = _RECORDING.get()
    if ran is not None:
        ran.append(Ran(prepared.shape, prepared.sql, parameters))
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = None
    try:
        cursor = raw.cursor()  # raises too when the connection was closed under us
        cursor.execute(prepared.sql, parameters)
        if not prepared.columns:
            prepared.columns.append(tuple(column[0] for column in cursor.description))
        rows = cast(list[tuple[Any, ...]], cursor.fetchall())
    except connection.dialect.loaded_dbapi.Error as error:
        if overran(error):
            raise BudgetExceeded from error
        disconnected = connection.dialect.is_disconnect(error, raw, cursor)
        if disconnected:
            # As SQLAlchemy does: the pool's connections as old as this one are as dead
            # (a server restart), and are replaced when next lent, not failed one by one.
            connection.engine.pool._invalidate(connection.connection, error, _checkin=False)
            connection.invalidate(error)
        raise DBAPIError.instance(
            prepared.sql, parameters, error, connection.dialect.loaded_dbapi.Error,
            connection_invalidated=disconnected, dialect=connection.dialect,
        ) from error  # fmt: skip
    finally:
        if cursor is not None:
            cursor.close()
    return prepared.columns[0], rows


def fetch_one(
    connection: Connection,
    shape: Hashable,
    build: Callable[[], ClauseElement],
    values: Mapping[str, Any],
) -> Row | None:
    rows = fetch(connection, STATEMENTS.get(connection, shape, build), values)
    return rows[0] if rows else None


def fetch_all(
    connection: Connection,
    shape: Hashable,
    build: Callable[[], ClauseElement],
    values: Mapping[str, Any],
) -> list[Row]:
    return fetch(connection, STATEMENTS.get(connection, shape, build), values)
