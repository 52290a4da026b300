"""SQLite copies of a database, as the kept releases are stored (app.seeding.archive): a
PostgreSQL database copied into a SQLite file of the same schema, and the small reads and
repairs every copy needs."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, insert, select, text
from sqlmodel import SQLModel

from .. import models  # noqa: F401  (registers the tables)
from ..db import build_engine
from ..migrate import upgrade_to_head

BATCH = 5_000  # rows copied at a time from PostgreSQL


def copy_to_sqlite(engine: Engine, target: Path) -> None:
    """Every modelled table of a PostgreSQL database into a SQLite file migrated to the same
    schema, read in one repeatable-read snapshot; the search index rebuilt after."""
    target.unlink(missing_ok=True)
    url = f"sqlite:///{target}"
    upgrade_to_head(url)
    writer = build_engine(url)
    try:
        with (
            engine.connect().execution_options(isolation_level="REPEATABLE READ") as source,
            source.begin(),
            writer.begin() as copy,
        ):
            copy.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            tables = SQLModel.metadata.sorted_tables
            for table in reversed(tables):  # rows a migration wrote, replaced by the source's
                copy.execute(delete(table))
            for table in tables:
                for batch in _batches(source, table.name):
                    copy.execute(insert(table), batch)
            copy.execute(text("ANALYZE"))
    finally:
        writer.dispose()
    reindex_search(target)


def _batches(source: Connection, name: str) -> Iterator[list[dict[str, object]]]:
    table = SQLModel.metadata.tables[name]
    result = source.execution_options(yield_per=BATCH).execute(select(table))
    for partition in result.mappings().partitions():
        yield [dict(row) for row in partition]


def reindex_search(path: Path) -> None:
    """Rebuild SQLite's full-text index of the search entries from their rows: it indexes
    an external table, so rows written around it leave it stale."""
    with closing(sqlite3.connect(path)) as database, database:
        database.execute("INSERT INTO search_entry_fts(search_entry_fts) VALUES('rebuild')")


def stored_version(path: Path) -> str:
    """The dataset version a SQLite copy holds ('' when none)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
        row = database.execute("SELECT version FROM dataset_version ORDER BY id LIMIT 1").fetchone()
    return str(row[0]) if row and row[0] else ""


def quoted(name: str) -> str:
    """An identifier as SQLite reads it whatever it is (it comes from the models)."""
    return '"' + name.replace('"', '""') + '"'
