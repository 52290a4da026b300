"""The kept releases: what answers a request pinned to a past version, stored as the rows
each release changed, and restored to a whole database when a request first asks for it.

A load that makes a release writes, for the release before it, a *delta*: a small SQLite
database with the release's schema, compressed, that holds the rows of that release which
the new one changed or retracted, and the keys of the rows the new one changed or added
(`<version>.<next version>.delta.gz`). Going back from a release to the one before is then:
delete those keys, insert those rows. Only changed rows are stored twice: ten releases of
the data cost about one database, not ten. The release before a load is read from a copy
taken before it (SQLite: the backup API; PostgreSQL: every table copied into SQLite).

The newest release is the chain's head: the database itself. A request pinned to a kept
release that no database holds has it restored (`restore`): the database copied, the
deltas applied newest first, the version checked, the file renamed into place whole as
`<version>.sqlite`, which the API opens read-only as a database of its own
(app.nodes.Archives). At most `RESTORED` such files stay, the least recently restored
removed first; each is rebuilt on demand. Deltas and restored databases are migrated with
the database at each load (`upgrade_kept`).
"""

import fcntl
import hashlib
import logging
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, make_url, select

from .. import models  # noqa: F401  (registers the tables)
from ..db import build_engine, is_sqlite
from ..migrate import head_revision, upgrade_to_head
from ..models import tables as t
from .copies import copy_to_sqlite, reindex_search, stored_version
from .deltas import apply_delta, pack, unpack, write_delta
from .secrets import read_secret

logger = logging.getLogger("atlas")

SUFFIX = ".sqlite"  # a whole database of one release, restored
DELTA = ".delta.gz"  # <version>.<next>.delta.gz: from the next release back to this one
RESTORED = 3  # whole databases kept restored at once


@dataclass(frozen=True)
class Keeping:
    """Where the kept releases go, and how many of the newest are kept."""

    folder: Path
    keep: int


def database_folder(folder: Path, secret: str) -> Path:
    """Where one database keeps its releases: a folder named for it (a digest of the key it
    generated for itself), so that databases sharing an archives folder never take each
    other's deltas. A delta goes back only from the database it was computed on: another
    database at the same version may hold the same facts under other row ids."""
    return folder / hashlib.sha256(secret.encode()).hexdigest()[:16]


def for_database(keeping: Keeping, engine: Engine) -> Keeping | None:
    """`keeping` in the folder of the database `engine` reaches (None before its first
    load, which generates the key that names it)."""
    with engine.connect() as connection:
        secret = read_secret(connection)
    if secret is None:
        return None
    return replace(keeping, folder=database_folder(keeping.folder, secret))


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


def kept_versions(folder: Path, head: str | None = None) -> list[str]:
    """The releases `folder` keeps: restored, or restorable from a chain of deltas (the
    newest, the chain's head, is the database's). With `head`, the version the database
    holds now, only those restorable from it: every delta on the way there, at the
    schema's head (a load migrates the others). A folder another database shares (a chain
    that does not end at `head`) answers for none of its deltas."""
    chained = deltas(folder)
    if head is None:
        return sorted({*restored_versions(folder), *chained, *chained.values()})
    restorable = {v for v in chained if (c := _chain(folder, v, chained)) and c[-1] == head}
    return sorted({*restored_versions(folder), *restorable})


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


def before_load(engine: Engine, url: str, keeping: Keeping) -> Path:
    """The release the database holds before a load, copied, so that the load's delta can
    be computed once it commits."""
    keeping.folder.mkdir(parents=True, exist_ok=True)
    copy = keeping.folder / f".before.{os.getpid()}.partial"
    _copy(engine, url, copy)
    return copy


def keep_release(
    engine: Engine, url: str, version: str, keeping: Keeping, before: Path | None
) -> Path | None:
    """Keep the release the load made: write the delta from it back to the release
    `before` held, then prune. Returns the folder the release is kept in, or None when the
    database had moved on to another version meanwhile."""
    folder = keeping.folder
    folder.mkdir(parents=True, exist_ok=True)
    now = _partial(folder, version)
    try:
        _copy(engine, url, now)
        if stored_version(now) != version:
            logger.warning("not keeping release %s: another load committed meanwhile", version)
            return None
        _write_delta(folder, before, now, version)
    finally:
        now.unlink(missing_ok=True)
    prune(engine, keeping)
    return folder


def _copy(engine: Engine, url: str, target: Path) -> None:
    """The database as a SQLite file: SQLite's with the backup API, PostgreSQL's table by
    table in one snapshot."""
    if is_sqlite(url):
        _back_up(url, target)
    else:
        copy_to_sqlite(engine, target)


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
    packed = _partial(folder, f"{old}.delta.gz")
    try:
        write_delta(previous, now, partial)
        pack(partial, packed)
        os.replace(packed, target)
    finally:
        partial.unlink(missing_ok=True)
        packed.unlink(missing_ok=True)
    return target


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
    database (the chain's head) and the deltas back to it; None when the chain does not
    reach it (a delta missing or behind the schema, or the database moved on to a release
    not yet kept)."""
    target = archive_path(folder, version)
    with _restoring(folder):
        if target.exists():
            return target
        chain = _chain(folder, version)
        if chain is None:
            return None
        partial = _partial(folder, version)
        try:
            _copy_of(url, partial)
            if stored_version(partial) != chain[-1]:
                return None  # a load committed and its delta is not written yet
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


def _chain(folder: Path, version: str, going: dict[str, str] | None = None) -> list[str] | None:
    """The releases from `version` to the head, each delta at the schema's head (`going`:
    the folder's deltas, when the caller has read them already)."""
    going = deltas(folder) if going is None else going
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


def _copy_of(url: str, target: Path) -> None:
    engine = build_engine(url, pool_size=1)
    try:
        _copy(engine, url, target)
    finally:
        engine.dispose()


def _apply(database: Path, delta: Path) -> None:
    """Go back one release: the delta's rows applied to the database."""
    with _unpacked(delta) as rows:
        apply_delta(database, rows)


@contextmanager
def _unpacked(delta: Path) -> Iterator[Path]:
    """A delta decompressed to a file of its own, removed after."""
    # a name of its own: a board check reads a delta's revision while a restore applies it
    target = _partial(delta.parent, f"{delta.name}.{uuid.uuid4().hex}")
    try:
        unpack(delta, target)
        yield target
    finally:
        target.unlink(missing_ok=True)


def _evict(folder: Path, keep: Path) -> None:
    """Remove the least recently restored whole databases past `RESTORED`."""
    restored = sorted(_files(folder, f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    for path in [p for p in restored if p != keep][: max(0, len(restored) - RESTORED)]:
        path.unlink(missing_ok=True)


# Migrating what is kept


def upgrade_kept(folder: Path) -> list[str]:
    """Migrate the kept databases an older schema wrote (deltas and restored ones), so their
    rows fit the head's statements; returns the files migrated. The API passes over one
    still behind (app.nodes.Archives) until a load has migrated it."""
    head = head_revision()
    migrated = []
    for path in _files(folder, f"*{SUFFIX}"):
        if revision_of(path) != head:
            upgrade_to_head(f"sqlite:///{path}")
            migrated.append(path.name)
    for delta in _files(folder, f"*{DELTA}"):
        with _unpacked(delta) as rows:
            if revision_of(rows) != head:
                upgrade_to_head(f"sqlite:///{rows}", partial=True)
                packed = _partial(folder, f"{delta.name}.migrated")
                pack(rows, packed)
                os.replace(packed, delta)
                migrated.append(delta.name)
    return migrated


@lru_cache(maxsize=256)
def _revision(delta: Path, modified_ns: int) -> str | None:
    """The revision of a delta, remembered while the file is unchanged (the API reads it at
    every board check)."""
    with _unpacked(delta) as rows:
        return revision_of(rows)


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
