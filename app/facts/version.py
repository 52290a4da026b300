"""The dataset version as stored: one row the loader writes and every read reports, and
the marker a database that was never loaded reports instead. The loader computes it
(app.seeding.version.dataset_hash); the API reads it in each request's snapshot."""

from sqlalchemy import Connection, Select, insert, select, update
from sqlmodel import SQLModel

UNVERSIONED = "unversioned"


def store_version(connection: Connection, version: str) -> None:
    """Record `version` (one row), writing only when it changed."""
    table = SQLModel.metadata.tables["dataset_version"]
    current = connection.execute(select(table.c.id, table.c.version)).first()
    if current is None:
        connection.execute(insert(table).values(id=1, version=version))
    elif current.version != version:
        connection.execute(update(table).where(table.c.id == current.id).values(version=version))


def version_statement() -> Select[tuple[str]]:
    """The stored version, by its key: the API's readers price sequential scans out, and a
    scan priced so gets compiled by PostgreSQL's JIT (20 ms for one row)."""
    table = SQLModel.metadata.tables["dataset_version"]
    return select(table.c.version).order_by(table.c.id).limit(1)


def read_version(connection: Connection) -> str:
    version = connection.execute(version_statement()).scalar()
    return str(version) if version else UNVERSIONED
