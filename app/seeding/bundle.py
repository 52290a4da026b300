"""The release as files, written once at load time and served as they are.

In the load's transaction, after the release is recorded, the served tables are read back
(the rows just written) and written to a hidden staging folder in the releases directory:

- `atlas.sqlite`: one SQLite database of every served table, with its primary key;
- `<table>.parquet`: one Parquet file per table (zstd);
- `atlas-csv.zip`: one CSV per table and the data package describing them;
- `datapackage.json`: a Frictionless data package of the Parquet files (fields, types,
  keys, references), the SQLite database and the CSV bundle, with licences, sources and the
  SHA-256 of every file;
- `SHA256SUMS`: every other file's checksum, in the form `sha256sum -c` reads.

The observation table carries one column more than the database's, `unit` (its indicator's
unit), so that a value read from any file says what it counts. The folder is renamed to
`<releases>/<version>` once the transaction commits (`Staged.publish`), and removed if
it does not, so a release's files are never half written; the file list (names, sizes,
checksums) is recorded in `release_file` in the same transaction.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import Boolean, Connection, Date, DateTime, Float, Integer, Table, insert, select
from sqlmodel import SQLModel

from ..facts.files import CSV_FILE, PACKAGE_FILE, SQLITE_FILE, SUMS_FILE, media_type
from ..models import tables as t
from ..models.vocabulary import Unit

BATCH = 10_000  # rows read, and held as Python objects, at a time
UNIT_COLUMN = "unit"  # added to observation: its indicator's unit
UNITS = {
    Unit.CNY: "yuan (renminbi)",
    Unit.COUNT: "a count",
    Unit.PERCENT: "percent",
    Unit.PERCENTAGE_POINT: "percentage points",
    Unit.RANK: "a rank (1 the first)",
    Unit.PERSON_YEARS: "full-time-equivalent person-years",
    Unit.RATIO: "a ratio the indicator defines",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # the Frictionless type: integer, number, boolean, date, datetime, string
    description: str | None = None


@dataclass
class Staged:
    """A release's files, written but not yet in place."""

    folder: Path
    target: Path

    def publish(self) -> None:
        if self.target.exists():
            shutil.rmtree(self.target)
        os.replace(self.folder, self.target)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _kind(column: Any) -> str:
    kind = column.type
    if isinstance(kind, Boolean):
        return "boolean"
    if isinstance(kind, Integer):
        return "integer"
    if isinstance(kind, Float):
        return "number"
    if isinstance(kind, DateTime):
        return "datetime"
    if isinstance(kind, Date):
        return "date"
    return "string"


ARROW = {
    "boolean": pa.bool_(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "string": pa.string(),
}
SQLITE = {"boolean": "INTEGER", "integer": "INTEGER", "number": "REAL", "date": "TEXT",
          "datetime": "TEXT", "string": "TEXT"}  # fmt: skip


def _columns(table: Table) -> list[Column]:
    columns = [Column(c.name, _kind(c), c.comment) for c in table.c]
    if table.name == "observation":
        columns.append(Column(UNIT_COLUMN, "string", "The unit of `value`: its indicator's."))
    return columns


def _read(connection: Connection, table: Table, columns: list[Column]) -> pa.Table:
    """The table's rows, ordered by its primary key, as Arrow columns."""
    statement = select(*table.c)
    if table.name == "observation":
        unit = t.indicator.c.unit.label(UNIT_COLUMN)
        statement = select(*table.c, unit).join(
            t.indicator, t.indicator.c.id == table.c.indicator_id
        )
    schema = pa.schema([(c.name, ARROW[c.kind]) for c in columns])
    result = connection.execute(
        statement.order_by(*table.primary_key.columns).execution_options(yield_per=BATCH)
    )
    batches = []
    for rows in result.partitions():  # a batch of rows at a time: few Python objects at once
        values = zip(*rows, strict=True)
        arrays = [pa.array(v, type=f.type) for v, f in zip(values, schema, strict=True)]
        batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _schema(table: Table, columns: list[Column]) -> dict[str, Any]:
    fields = []
    for column in columns:
        field: dict[str, Any] = {"name": column.name, "type": column.kind}
        if column.description:
            field["description"] = column.description
        if column.name == "value" and table.name == "observation":
            field["description"] = "The value, in the unit the `unit` field names."
        if column.name == UNIT_COLUMN or (table.name == "indicator" and column.name == "unit"):
            field["constraints"] = {"enum": [unit.value for unit in Unit]}
        fields.append(field)
    schema: dict[str, Any] = {
        "fields": fields,
        "primaryKey": [c.name for c in table.primary_key.columns],
    }
    references = [
        {"fields": [c.name], "reference": {"resource": key.column.table.name,
                                           "fields": [key.column.name]}}
        for c in table.c for key in c.foreign_keys
    ]  # fmt: skip
    if references:
        schema["foreignKeys"] = references
    return schema


def _sqlite_rows(data: pa.Table, columns: list[Column]) -> Iterator[tuple[Any, ...]]:
    """Rows as SQLite stores them: dates as ISO 8601 text, booleans as 0 and 1."""
    values = []
    for column, array in zip(columns, data.columns, strict=True):
        if column.kind in ("date", "datetime"):
            array = pc.cast(array, pa.string()) if column.kind == "date" else pc.strftime(array)
        elif column.kind == "boolean":
            array = pc.cast(array, pa.int64())
        values.append(array.to_pylist())
    return zip(*values, strict=True)


def _write_sqlite(path: Path, tables: dict[str, tuple[list[Column], pa.Table]],
                  keys: dict[str, list[str]]) -> None:  # fmt: skip
    database = sqlite3.connect(path)
    try:
        for name, (columns, data) in tables.items():
            defined = ", ".join(f'"{c.name}" {SQLITE[c.kind]}' for c in columns)
            primary = ", ".join(f'"{k}"' for k in keys[name])
            database.execute(f'CREATE TABLE "{name}" ({defined}, PRIMARY KEY ({primary}))')
            marks = ", ".join("?" for _ in columns)
            database.executemany(
                f'INSERT INTO "{name}" VALUES ({marks})', _sqlite_rows(data, columns)
            )
        database.commit()
    finally:
        database.close()


def _write_csv_bundle(
    path: Path,
    tables: dict[str, tuple[list[Column], pa.Table]],
    package: dict[str, Any],
    schemas: dict[str, dict[str, Any]],
) -> None:
    resources = []
    options = pacsv.WriteOptions(quoting_style="needed")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, (_, data) in tables.items():
            sink = pa.BufferOutputStream()
            pacsv.write_csv(data, sink, options)
            text = sink.getvalue().to_pybytes()
            bundle.writestr(f"{name}.csv", text)
            resources.append({
                "name": name, "path": f"{name}.csv", "format": "csv", "mediatype": "text/csv",
                "encoding": "utf-8", "bytes": len(text),
                "hash": f"sha256:{hashlib.sha256(text).hexdigest()}", "schema": schemas[name],
            })  # fmt: skip
        described = {**package, "resources": resources}
        bundle.writestr(PACKAGE_FILE, json.dumps(described, indent=2, ensure_ascii=False))


def _package(connection: Connection, version: str) -> dict[str, Any]:
    source = t.source
    rows = connection.execute(
        select(source.c.id, source.c.title, source.c.url, source.c.licence).order_by(source.c.id)
    ).all()
    licences = sorted({row.licence for row in rows if row.licence})
    return {
        "name": "innovation-atlas",
        "title": "Innovation Atlas: regional innovation data for China",
        "version": version,
        "description": "Every served table of one release. A table's facts cite their source"
        " (source_id); a published table's licence is its source's, and a curated fact quotes"
        " the document its source names. Values are in their indicator's unit (observation's"
        f" `unit` field): {'; '.join(f'{u.value}: {UNITS.get(u, u.value)}' for u in Unit)}.",
        **({"licenses": [{"name": licence, "title": f"{licence}: the published tables'"}
                         for licence in licences]} if licences else {}),
        "sources": [{"title": row.title or row.id, **({"path": row.url} if row.url else {})}
                    for row in rows],
    }  # fmt: skip


def stage_files(
    connection: Connection, release_id: int, version: str, releases: Path, names: Sequence[str]
) -> Staged:
    """Write the release's files for the tables `names` (in their load order) and record
    them; the files are in place once `publish` is called after the commit."""
    releases.mkdir(parents=True, exist_ok=True)
    folder = releases / f".{version}.{os.getpid()}.partial"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    staged = Staged(folder, releases / version)
    try:
        _write(connection, release_id, version, folder, names)
    except BaseException:
        staged.discard()
        raise
    return staged


def _write(
    connection: Connection, release_id: int, version: str, folder: Path, names: Sequence[str]
) -> None:
    metadata = SQLModel.metadata.tables
    tables: dict[str, tuple[list[Column], pa.Table]] = {}
    schemas, keys = {}, {}
    for name in names:
        table = metadata[name]
        columns = _columns(table)
        tables[name] = (columns, _read(connection, table, columns))
        schemas[name] = _schema(table, columns)
        keys[name] = schemas[name]["primaryKey"]
    package = _package(connection, version)
    resources: list[dict[str, Any]] = []
    for name, (_, data) in tables.items():
        pq.write_table(data, folder / f"{name}.parquet", compression="zstd")
        resources.append({"name": name, "path": f"{name}.parquet", "format": "parquet",
                          "schema": schemas[name]})  # fmt: skip
    _write_sqlite(folder / SQLITE_FILE, tables, keys)
    _write_csv_bundle(folder / CSV_FILE, tables, package, schemas)
    resources += [
        {"name": "sqlite", "path": SQLITE_FILE, "format": "sqlite",
         "description": f"Every table above in one SQLite database: {', '.join(tables)}."},
        {"name": "csv", "path": CSV_FILE, "format": "zip",
         "description": "Every table above as CSV, with a data package of its own."},
    ]  # fmt: skip
    for resource in resources:
        path = folder / resource["path"]
        resource["mediatype"] = media_type(path.name)
        resource["bytes"] = path.stat().st_size
        resource["hash"] = f"sha256:{_sha256(path)}"
    (folder / PACKAGE_FILE).write_text(
        json.dumps({**package, "resources": resources}, indent=2, ensure_ascii=False),
        encoding="utf-8",
    )
    files = sorted(p for p in folder.iterdir() if p.name != SUMS_FILE)
    sums = {path.name: _sha256(path) for path in files}
    (folder / SUMS_FILE).write_text(
        "".join(f"{digest}  {name}\n" for name, digest in sums.items()), encoding="utf-8"
    )
    connection.execute(
        insert(t.release_file),
        [{"release_id": release_id, "name": path.name, "bytes": path.stat().st_size,
          "sha256": sums.get(path.name) or _sha256(path),
          "media_type": media_type(path.name)}
         for path in sorted(folder.iterdir())],
    )  # fmt: skip
