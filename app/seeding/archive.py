"""The kept releases: what answers a request pinned to a past version, stored as the rows
each release changed, and restored to a whole database when a request first asks for it.

A load that makes a release writes, for the release before it, a *delta*: a small SQLite
database with the release's schema that holds the rows of that release which the new one
changed or retracted, and the keys of the rows the new one changed or added
(`<version>.<next version>.delta`). Going back from a release to the one before is then:
delete those keys, insert those rows. Only changed rows are stored twice, so ten releases
of the data cost about one database, not ten.

The newest release is the chain's head: on SQLite the database itself (read with the
backup API); on PostgreSQL a SQLite copy of it, compressed (`<version>.sqlite.gz`),
because the server holds only the newest rows. To compute the delta, the release before
the load is read from a backup taken before the load (SQLite) or from that compressed head
(PostgreSQL).

A request pinned to a kept release that no database holds has it restored
(`restore`): the head copied, the deltas applied newest first, the version checked, the
file renamed into place whole as `<version>.sqlite`, which the API opens read-only as a
database of its own (app.nodes.Archives). At most `RESTORED` such files stay, the least
recently restored removed first; each is rebuilt on demand. Every database here (deltas,
head, restored) is migrated with the database at each load (`upgrade_kept`).
"""

import fcntl
import gzip
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, make_url, select
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables)
from app.db import is_sqlite
from app.migrate import head_revision, upgrade_to_head
from app.models import tables as t
from app.seeding.copies import copy_to_sqlite, quoted, reindex_search, stored_version

logger = logging.getLogger("atlas")

SUFFIX = ".sqlite"  # a whole database of one release, restored
DELTA = ".delta"  # <version>.<next>.delta: from the next release back to this one
HEAD = ".sqlite.gz"  # the newest release's copy, where the database cannot be copied fast
RESTORED = 3  # whole databases kept restored at once
REMOVED = "atlas_removed"  # a delta's table of the keys to delete: (table_name, key)


@dataclass(frozen=True)
class Keeping:
    """Where the kept releases go, and how many of the newest are kept."""

    folder: Path
    keep: int


def archive_path(folder: Path, version: str) -> Path:
    """Where a kept release restored whole is (it may not be there)."""
    return folder / f"{version}{SUFFIX}"


def restored_versions(folder: Path) -> list[str]:
    """The releases restored whole in `folder` now (no query: the file names)."""
    return sorted(p.name.removesuffix(SUFFIX) for p in _files(folder, f"*{SUFFIX}"))


def deltas(folder: Path) -> dict[str, str]:
    """Each release with a delta in `folder`, and the release its delta goes back from."""
    found = {}
    for path in _files(folder, f"*{DELTA}"):
        version, _, after = path.name.removesuffix(DELTA).partition(".")
        found[version] = after
    return found


def kept_versions(folder: Path, current: bool = False) -> list[str]:
    """The releases `folder` can answer for: restored, or restorable from a delta chain.
    With `current`, only those restorable now: every delta on the way at the schema's head
    (a load migrates the others)."""
    chained = deltas(folder)
    heads = {p.name.removesuffix(HEAD) for p in _files(folder, f"*{HEAD}")}
    restorable = {v for v in chained if not current or _chain(folder, v) is not None}
    return sorted({*restored_versions(folder), *restorable, *chained.values(), *heads})


def _files(folder: Path, pattern: str) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.glob(pattern) if not p.name.startswith(".")]


def _delta_path(folder: Path, version: str, after: str) -> Path:
    return folder / f"{version}.{after}{DELTA}"


def _partial(folder: Path, version: str) -> Path:
    """A file being written, named for its writer's process so a dead one's can be removed."""
    return folder / f".{version}.{os.getpid()}.partial"


# Keeping: at the end of a load that made a release


def before_load(url: str, keeping: Keeping) -> Path | None:
    """The release a SQLite database holds before a load, backed up so that the load's
    delta can be computed once it commits (None on PostgreSQL: its head copy is kept)."""
    if not is_sqlite(url):
        return None
    keeping.folder.mkdir(parents=True, exist_ok=True)
    backup = keeping.folder / f".before.{os.getpid()}.partial"
    _back_up(url, backup)
    return backup


def keep_release(
    engine: Engine, url: str, version: str, keeping: Keeping, before: Path | None
) -> Path | None:
    """Keep the release the load made: the delta back to the release before it (`before`
    on SQLite, the head copy on PostgreSQL), and on PostgreSQL the new head copy; then
    prune. Returns the folder the release is kept in, or None when the database had moved
    on to another version meanwhile."""
    folder = keeping.folder
    folder.mkdir(parents=True, exist_ok=True)
    now = _partial(folder, version)
    previous: Path | None = None
    try:
        if is_sqlite(url):
            _back_up(url, now)
            previous = before
        else:
            copy_to_sqlite(engine, now)
            previous = _unpacked_head(folder)
        if stored_version(now) != version:
            logger.warning("not keeping release %s: another load committed meanwhile", version)
            return None
        _write_delta(folder, previous, now, version)
        if not is_sqlite(url):
            _pack_head(folder, now, version)
    finally:
        now.unlink(missing_ok=True)
        if previous is not None and previous != before:
            previous.unlink(missing_ok=True)
    prune(engine, keeping)
    return folder


def _write_delta(folder: Path, previous: Path | None, now: Path, version: str) -> Path | None:
    """The delta from `now` (holding `version`) back to `previous`, if that is another
    release."""
    if previous is None:
        return None
    old = stored_version(previous)
    if not old or old == version:
        return None
    target = _delta_path(folder, old, version)
    partial = _partial(folder, f"{old}.delta")
    partial.unlink(missing_ok=True)
    try:
        _difference(previous, now, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _difference(old: Path, new: Path, target: Path) -> None:
    """Write to `target`, with the schema of `new`, the rows of `old` that `new` lacks or
    holds otherwise, and the keys of the rows of `new` that `old` lacks or holds otherwise."""
    with closing(sqlite3.connect(target, isolation_level=None)) as delta:
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


def _pack_head(folder: Path, copy: Path, version: str) -> Path:
    """Compress the newest release's copy as the chain's head, and drop the old head."""
    target = folder / f"{version}{HEAD}"
    partial = _partial(folder, f"{version}.head")
    with copy.open("rb") as source, gzip.open(partial, "wb", compresslevel=1) as packed:
        shutil.copyfileobj(source, packed, 1 << 20)
    os.replace(partial, target)
    for old in _files(folder, f"*{HEAD}"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def _unpacked_head(folder: Path) -> Path | None:
    heads = _files(folder, f"*{HEAD}")
    if not heads:
        return None
    target = _partial(folder, "previous")
    _unpack(heads[0], target)
    return target


def _unpack(packed: Path, target: Path) -> None:
    with gzip.open(packed, "rb") as source, target.open("wb") as copy:
        shutil.copyfileobj(source, copy, 1 << 20)


def prune(engine: Engine, keeping: Keeping) -> list[str]:
    """Remove what is kept for all but the newest `keep` releases; returns those removed."""
    with engine.connect() as connection:
        newest = connection.execute(
            select(t.release.c.version).order_by(t.release.c.id.desc()).limit(keeping.keep)
        ).scalars()
        wanted = set(newest)
    folder = keeping.folder
    removed = [v for v in kept_versions(folder) if v not in wanted]
    for version in removed:
        archive_path(folder, version).unlink(missing_ok=True)
    for version, after in deltas(folder).items():
        if version not in wanted:
            _delta_path(folder, version, after).unlink(missing_ok=True)
    for partial in folder.glob(".*.partial"):  # left by a load that was killed
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


# Restoring: when a request first asks for a kept release


def restore(folder: Path, version: str, url: str) -> Path | None:
    """A whole database of the kept release `version` (a full version), rebuilt from the
    chain's head and the deltas back to it; None when the chain does not reach it (a delta
    missing or behind the schema, or the database moved on to a release not yet kept)."""
    target = archive_path(folder, version)
    with _restoring(folder):
        if target.exists():
            return target
        chain = _chain(folder, version)
        if chain is None:
            return None
        partial = _partial(folder, version)
        try:
            if not _head_copy(folder, chain[-1], url, partial):
                return None
            for older, newer in zip(reversed(chain[:-1]), reversed(chain[1:]), strict=True):
                _apply(partial, _delta_path(folder, older, newer))
            if stored_version(partial) != version:
                logger.warning("release %s restored as another version; not served", version)
                return None
            reindex_search(partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        _evict(folder, keep=target)
    return target


@contextmanager
def _restoring(folder: Path) -> Iterator[None]:
    """One restore at a time in `folder`, across workers: a second waits for the first and
    then finds its file."""
    with (folder / ".restoring.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _chain(folder: Path, version: str) -> list[str] | None:
    """The releases from `version` to the head, each delta at the schema's head."""
    going = deltas(folder)
    chain = [version]
    while chain[-1] in going:
        delta = _delta_path(folder, chain[-1], going[chain[-1]])
        try:
            modified = delta.stat().st_mtime_ns
        except OSError:
            return None  # pruned meanwhile
        if _revision(delta, modified) != head_revision():
            return None  # a load migrates it; until then its rows may not fit
        chain.append(going[chain[-1]])
        if len(chain) > len(going) + 1:
            return None  # a loop: no chain of releases can hold one
    return chain if len(chain) > 1 else None


def _head_copy(folder: Path, head: str, url: str, target: Path) -> bool:
    """Copy the head of the chain to `target`: the compressed copy, else the database."""
    packed = folder / f"{head}{HEAD}"
    if packed.exists():
        _unpack(packed, target)
    elif is_sqlite(url):
        _back_up(url, target)
    else:
        return False
    return stored_version(target) == head


def _apply(database: Path, delta: Path) -> None:
    """Go back one release: delete the keys the delta lists, then insert its rows."""
    with closing(sqlite3.connect(database, isolation_level=None)) as db:
        db.execute("ATTACH DATABASE ? AS delta", (f"file:{delta}?mode=ro",))
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


def _evict(folder: Path, keep: Path) -> None:
    """Remove the least recently restored whole databases past `RESTORED`."""
    restored = sorted(_files(folder, f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    for path in [p for p in restored if p != keep][: max(0, len(restored) - RESTORED)]:
        path.unlink(missing_ok=True)


# Migrating what is kept


def upgrade_kept(folder: Path) -> list[str]:
    """Migrate the kept databases an older schema wrote (deltas, the head copy, restored
    ones), so their rows fit the head's statements; returns the files migrated. The API
    passes over one still behind (app.nodes.Archives) until a load has migrated it."""
    head = head_revision()
    migrated = []
    for path in [*_files(folder, f"*{SUFFIX}"), *_files(folder, f"*{DELTA}")]:
        if revision_of(path) != head:
            upgrade_to_head(f"sqlite:///{path}")
            migrated.append(path.name)
    for packed in _files(folder, f"*{HEAD}"):
        copy = _partial(folder, "head")
        try:
            _unpack(packed, copy)
            if revision_of(copy) != head:
                upgrade_to_head(f"sqlite:///{copy}")
                _pack_head(folder, copy, packed.name.removesuffix(HEAD))
                migrated.append(packed.name)
        finally:
            copy.unlink(missing_ok=True)
    return migrated


@lru_cache(maxsize=256)
def _revision(path: Path, modified_ns: int) -> str | None:
    """`revision_of`, remembered while the file is unchanged: read at every board check."""
    return revision_of(path)


def revision_of(path: Path) -> str | None:
    """The Alembic revision a kept database is at (None if it has none)."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
            row = database.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _back_up(url: str, target: Path) -> None:
    source_path = make_url(url).database
    target.unlink(missing_ok=True)
    with (
        closing(sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)
