"""Whole databases of the kept releases: what answers a request pinned to a past version.

After a load that made a release commits, the database as it then stands (that release) is
copied to `<archives>/<version>.sqlite`: from SQLite with the backup API, page by page;
from PostgreSQL into a SQLite database migrated to the same schema, table by table, in one
repeatable-read snapshot. The copy must hold the version it is named for (a second load may
have committed meanwhile: then nothing is kept) and is renamed into place whole, so a
worker never opens half a file. Then only the newest `keep` releases keep theirs.

The API opens each file read-only as a database of its own (app.nodes.Archives) and sends
a request there when it is pinned to that version (`version=`, `as_of=`, a cursor's walk).
Each kept release costs a whole copy: the facts are not versioned row by row, so the
current tables, and every request not pinned to the past, are as fast as with one release.
"""

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, insert, make_url, select, text
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables)
from app.db import build_engine, is_sqlite
from app.facts.version import read_version
from app.migrate import head_revision, upgrade_to_head
from app.models import tables as t

logger = logging.getLogger("atlas")

SUFFIX = ".sqlite"
BATCH = 5_000  # rows copied at a time from PostgreSQL


@dataclass(frozen=True)
class Keeping:
    """Where the kept releases' databases go, and how many of the newest are kept."""

    folder: Path
    keep: int


def archive_path(folder: Path, version: str) -> Path:
    return folder / f"{version}{SUFFIX}"


def kept_versions(folder: Path) -> list[str]:
    """The versions with a database in `folder` (no query: the file names)."""
    if not folder.is_dir():
        return []
    return sorted(p.name.removesuffix(SUFFIX) for p in folder.glob(f"*{SUFFIX}")
                  if not p.name.startswith("."))  # fmt: skip


def keep_release(engine: Engine, url: str, version: str, keeping: Keeping) -> Path | None:
    """Copy the database, which holds `version`, to the archives and prune the older ones.
    Returns the copy's path, or None when the database had moved on to another version."""
    keeping.folder.mkdir(parents=True, exist_ok=True)
    target = archive_path(keeping.folder, version)
    partial = keeping.folder / f".{version}.{os.getpid()}.partial"
    partial.unlink(missing_ok=True)
    try:
        if is_sqlite(url):
            _back_up(url, partial)
        else:
            _copy(engine, partial)
        if _version_of(partial) != version:
            logger.warning("not keeping release %s: another load committed meanwhile", version)
            partial.unlink()
            return None
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    prune(engine, keeping)
    return target


def prune(engine: Engine, keeping: Keeping) -> list[str]:
    """Remove the databases of all but the newest `keep` releases; returns those removed."""
    with engine.connect() as connection:
        newest = connection.execute(
            select(t.release.c.version).order_by(t.release.c.id.desc()).limit(keeping.keep)
        ).scalars()
        wanted = set(newest)
    removed = [v for v in kept_versions(keeping.folder) if v not in wanted]
    for version in removed:
        archive_path(keeping.folder, version).unlink(missing_ok=True)
    for partial in keeping.folder.glob(".*.partial"):  # left by a load that was killed
        if not _running(partial.name.rsplit(".", 2)[-2]):
            partial.unlink(missing_ok=True)
    return removed


def _running(pid: str) -> bool:
    """Whether the process `pid` (as a partial file's name gives it) still runs."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def upgrade_kept(folder: Path) -> list[str]:
    """Migrate the kept releases' databases that an older schema wrote, so the API's
    statements (written for the head) run on them; returns those migrated. The API passes
    over a database still behind (app.nodes.Archives) until a load has migrated it."""
    head = head_revision()
    migrated = []
    for version in kept_versions(folder):
        path = archive_path(folder, version)
        if revision_of(path) != head:
            upgrade_to_head(f"sqlite:///{path}")
            migrated.append(version)
    return migrated


def revision_of(path: Path) -> str | None:
    """The Alembic revision a kept release's database is at (None if it has none)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
            row = database.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _back_up(url: str, target: Path) -> None:
    source_path = make_url(url).database
    with (
        closing(sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)


def _copy(engine: Engine, target: Path) -> None:
    """Every modelled table of a PostgreSQL database into a SQLite file migrated to the same
    schema, read in one snapshot; SQLite's search index and statistics are rebuilt after."""
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
            copy.exec_driver_sql("INSERT INTO search_entry_fts(search_entry_fts) VALUES('rebuild')")
            copy.execute(text("ANALYZE"))
    finally:
        writer.dispose()


def _batches(source: Connection, name: str) -> Iterator[list[dict[str, object]]]:
    table = SQLModel.metadata.tables[name]
    result = source.execution_options(yield_per=BATCH).execute(select(table))
    for partition in result.mappings().partitions():
        yield [dict(row) for row in partition]


def _version_of(path: Path) -> str:
    engine = build_engine(f"sqlite:///{path}", read_only=True, pool_size=1)
    try:
        with engine.connect() as connection:
            return read_version(connection)
    finally:
        engine.dispose()
