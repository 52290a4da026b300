"""Database faults: telling the database's failures from the request's, and naming them.

A failure of the connection or the server (a dropped or terminated connection, a server
shutting down or starting, too many connections, a SQLite file locked, unreadable or left
mid-transaction by a dead writer) is nobody's mistake in the request: the API answers 503
with Retry-After. The same errors at startup become one line for the operator: which
database, what is wrong in plain words, what to do.
"""

import re
import sqlite3
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes of the connection and the server, not the statement: 08 connection
# exception, 53 insufficient resources, 57 operator intervention (57P01-57P03: admin
# shutdown, crash shutdown, cannot connect now; 57014 a cancelled statement), 58 system.
SERVER_SQLSTATE_CLASSES = ("08", "53", "57", "58")
HOT_JOURNAL = "SQLITE_READONLY_ROLLBACK"


def driver_error(error: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrapper, if any."""
    return error.orig if isinstance(error, DBAPIError) and error.orig is not None else error


# SQLite's result codes for a file that is busy, locked, unreadable or mid-recovery.
SQLITE_FAULTS = (
    "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_PROTOCOL",
    "SQLITE_FULL", "SQLITE_NOMEM", "SQLITE_READONLY_ROLLBACK", "SQLITE_READONLY_RECOVERY",
    "SQLITE_READONLY_CANTLOCK", "SQLITE_READONLY_DBMOVED",
)  # fmt: skip


def is_database_fault(error: BaseException) -> bool:
    """Whether `error` is the database's failure rather than the request's or a bug (a
    missing table or bad SQL stays a 500: retrying would not help)."""
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    cause = driver_error(error)
    if isinstance(cause, psycopg.Error):
        sqlstate = cause.sqlstate
        if sqlstate is None:  # raised by the client: the connection is lost or closed
            return isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError)
        return sqlstate.startswith(SERVER_SQLSTATE_CLASSES)
    if isinstance(cause, sqlite3.Error):
        return str(getattr(cause, "sqlite_errorname", "")).startswith(SQLITE_FAULTS)
    return False


def is_hot_journal(error: BaseException) -> bool:
    """SQLite refused a read-only connection because a writer died mid-transaction and
    its rollback journal must be played back first."""
    return getattr(driver_error(error), "sqlite_errorname", None) == HOT_JOURNAL


def redacted(url: str) -> str:
    """The URL as an operator may see it: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def explain(error: BaseException, url: str) -> str:
    """One line: the database, the cause in plain words and the fix. No SQL, no traceback."""
    cause = driver_error(error)
    if isinstance(cause, sqlite3.Error):
        reason = _sqlite_reason(cause, make_url(url).database or "")
    elif isinstance(cause, psycopg.Error):
        reason = _postgres_reason(cause)
    else:
        reason = f"{_first_line(str(cause))}; check DATABASE_URL"
    return " ".join(f"cannot serve from {redacted(url)}: {reason}".split())


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


NOT_LOADED = "it has no Atlas tables (never loaded); run `atlas load` against it"


def _sqlite_reason(error: sqlite3.Error, database: str) -> str:
    name = getattr(error, "sqlite_errorname", "")
    message = str(error)
    if name.startswith("SQLITE_CANTOPEN"):
        if not Path(database).exists():
            return "the file does not exist; run `atlas load` to create it"
        return "the file cannot be opened (unable to open database file); check its permissions"
    if name == HOT_JOURNAL:
        return (
            "a writer died mid-transaction and this user may not roll its journal back;"
            " give the server write access to the file and its directory, or run `atlas load`"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "the file is locked by a writer; start the server when the write has finished"
    if name == "SQLITE_NOTADB":
        return "the file is not a SQLite database; point DATABASE_URL at the Atlas database"
    if message.startswith("no such table"):
        return NOT_LOADED
    return f"{_first_line(message)} ({name or 'SQLite error'}); check the file or run `atlas load`"


_POSTGRES_BY_SQLSTATE = {
    "3D000": "the database does not exist; create it (createdb), then run `atlas load`",
    "28P01": "the server refused the user name or password; fix them in DATABASE_URL",
    "28000": "the server refused this user; fix the user in DATABASE_URL or pg_hba.conf",
    "42P01": NOT_LOADED,
    "42501": "this role may not read the tables; run `atlas grant-reader ROLE` as the owner",
    "57P03": "the server is starting up or shutting down; start the API once it accepts",
    "53300": "the server has no free connections; raise max_connections or lower ATLAS_POOL_SIZE",
}


# What the server said when it refused a connection: libpq reports it as text only.
_POSTGRES_BY_MESSAGE = (
    (re.compile(r'database ".*" does not exist'), "3D000"),
    (re.compile(r"password authentication failed|no password supplied"), "28P01"),
    (re.compile(r'role ".*" does not exist|no pg_hba\.conf entry'), "28000"),
    (re.compile(r"the database system is (starting up|shutting down|in recovery)"), "57P03"),
    (re.compile(r"too many clients|remaining connection slots"), "53300"),
)


def _postgres_reason(error: psycopg.Error) -> str:
    # libpq's message: "connection failed: connection to server at ... failed: <reason>",
    # then hints on further lines.
    detail = _first_line(str(error)).rsplit("failed:", 1)[-1].strip()
    detail = detail.removeprefix("FATAL:").strip()
    sqlstate = error.sqlstate or next(
        (code for pattern, code in _POSTGRES_BY_MESSAGE if pattern.search(detail)), None
    )
    known = _POSTGRES_BY_SQLSTATE.get(sqlstate or "")
    if known is not None:
        return f"{known} ({detail})" if error.sqlstate is None else known
    if error.sqlstate is None:
        return (
            f"PostgreSQL cannot be reached ({detail}); start it, or fix the host and port"
            " in DATABASE_URL"
        )
    return f"PostgreSQL refused ({detail}, SQLSTATE {error.sqlstate}); check DATABASE_URL"
