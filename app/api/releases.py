"""`/releases`: every load that changed the data, newest first, each with its tables'
counts, the published tables it was loaded from and its change log (`/changes`, across
releases, and `/releases/{version}/changes`), read from what the loader recorded
(app.seeding.releases)."""

from datetime import UTC, datetime
from typing import Any

from pydantic import Field
from sqlalchemy import Connection, Select, select

from ..models import tables as t
from ..models.vocabulary import ChangeKind
from ..paths import API_PREFIX
from ..query import SET_OPERATORS, TEXT_OPERATORS, Filter, ListSpec, Sort, choice_filter
from ..query.facets import Facet
from ..query.lookups import by_key
from ..query.statements import fetch_all, slot
from .resource import Detail, DetailContext, Found, PathKey, Resource, Tag
from .shapes import Row, Schema, page_of

RELEASES_TAG = Tag("releases", "Every load that changed the data, and what it changed.")
VERSION_EXAMPLE = "63ec60bb23e51794"  # a release, by the 16 digits a citation prints

release, change = t.release, t.release_change


class Release(Schema):
    version: str = Field(description="The dataset version the load left (its content hash).")
    number: int = Field(description="The release's place among this database's: 1 the first.")
    previous_version: str | None = Field(
        description="The version it replaced; null for the first release."
    )
    loaded_at: datetime
    seeds: str = Field(description="The seed directory it was loaded from.")
    url: str


ReleasePage = page_of(Release, "ReleasePage")


class ReleaseTable(Schema):
    name: str = Field(description="The table, as in the release's files.")
    rows: int = Field(description="Its rows after the load.")
    added: int
    changed: int = Field(description="Rows with at least one changed field.")
    retracted: int
    listed: bool = Field(
        description="Whether the change log lists its rows: not for a table empty before the"
        " load (the first load's: every row added) nor for the place hierarchy's closure."
    )


class ReleaseSource(Schema):
    id: str = Field(description="The source the table's facts cite.")
    file: str = Field(description="The CSV, under the seed directory.")
    sha256: str


class ChangesLink(Schema):
    changes: str


class ReleaseDetail(Release):
    tables: list[ReleaseTable]
    sources: list[ReleaseSource] = Field(description="The published tables it was loaded from.")
    download: str = Field(description="Its files: SQLite, Parquet, CSV, with a data package.")
    links: ChangesLink


def releases_select() -> Select[Any]:
    return select(
        release.c.version,
        release.c.id.label("number"),
        release.c.previous_version,
        release.c.loaded_at,
        release.c.seeds,
    )


def _utc(stored: datetime | str) -> str:
    """The load's time in UTC, ISO 8601: SQLite hands it back as the text it stored,
    without its zone (it was written in UTC)."""
    moment = datetime.fromisoformat(stored) if isinstance(stored, str) else stored
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def serialize_release(row: Row) -> dict[str, Any]:
    return {
        "version": row["version"],
        "number": row["number"],
        "previous_version": row["previous_version"],
        "loaded_at": _utc(row["loaded_at"]),
        "seeds": row["seeds"],
        "url": f"{API_PREFIX}/releases/{row['version']}",
    }


RELEASE_SPEC = ListSpec(
    name="releases",
    base=releases_select,
    id_column=release.c.id,
    filters=(),  # `version=` pins the dataset version of any answer (app.middleware)
    sorts=(Sort("number", release.c.id, int),),
    default_sort=("-number",),
    fields=tuple(Release.model_fields),
    serialize=serialize_release,
)


def _tables_and_sources(
    connection: Connection, found: Found, _item: dict[str, Any], _context: DetailContext
) -> dict[str, Any]:
    counts, sources = t.release_table, t.release_source
    tables = fetch_all(
        connection, "release tables",
        lambda: select(counts.c.name, counts.c.rows, counts.c.added, counts.c.changed,
                       counts.c.retracted, counts.c.listed)
        .where(counts.c.release_id == slot("id")).order_by(counts.c.name),
        {"id": found.id},
    )  # fmt: skip
    cited = fetch_all(
        connection, "release sources",
        lambda: select(sources.c.source_id.label("id"), sources.c.file, sources.c.sha256)
        .where(sources.c.release_id == slot("id")).order_by(sources.c.source_id),
        {"id": found.id},
    )  # fmt: skip
    return {
        "tables": [{**dict(row), "listed": bool(row["listed"])} for row in tables],
        "sources": [dict(row) for row in cited],
        "download": f"{API_PREFIX}/releases/{found.key}/download",
    }


RELEASES = Resource(
    name="releases",
    noun="release",
    tag=RELEASES_TAG,
    search=None,
    table=release,
    key=PathKey("version", "release", "release_version", VERSION_EXAMPLE, prefix=12),
    spec=RELEASE_SPEC,
    page=ReleasePage,
    summary="List releases",
    description="Every load that changed the data, newest first.",
    detail=Detail(
        ReleaseDetail,
        summary="Get a release",
        description="A release: when and from what it was loaded, each table's rows and what"
        " the load did to them, and a link to its change log.",
        more=_tables_and_sources,
    ),
)


class Change(Schema):
    release: str = Field(description="The version of the release that made the change.")
    table: str = Field(examples=["observation"])
    key: str = Field(
        description="The row's natural key (a slug, a code, a metric's key; parts joined by"
        " `/` when it has several).",
        examples=["daye-high-tech-enterprises-2023"],
    )
    kind: ChangeKind
    field: str | None = Field(
        description="The changed field (a reference by the name of what it refers to:"
        " `place`); null for a row added or retracted."
    )
    old: str | None = Field(description="The field's value before, as text.")
    new: str | None = Field(description="Its value after, as text (references by key).")


ChangePage = page_of(Change, "ChangePage")


def changes_select() -> Select[Any]:
    return select(
        release.c.version.label("release"),
        change.c.table_name,
        change.c.key,
        change.c.kind,
        change.c.field,
        change.c.old,
        change.c.new,
    ).join(release, release.c.id == change.c.release_id)


def serialize_change(row: Row) -> dict[str, Any]:
    return {
        "release": row["release"],
        "table": row["table_name"],
        "key": row["key"],
        "kind": row["kind"],
        "field": row["field"],
        "old": row["old"],
        "new": row["new"],
    }


CHANGE_SPEC = ListSpec(
    name="changes",
    base=changes_select,
    id_column=change.c.id,
    filters=(
        Filter("release", "Version of the release (the full 64 digits).",
               column=change.c.release_id, lookup=by_key(release, "version"),
               example="63ec60bb23e51794be1faf655c6f5627bf86832f0ef60b75682da11ece55d1e3"),
        choice_filter("kind", change.c.kind, ChangeKind, "changed"),
        Filter("table", "The table of the row (observation for a metric).",
               operators=SET_OPERATORS, column=change.c.table_name, example="observation"),
        Filter("key", "The row's natural key.", operators=TEXT_OPERATORS, column=change.c.key,
               example="daye-high-tech-enterprises-2023"),
        Filter("field", "The changed field.", operators=SET_OPERATORS, column=change.c.field,
               example="value"),
    ),
    sorts=(Sort("id", change.c.id, int),),
    default_sort=("id",),
    fields=tuple(Change.model_fields),
    serialize=serialize_change,
    facets=(
        Facet("kind", "what the load did to the row", change.c.kind),
        Facet("table", "the row's table", change.c.table_name),
    ),
)  # fmt: skip

CHANGES = Resource(
    name="changes",
    noun="change",
    tag=RELEASES_TAG,
    search=None,
    table=change,
    spec=CHANGE_SPEC,
    page=ChangePage,
    summary="List changes",
    description="The change logs of every release, in the order the loads made them: rows"
    " added or retracted by natural key, and each changed field with its old and new value.",
)
