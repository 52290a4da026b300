"""Releases: what a load did, recorded in the load's own transaction.

Every load that changes the data is a release, named by the dataset version it leaves
(app.seeding.version): when, from which seed directory and manifest sources, each table's
rows and what the load did to them, and a change log by natural key. The log comes from
the comparison the loader makes anyway (every desired row against the row stored under its
natural key, in memory), so it costs no query of its own: a row added or retracted is one
entry, a changed row one entry per changed field with its old and new value as text,
references to other rows written as those rows' natural keys (`place: hefei`). The first
load lists every row it adds, like any other. A load that changes nothing records nothing,
unless the version it leaves has no release yet (a database loaded before releases were
recorded): that release has an empty change log. A load that brings back the content of an
earlier release replaces that release with itself, the newest, logged against what it
replaced.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select

from ..models import tables as t
from ..models.vocabulary import ChangeKind
from .reader import Dataset

Row = Mapping[Any, Any]

# Derived from another table's rows (the place hierarchy's closure): counted, not logged.
UNLOGGED = frozenset({"place_ancestor"})


@dataclass
class TableChanges:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


@dataclass
class LoadReport:
    tables: dict[str, TableChanges] = field(default_factory=dict)
    values_by_source: Counter[str] = field(default_factory=Counter)
    release: str | None = None  # the version of the release this load recorded, if any

    @property
    def changed(self) -> bool:
        return any(t.inserted or t.updated or t.deleted for t in self.tables.values())


def as_text(value: Any) -> str | None:
    """A stored value as the change log writes it."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


class ChangeLog:
    """The change log of one load, table by table, as the loader compares rows."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.keys_by_id: dict[str, dict[Any, str]] = {}  # a table's natural keys by row id
        self.listed: dict[str, bool] = {}  # whether the log lists a table's rows

    def table(
        self, table: Table, keys: tuple[str, ...], existing: Mapping[tuple[Any, ...], Row]
    ) -> "TableLog":
        # A table empty before the load (the first load) is counted, not listed: every row
        # of it was added, as its counts say, and listing them would double its size.
        log = TableLog(self, table, keys, listed=bool(existing))
        self.listed[table.name] = log.logged
        if "id" in table.c:
            self.keys_by_id[table.name] = {
                row["id"]: log.key_text(key) for key, row in existing.items()
            }
        return log


class TableLog:
    def __init__(self, log: ChangeLog, table: Table, keys: tuple[str, ...], listed: bool) -> None:
        self.log, self.table, self.keys = log, table, keys
        self.logged = listed and table.name not in UNLOGGED
        # Columns referring to another table's rows, by the table they refer to.
        self.references = {
            column.name: next(iter(column.foreign_keys)).column.table.name
            for column in table.c
            if column.foreign_keys
        }

    def field(self, column: str) -> str:
        return column.removesuffix("_id") if column in self.references else column

    def value(self, column: str, value: Any) -> str | None:
        referred = self.references.get(column)
        if referred is not None and value is not None:
            return self.log.keys_by_id.get(referred, {}).get(value, as_text(value))
        return as_text(value)

    def key_text(self, key: tuple[Any, ...]) -> str:
        return "/".join(str(self.value(c, v)) for c, v in zip(self.keys, key, strict=True))

    def _entry(self, key: tuple[Any, ...], kind: ChangeKind, **more: Any) -> dict[str, Any]:
        empty = {"field": None, "old": None, "new": None}
        return {"table_name": self.table.name, "key": self.key_text(key), "kind": kind.value,
                **empty, **more}  # fmt: skip

    def added(self, rows: list[dict[str, Any]], ids: dict[Any, int]) -> None:
        known = self.log.keys_by_id.get(self.table.name)
        for row in rows:
            key = tuple(row[k] for k in self.keys)
            if known is not None:
                known[ids[key[0] if len(key) == 1 else key]] = self.key_text(key)
            if self.logged:
                self.log.entries.append(self._entry(key, ChangeKind.added))

    def changed(self, key: tuple[Any, ...], current: Row, differing: dict[str, Any]) -> None:
        if not self.logged:
            return
        for column, new in differing.items():
            self.log.entries.append(
                self._entry(key, ChangeKind.changed, field=self.field(column),
                            old=self.value(column, current[column]),
                            new=self.value(column, new))
            )  # fmt: skip

    def retracted(self, stale: Iterable[tuple[Any, ...]]) -> None:
        if self.logged:
            self.log.entries.extend(self._entry(key, ChangeKind.retracted) for key in stale)


def record_release(
    connection: Connection,
    dataset: Dataset,
    report: LoadReport,
    log: ChangeLog,
    previous: str,
    version: str,
) -> int | None:
    """Record the release this load made, if it made one; returns its id."""
    release = t.release
    known = connection.execute(
        select(release.c.id).where(release.c.version == version)
    ).scalar_one_or_none()
    if not report.changed and previous == version and known is not None:
        return None
    if known is not None:
        _forget(connection, known)
    release_id = connection.execute(
        insert(release).returning(release.c.id),
        {"version": version, "loaded_at": datetime.now(UTC), "seeds": str(dataset.root),
         "previous_version": previous if previous != version and _named(previous) else None},
    ).scalar_one()  # fmt: skip
    connection.execute(
        insert(t.release_table),
        [
            {"release_id": release_id, "name": name, "rows": counts.total,
             "added": counts.inserted, "changed": counts.updated, "retracted": counts.deleted,
             "listed": log.listed.get(name, False)}
            for name, counts in report.tables.items()
        ],
    )  # fmt: skip
    if dataset.tables:
        connection.execute(
            insert(t.release_source),
            [
                {"release_id": release_id, "source_id": table.source.id,
                 "file": f"tables/{table.source.file}", "sha256": table.source.sha256}
                for table in dataset.tables
            ],
        )  # fmt: skip
    if report.changed and log.entries:
        connection.execute(
            insert(t.release_change), [{"release_id": release_id, **e} for e in log.entries]
        )
    return int(release_id)


def _named(version: str) -> bool:
    """Whether a stored version names a release's content (not the never-loaded marker)."""
    return all(c in "0123456789abcdef" for c in version) and len(version) == 64


def _forget(connection: Connection, release_id: int) -> None:
    for child in (t.release_change, t.release_table, t.release_source, t.release_file):
        connection.execute(delete(child).where(child.c.release_id == release_id))
    connection.execute(delete(t.release).where(t.release.c.id == release_id))
