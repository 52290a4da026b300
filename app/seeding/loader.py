"""Writing a checked dataset to the database: one transaction, upsert by natural key.

Each table is brought to exactly what the seed files say: new records are inserted,
changed ones updated column by column, and records no longer in the files deleted.
A second run over the same files therefore changes nothing.
"""

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, delete, insert, select, update
from sqlmodel import SQLModel

from .. import models  # noqa: F401  (registers the tables)
from ..facts.conflicts import mark_conflicts
from ..facts.latest import mark_latest
from ..facts.version import read_version, store_version
from ..models.vocabulary import PROVINCE_LEVELS
from .bundle import Staged, stage_files
from .cells import NO_CELL, observation_rows
from .codes import former_code_rows
from .errors import SeedError, SeedProblem
from .history import history_rows
from .kinds import KINDS, Written
from .reader import PLACES_FILE, Dataset
from .records import Evidenced, PlaceRecord, SourceRecord, TableSourceRecord
from .releases import ChangeLog, LoadReport, TableChanges, record_release
from .search import rebuild_search
from .secrets import ensure_secret
from .version import dataset_hash

Row = dict[str, Any]
Progress = Callable[[str], None]


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


# Tables in the order they are filled (the tables the documents' facts refer to, then one
# per kind of fact); stale rows are deleted in the reverse order.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "source": ("id",),
    "indicator": ("code",),
    "place": ("slug",),
    "place_ancestor": ("place_id", "ancestor_id"),
    "former_code": ("source_id", "locator_row", "place_id"),
    **{kind.table: kind.table_key for kind in KINDS},
}
ORDER = tuple(NATURAL_KEYS)


class _Sync:
    """Brings tables to a desired set of rows inside one connection's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.report = LoadReport()
        self.stale: dict[str, list[tuple[Any, ...]]] = {}
        self.log = ChangeLog()

    def rows(
        self, name: str, desired: Iterable[Row], ids: dict[Any, int] | None = None
    ) -> dict[Any, int]:
        """Upsert `desired` into table `name`; see `generations`."""
        return self.generations(name, [desired], ids)

    def generations(
        self, name: str, batches: Iterable[Iterable[Row]], ids: dict[Any, int] | None = None
    ) -> dict[Any, int]:
        """Upsert rows into table `name`, batch by batch, new rows inserted in bulk.

        Returns the primary key of each row by its natural key (the bare value for one-column
        keys). The dict is filled after each batch, so a lazily built batch can refer to rows
        of the batches before it (places to their parents).
        """
        table = _table(name)
        keys = NATURAL_KEYS[name]
        existing = {
            tuple(row[k] for k in keys): row
            for row in self.connection.execute(select(table)).mappings()
        }
        changes = self.report.tables.setdefault(name, TableChanges())
        ids = {} if ids is None else ids
        log = self.log.table(table, keys, existing)
        for batch in batches:
            new: list[Row] = []
            for row in batch:
                key = tuple(row[k] for k in keys)
                current = existing.pop(key, None)
                if current is None:
                    new.append(row)
                    continue
                differing = {col: value for col, value in row.items() if current[col] != value}
                log.changed(key, current, differing)
                if differing:
                    self.connection.execute(
                        update(table).where(_match(table, keys, key)).values(**differing)
                    )
                    changes.updated += 1
                else:
                    changes.unchanged += 1
                if isinstance(current.get("id"), int):
                    ids[key[0] if len(key) == 1 else key] = current["id"]
            self._insert(table, keys, new, ids)
            log.added(new, ids)
            changes.inserted += len(new)
        self.stale[name] = list(existing)
        log.retracted(existing)
        return ids

    def _insert(
        self, table: Table, keys: tuple[str, ...], new: list[Row], ids: dict[Any, int]
    ) -> None:
        if not new:
            return
        if "id" not in table.c:
            self.connection.execute(insert(table), new)
            return
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        for row, new_id in zip(new, self.connection.execute(statement, new).scalars(), strict=True):
            key = tuple(row[k] for k in keys)
            ids[key[0] if len(key) == 1 else key] = new_id

    def delete_stale(self) -> None:
        for name in reversed(ORDER):
            table = _table(name)
            keys = NATURAL_KEYS[name]
            for key in self.stale.get(name, []):
                self.connection.execute(delete(table).where(_match(table, keys, key)))
                self.report.tables[name].deleted += 1


def _match(table: Table, keys: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    return and_(*(table.c[k] == v for k, v in zip(keys, values, strict=True)))


def _evidence(source_id: str, record: Evidenced) -> Row:
    span = record.span
    return {
        "source_id": source_id,
        "locator_start": span[0] if span else None,
        "locator_end": span[1] if span else None,
        "quote": record.quote,
    }


def _places_in_order(places: list[PlaceRecord]) -> list[PlaceRecord]:
    """Parents before children, so every parent id exists when a child is written."""
    by_slug = {p.slug: p for p in places}
    ordered: list[PlaceRecord] = []
    seen: set[str] = set()

    def visit(place: PlaceRecord, trail: tuple[str, ...]) -> None:
        if place.slug in seen:
            return
        if place.slug in trail:
            raise SeedError(
                [SeedProblem(PLACES_FILE, f"place {place.slug}", "parent", "places form a cycle")]
            )
        if place.parent is not None:
            visit(by_slug[place.parent], (*trail, place.slug))
        seen.add(place.slug)
        ordered.append(place)

    for place in places:
        visit(place, ())
    return ordered


def load_dataset(
    engine: Engine,
    dataset: Dataset,
    progress: Progress | None = None,
    releases: Path | None = None,
) -> LoadReport:
    """Write `dataset` in a single transaction: on any error nothing is kept. With
    `releases`, a release's files are written there (app.seeding.bundle), in place once the
    transaction commits."""
    step = progress or (lambda _: None)
    staged: list[Staged] = []
    try:
        report = _load(engine, dataset, step, releases, staged)
    except BaseException:
        for files in staged:
            files.discard()
        raise
    for files in staged:
        files.publish()
    return report


def _load(
    engine: Engine, dataset: Dataset, step: Progress, releases: Path | None, staged: list[Staged]
) -> LoadReport:
    with engine.begin() as connection:
        previous = read_version(connection)
        sync = _Sync(connection)
        step("sources")
        sync.rows(
            "source",
            [
                *(_source_row(s) for s in dataset.sources.sources),
                *(_table_source_row(t.source) for t in dataset.tables),
            ],
        )
        step("indicators")
        indicator_ids = sync.rows(
            "indicator", (i.model_dump(mode="json") for i in dataset.indicators.indicators)
        )
        step("places")
        place_ids = _write_places(sync, dataset)
        sync.rows("former_code", _former_codes(dataset, place_ids))
        step("organizations, clusters, programs, relations, observations")
        _write_documents(sync, dataset, place_ids, indicator_ids)
        step("removing records no longer in the seeds")
        sync.delete_stale()
        step("conflicting and latest facts")
        mark_conflicts(connection)
        mark_latest(connection)
        step("search entries")
        rebuild_search(connection)
        version = dataset_hash(dataset)
        store_version(connection, version)
        ensure_secret(connection)
        step("release")
        release = record_release(connection, dataset, sync.report, sync.log, previous, version)
        if release is not None and releases is not None:
            step("release files")
            staged.append(stage_files(connection, release, version, releases, ORDER))
        sync.report.release = version if release is not None else None
        return sync.report


def _former_codes(dataset: Dataset, place_ids: dict[str, int]) -> Iterator[Row]:
    """The codes places had: those the tables give them, then the history's."""
    codes = {p.record.slug: p.record.code for p in dataset.all_places}
    yield from former_code_rows(dataset.tables, place_ids, codes)
    if dataset.history is not None:
        by_code = {code: place_ids[slug] for slug, code in codes.items() if code is not None}
        yield from history_rows(dataset.history, by_code)


def _source_row(source: SourceRecord) -> Row:
    row = source.model_dump(exclude={"file"})
    row["kind"] = source.kind.value
    row["file_name"] = source.file
    # Every column of the table (a table source's own ones empty), so that document and
    # table sources are written by one statement of the same columns.
    return {**dict.fromkeys(_table("source").c.keys()), **row, "language": "en"}


def _table_source_row(source: TableSourceRecord) -> Row:
    return {
        "id": source.id,
        "kind": source.kind.value,
        "title": source.title,
        "publisher": source.publisher,
        "author": None,
        "published_on": None,
        "date_note": None,
        "url": source.url,
        "file_name": f"tables/{source.file}",
        "sha256": source.sha256,
        "treatment": source.notes,
        "language": "zh",
        "edition": source.edition,
        "table_title": source.table,
        "table_title_local": source.table_local,
        "licence": source.licence,
        "dataset_repository": source.dataset.repository or source.dataset.package,
        "dataset_commit": source.dataset.at,
        "dataset_path": source.dataset.path,
    }


def _write_places(sync: _Sync, dataset: Dataset) -> dict[str, int]:
    """Places in generations (parents first), each generation inserted in bulk: about
    3,300 divisions load in one statement per level instead of one per place."""
    ordered = _places_in_order([p.record for p in dataset.all_places])
    loaded = {p.record.slug: p for p in dataset.all_places}
    parents = {p.slug: p.parent for p in ordered}
    depth: dict[str, int] = {}
    province_of: dict[str, str | None] = {}
    for place in ordered:
        depth[place.slug] = depth[place.parent] + 1 if place.parent else 0
        inherited = province_of.get(place.parent) if place.parent else None
        province_of[place.slug] = place.slug if place.level in PROVINCE_LEVELS else inherited
    ids: dict[str, int] = {}

    def generation(level: int) -> Iterator[Row]:
        for place in ordered:
            if depth[place.slug] != level:
                continue
            inherited = province_of.get(place.parent) if place.parent else None
            reference = loaded[place.slug]
            yield {
                "slug": place.slug,
                "name": place.name,
                "name_local": place.name_local,
                "level": place.level.value,
                "code": place.code,
                "parent_id": ids[place.parent] if place.parent else None,
                "province_id": ids[inherited] if inherited else None,
                "source_id": reference.source,
                "longitude": reference.longitude,
                "latitude": reference.latitude,
            }

    generations = max(depth.values(), default=-1) + 1
    sync.generations("place", (generation(level) for level in range(generations)), ids)
    closure = []
    for place in ordered:
        ancestor: str | None = place.slug
        steps = 0
        while ancestor is not None:
            closure.append(
                {"place_id": ids[place.slug], "ancestor_id": ids[ancestor], "depth": steps}
            )
            ancestor, steps = parents[ancestor], steps + 1
    sync.rows("place_ancestor", closure)
    return ids


def _write_documents(
    sync: _Sync, dataset: Dataset, place_ids: dict[str, int], indicator_ids: dict[str, int]
) -> None:
    """Each kind of record in the documents, in the order of KINDS (a kind's references
    are written before it)."""
    written = Written({"place": place_ids, "indicator": indicator_ids}, {"place": place_ids})
    for kind in KINDS:
        records = [
            (document.source, record)
            for document in dataset.documents.values()
            for record in kind.records(document)
        ]
        rows = [
            {**kind.row(record, written), **_evidence(source, record)} for source, record in records
        ]
        if kind.table == "observation":  # and the facts read from tables' cells
            rows = [{**row, **NO_CELL} for row in rows]
            rows += observation_rows(dataset.tables, place_ids, indicator_ids)
            sync.report.values_by_source.update(row["source_id"] for row in rows)
        written.ids[kind.name] = sync.rows(kind.table, rows)
        written.places[kind.name] = {
            kind.key_of(record): row["place_id"]
            for (_, record), row in zip(records, rows[: len(records)], strict=True)
            if "place_id" in row
        }
