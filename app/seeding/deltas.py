"""A kept release's delta (app.seeding.archive): how one SQLite copy of the database goes back
to an earlier one. It is a SQLite database with the schema of the copies (so migrations
reach it as they reach every kept database) holding the earlier copy's rows that the later
one lacks or holds otherwise, and in `atlas_removed` the keys of the later copy's rows that
the earlier one lacks or holds otherwise; stored compressed."""

import gzip
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlmodel import SQLModel

from .. import models  # noqa: F401  (registers the tables)
from .copies import quoted

REMOVED = "atlas_removed"  # the keys to delete: (table_name, key as a JSON array)


def write_delta(old: Path, new: Path, target: Path) -> None:
    """Write to `target`, with the schema of `new`, the rows of `old` that `new` lacks or
    holds otherwise, and the keys of the rows of `new` that `old` lacks or holds otherwise."""
    with closing(sqlite3.connect(target, isolation_level=None, uri=True)) as delta:
        _copy_schema(new, delta)
        delta.execute(f"CREATE TABLE {REMOVED} (table_name TEXT NOT NULL, key TEXT NOT NULL)")
        delta.execute("ATTACH DATABASE ? AS old", (f"file:{old}?mode=ro",))
        delta.execute("ATTACH DATABASE ? AS new", (f"file:{new}?mode=ro",))
        delta.execute("BEGIN")
        for table in SQLModel.metadata.sorted_tables:
            columns = ", ".join(quoted(c.name) for c in table.columns)
            key = ", ".join(quoted(c.name) for c in table.primary_key.columns)
            name = quoted(table.name)
            delta.execute(
                f"INSERT INTO main.{name} ({columns}) SELECT {columns} FROM old.{name}"
                f" EXCEPT SELECT {columns} FROM new.{name}"
            )
            delta.execute(
                f"INSERT INTO {REMOVED} SELECT ?, json_array({key}) FROM"
                f" (SELECT {columns} FROM new.{name} EXCEPT SELECT {columns} FROM old.{name})",
                (table.name,),
            )
        delta.execute("COMMIT")
        delta.execute("DETACH DATABASE old")
        delta.execute("DETACH DATABASE new")
        delta.execute("VACUUM")


def _copy_schema(source: Path, target: sqlite3.Connection) -> None:
    """The tables, indexes and Alembic revision of `source`, without its rows: a delta is
    migrated like every other kept database."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as database:
        made = database.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        ).fetchall()
        revision = database.execute("SELECT version_num FROM alembic_version").fetchall()
    virtual = [name for name, sql in made if sql.upper().startswith("CREATE VIRTUAL TABLE")]
    for name, sql in made:
        # the shadow tables of a full-text index are made by its CREATE VIRTUAL TABLE, and
        # SQLite's own (statistics) by SQLite
        if not name.startswith("sqlite_") and not any(name.startswith(f"{v}_") for v in virtual):
            target.execute(sql)
    target.executemany("INSERT INTO alembic_version VALUES (?)", revision)


def pack(database: Path, target: Path) -> None:
    """Compress a delta: its pages are mostly empty (a page per table and index) and its rows
    text, so it packs to about a sixth."""
    with database.open("rb") as source, gzip.open(target, "wb") as packed:
        shutil.copyfileobj(source, packed, 1 << 20)


def unpack(packed: Path, target: Path) -> None:
    with gzip.open(packed, "rb") as source, target.open("wb") as copy:
        shutil.copyfileobj(source, copy, 1 << 20)


def apply_delta(database: Path, rows: Path) -> None:
    """Go back one release: delete the keys the delta (unpacked at `rows`) lists, then
    insert its rows."""
    with closing(sqlite3.connect(database, isolation_level=None, uri=True)) as db:
        db.execute("ATTACH DATABASE ? AS delta", (f"file:{rows}?mode=ro",))
        db.execute("BEGIN")
        tables = SQLModel.metadata.sorted_tables
        for table in reversed(tables):
            key = [quoted(c.name) for c in table.primary_key.columns]
            parts = ", ".join(f"json_extract(key, '$[{n}]')" for n in range(len(key)))
            db.execute(
                f"DELETE FROM main.{quoted(table.name)} WHERE ({', '.join(key)}) IN"
                f" (SELECT {parts} FROM delta.{REMOVED} WHERE table_name = ?)",
                (table.name,),
            )
        for table in tables:
            columns = ", ".join(quoted(c.name) for c in table.columns)
            name = quoted(table.name)
            db.execute(f"INSERT INTO main.{name} ({columns}) SELECT {columns} FROM delta.{name}")
        db.execute("COMMIT")
        db.execute("DETACH DATABASE delta")
