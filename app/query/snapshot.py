"""One snapshot of the data per request, and the dataset version it holds.

A request's statements run in one read transaction: on PostgreSQL the read-only engines'
transactions are REPEATABLE READ (app.db), so every statement sees the snapshot the first
one took; on SQLite an explicit BEGIN holds one read snapshot (a writer cannot commit under
it). The version is read first, in that same snapshot, so the version a response reports
and the rows it carries cannot disagree. A read that succeeded ends with COMMIT
(`close_snapshot`); one that failed is rolled back when its connection goes back to the
pool.
"""

from sqlalchemy import Connection

from ..facts.version import UNVERSIONED, version_statement
from .statements import fetch_one

_SHAPE = ("dataset-version",)


def open_snapshot(connection: Connection) -> str:
    """Start the read transaction on `connection` and return the dataset version in it."""
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            raw.execute("BEGIN")
    row = fetch_one(connection, _SHAPE, version_statement, {})
    version = str(row["version"]) if row and row["version"] else UNVERSIONED
    connection.info["dataset_version"] = version
    return version


def snapshot_version(connection: Connection) -> str:
    """The dataset version of the snapshot `connection` reads (see `open_snapshot`)."""
    return str(connection.info.get("dataset_version", UNVERSIONED))


def close_snapshot(connection: Connection) -> None:
    """End the read transaction with COMMIT, which for a read is the same as ROLLBACK but
    for one thing: psycopg forgets every statement it prepared on a connection when that
    connection rolls back (a rollback may undo the DDL they were planned against). Each
    read ended by the pool's rollback, so no statement was ever prepared, and PostgreSQL
    planned each one again: 2.3 ms of planning for the 0.2 ms a metric's row by key takes
    to run. The pool's rollback then finds no transaction and sends nothing."""
    raw = connection.connection.dbapi_connection
    if raw is not None:
        raw.commit()
