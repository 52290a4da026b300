"""One snapshot of the data per request, and the dataset version it holds.

A request's statements run in one read transaction: on PostgreSQL the read-only engines'
transactions are REPEATABLE READ (app.db), so every statement sees the snapshot the first
one took; on SQLite an explicit BEGIN holds one read snapshot (a writer cannot commit under
it). The version is read first, in that same snapshot, so the version a response reports
and the rows it carries cannot disagree. A read ends with COMMIT (`close_snapshot`), or,
when a statement failed, with the pool's rollback.
"""

from typing import Any

from psycopg.pq import TransactionStatus
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
    """End a read's transaction, if it is open and sound, with COMMIT: for a read the same as
    ROLLBACK but for one thing. psycopg forgets every statement it prepared on a connection
    that rolls back (a rollback may undo the DDL they were planned against), so while each
    read ended in the pool's rollback nothing was ever prepared, and PostgreSQL parsed and
    analysed each statement anew (a metric's row by key: 2.6 ms a call, 1.4 ms prepared).
    The pool's rollback then finds no transaction and sends nothing. A transaction a
    failed statement aborted is left to that rollback. A failed COMMIT loses nothing a
    read did: the connection is dropped from the pool and the read's answer stands."""
    if connection.invalidated:
        return
    raw = connection.connection.dbapi_connection
    if raw is None or not _open_and_sound(connection, raw):
        return
    try:
        raw.commit()
    except connection.dialect.loaded_dbapi.Error as error:
        connection.invalidate(error)


def _open_and_sound(connection: Connection, raw: Any) -> bool:
    if connection.dialect.name == "sqlite":
        return bool(raw.in_transaction)
    return bool(raw.info.transaction_status == TransactionStatus.INTRANS)
