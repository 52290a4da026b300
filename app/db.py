"""Engines: one per URL, with SQLite's pragmas and PostgreSQL's session options.

One engine per URL per process. SQLite gets its pragmas on every connection; the
server can open it read-only, so that a reader can never write.
"""

import logging
import math
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

logger = logging.getLogger("atlas")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.close()


def url_problem(url: str) -> str | None:
    """Why `url` cannot be this server's database URL, in words that do not repeat it (it
    may hold a password), or None. Checked before any engine is built: SQLAlchemy and the
    drivers otherwise fail on a bad port or scheme with a traceback."""
    forms = "use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
    try:
        parsed = make_url(url)
        port = parsed.port
    except (ArgumentError, ValueError):
        return f"it is not a database URL SQLAlchemy can read (a port must be a number); {forms}"
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        return f"{parsed.get_backend_name()!r} is not a database this server speaks; {forms}"
    if port is not None and not 0 < port < 65536:
        return f"port {port} is outside 1-65535"
    return None


def build_engine(
    url: str,
    *,
    read_only: bool = False,
    pool_size: int = 5,
    pool_timeout: float = 5.0,
    statement_timeout_ms: int | None = None,
    ping: bool = True,
) -> Engine:
    """Make an engine for `url`.

    `read_only` opens a SQLite file with `mode=ro`, so the API process cannot write to it
    whatever it is asked. On PostgreSQL it makes every transaction read-only; the guarantee
    there is a SELECT-only role (see app.privileges). `statement_timeout_ms` bounds every
    statement on PostgreSQL; SQLite's statements are bounded per request (app.query.budget).

    `ping` tests a pooled PostgreSQL connection before lending it (a round trip each
    time); without it, a connection that died while pooled fails its first statement and
    is dropped with every connection as old. For callers that then read again on a fresh
    connection (app.api.lanes.read).
    """
    if is_sqlite(url):
        parsed = make_url(url)
        database = parsed.database or ":memory:"
        if database == ":memory:":
            engine = create_engine(
                url, connect_args={"check_same_thread": False}, poolclass=StaticPool
            )
        else:
            mode = "ro" if read_only else "rwc"
            if not read_only:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                f"sqlite:///file:{database}?mode={mode}&uri=true",
                connect_args={"check_same_thread": False},
                pool_size=pool_size,
                pool_timeout=pool_timeout,
            )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options = ["-c default_transaction_read_only=on"] if read_only else []
    # Plans for the values at hand: a generic plan guesses a third of the table for any
    # range and may walk the wrong index (app.query.plan decides the path; this keeps
    # PostgreSQL's row estimates honest within it). Planning these statements takes ~0.1 ms.
    options.append("-c plan_cache_mode=force_custom_plan")
    if read_only:
        # The API's statements come with their access path chosen (app.query.plan); where
        # the statistics misjudge a rare value, a sequential scan of millions of rows is
        # never the path meant, so it is priced out (it stays possible where nothing else is).
        options.append("-c enable_seqscan=off")
        # For the same reason the joins run in the order written: every statement joins
        # its fact table to the rows it shows by key, and searching the orders of six
        # relations was most of a page's planning (0.8 ms of a metrics page's rows, 0.3 ms
        # in written order, at 3M rows).
        options.append("-c join_collapse_limit=1")
        # Pricing the scan out prices a small table's only path at 10^10, past JIT's
        # threshold: `organizations?limit=3` compiled 19 functions for its 14 rows (260 ms
        # of a 290 ms answer). These statements read pages, never enough to repay JIT.
        options.append("-c jit=off")
    if statement_timeout_ms is not None:
        options.append(f"-c statement_timeout={int(statement_timeout_ms)}")
    # libpq waits for a host that drops packets as long as the kernel does (minutes)
    connect_args: dict[str, Any] = {
        "connect_timeout": max(2, math.ceil(pool_timeout)),
        "options": " ".join(options),
    }
    return create_engine(
        url,
        connect_args=connect_args,
        # a reader's transaction is one snapshot, whatever number of statements it runs
        isolation_level="REPEATABLE READ" if read_only else "READ COMMITTED",
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=pool_timeout,
        pool_pre_ping=ping,
    )


def vacuum(engine: Engine) -> None:
    """On PostgreSQL, once a load has committed, clear the rows it replaced, mark the pages
    all-visible (an index-only scan reads no table row) and refresh the planner's statistics
    rather than wait for autovacuum: a list read after ten reloads took 1.19x as long as on
    a database loaded once, and 0.92x after this. Not in a transaction: VACUUM refuses one,
    and an ANALYZE whose transaction is rolled back leaves no statistics behind."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE)")


def sqlite_file(engine: Engine) -> Path | None:
    """The file a SQLite engine reads, or None (PostgreSQL, or SQLite in memory)."""
    if engine.dialect.name != "sqlite":
        return None
    database = (engine.url.database or "").removeprefix("file:")
    return None if database in ("", ":memory:") else Path(database)


def roll_back_hot_journal(engine: Engine) -> bool:
    """Undo what a writer that died mid-transaction left in the engine's SQLite file, and
    say whether the file is readable again.

    The killed writer's rollback journal holds the original pages it had already
    overwritten in the file. A read-only connection may not play it back
    (SQLITE_READONLY_ROLLBACK), so every read fails until something does. A short-lived
    read-write connection does what any SQLite connection does on its first read: it takes
    the exclusive lock, copies the original pages back and deletes the journal. It leaves
    the last committed state, never a writer's half; SQLite will not touch a journal
    whose writer is alive (it still holds its lock). The request connections stay read-only.
    """
    path = sqlite_file(engine)
    if path is None:
        return False
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)) as writer:
            writer.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as error:
        logger.warning("could not roll back the interrupted write in %s: %s", path, error)
        return False
    logger.warning("rolled back an interrupted write in %s (its writer died)", path)
    return True
