"""The shapes every resource shares: the base schema, the references one record makes to
another (a place, a source, an indicator, provenance), and the page envelope (meta, links,
facets); with the functions that build the references from rows.

Rows come from Core selects with labelled columns (`place_slug`, `source_title`, ...), and
the functions assemble nested objects from them without building model instances. A
resource's own shapes (its item, page and detail) live in its module, beside its select.
"""

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import Label

from ..models.evidence import locator_text
from ..models.vocabulary import PeriodPrecision, PlaceLevel, SubjectKind, Unit
from ..paths import API_PREFIX as API_PREFIX  # app.api.exports names it from here
from ..query.operators import OPERATORS

Row = Mapping[Any, Any]


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlaceRef(Schema):
    slug: str = Field(examples=["daye"])
    name: str = Field(examples=["Daye"])
    level: PlaceLevel
    url: str = Field(examples=["/api/v1/places/daye"])


class Ref(Schema):
    slug: str
    name: str
    url: str


class SourceRef(Schema):
    id: str = Field(examples=["std-2024-03-25-daye"])
    title: str | None
    publisher: str | None
    published_on: date | None
    url: str


class Cell(Schema):
    """The cell of a published table a value was read from, with what the cell is about."""

    row: int = Field(description="Row of the CSV file, the header line being row 1.")
    column: int = Field(description="Column of the CSV file, from 1.")
    row_label: str = Field(examples=["北京 2023"], description="The row's place and year.")
    column_label: str = Field(examples=["合计"], description="The column's header.")
    unit: str = Field(examples=["万元"], description="The unit the table states.")
    table: str | None = Field(examples=["Intramural R&D expenditure by type of activity"])


class Provenance(Schema):
    source: SourceRef
    locator: str | None = Field(
        description="Where in the source: an RFC 5147 character span of a document"
        " (char=START,END) or an RFC 7111 cell of a table (cell=ROW,COLUMN).",
        examples=["char=2115,2158", "cell=12,5"],
    )
    quote: str | None = Field(description="The text the locator covers: a span or a cell.")
    cell: Cell | None = Field(
        description="For a value read from a table: the cell and its labels; null otherwise."
    )


class IndicatorRef(Schema):
    code: str = Field(examples=["high_tech_enterprises"])
    name: str
    unit: Unit = Field(examples=["count"])


class Subject(Schema):
    kind: SubjectKind
    slug: str
    name: str
    url: str


class Period(Schema):
    label: str | None = Field(examples=["2023"])
    start: date | None
    end: date | None
    precision: PeriodPrecision
    year: int | None


FilterValue = str | int | float | bool | list[str | int | float]
if TYPE_CHECKING:
    OperatorName = str
else:  # the registry's names, as the schema's enum
    OperatorName = Literal[tuple(OPERATORS)]


class TotalRelation(StrEnum):
    """Whether `meta.total` is exact (`eq`) or a lower bound (`gte`)."""

    eq = "eq"
    gte = "gte"


class AppliedFilter(Schema):
    field: str = Field(examples=["year"])
    operator: OperatorName
    value: FilterValue = Field(description="A list for `in`, otherwise one value.")


class FacetValue(Schema):
    value: Any = Field(description="The value (for a place, indicator or source: its key).")
    name: str | None = Field(default=None, description="The name of a keyed value.")
    count: int


class FacetCounts(Schema):
    values: list[FacetValue] = Field(description="The most frequent values, most frequent first.")
    truncated: bool = Field(description="More values exist than are listed.")


class Facets(Schema):
    rows: int = Field(description="The matching rows counted.")
    exact: bool = Field(description="False when more rows matched than were counted.")
    counts: dict[str, FacetCounts]


class Meta(Schema):
    returned: int = Field(ge=0)
    limit: int = Field(ge=1)
    sort: list[str]
    filters: list[AppliedFilter]
    next_cursor: str | None = Field(
        description="The `cursor` of the next page, or null on the last page."
    )
    total: int | None = Field(
        default=None,
        description="Present when `count=true`: the number of matching rows, counted up to"
        " 10,000, reading at most 10,001 rows (see `total_relation`).",
    )
    total_relation: TotalRelation | None = Field(
        default=None,
        description="Present when `count=true`: `eq` when `total` is exact, `gte` when it is a"
        " lower bound: more than 10,000 matched, or the rows the count could read (10,001 of"
        " one index range, or of the table) were not all there were, and `total` is the"
        " matches among them.",
    )
    facets: Facets | None = Field(default=None, description="Present when `facets=` is given.")


class SubsetMeta(Meta):
    fields: list[str] = Field(
        description="The fields asked for with `fields=`: each item has these and no others.",
        examples=[["key", "value"]],
    )


class Links(Schema):
    self: str
    next: str | None = Field(description="The next page, or null on the last page.")


class SelfLink(Schema):
    self: str


class MetricsLink(Schema):
    metrics: str


def page_of(item: type[BaseModel], name: str) -> type[BaseModel]:
    items: Any = list[item]  # type: ignore[valid-type]
    return create_model(
        name,
        __base__=Schema,
        __doc__=f"A page of whole {item.__name__} items (no `fields=`).",
        data=(items, ...),
        meta=(Meta, ...),
        links=(Links, ...),
    )


def subset_page_schema(item: str) -> dict[str, Any]:
    """`<Item>FieldsPage`: a page asked for `fields=`, whose items are `<Item>Fields` and
    whose `meta.fields` names them (a page of whole items has no `meta.fields`, so clients
    can tell the two apart)."""
    return {
        "type": "object",
        "title": f"{item}FieldsPage",
        "description": f"A page of {item} items reduced by `fields=` to `meta.fields`.",
        "properties": {
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}Fields"}},
            "meta": {"$ref": "#/components/schemas/SubsetMeta"},
            "links": {"$ref": "#/components/schemas/Links"},
        },
        "required": ["data", "meta", "links"],
        "additionalProperties": False,
    }


def labelled(prefix: str, table: Any, *names: str) -> list[Label[Any]]:
    return [table.c[name].label(f"{prefix}_{name}") for name in names]


def place_ref(row: Row, prefix: str) -> dict[str, Any] | None:
    slug = row[f"{prefix}_slug"]
    if slug is None:
        return None
    return {
        "slug": slug,
        "name": row[f"{prefix}_name"],
        "level": row[f"{prefix}_level"],
        "url": f"{API_PREFIX}/places/{slug}",
    }


def ref(row: Row, prefix: str, collection: str) -> dict[str, Any] | None:
    slug = row[f"{prefix}_slug"]
    if slug is None:
        return None
    return {"slug": slug, "name": row[f"{prefix}_name"], "url": f"{API_PREFIX}/{collection}/{slug}"}


def provenance(row: Row) -> dict[str, Any]:
    """Where a fact is stated: a document's character span, or a table's cell with the
    labels that say what the cell is (only observations are read from tables)."""
    row_number = row.get("locator_row")
    cell = None
    locator = locator_text(row["locator_start"], row["locator_end"])
    if row_number is not None:
        locator = f"cell={row_number},{row['locator_column']}"
        cell = {
            "row": row_number,
            "column": row["locator_column"],
            "row_label": row["row_label"],
            "column_label": row["column_label"],
            "unit": row["cell_unit"],
            "table": row["source_table_title"],
        }
    return {
        "source": {
            "id": row["source_id"],
            "title": row["source_title"],
            "publisher": row["source_publisher"],
            "published_on": row["source_published_on"],
            "url": f"{API_PREFIX}/sources/{row['source_id']}",
        },
        "locator": locator,
        "quote": row["quote"],
        "cell": cell,
    }


def provenance_columns(table: Any, source: Any) -> list[ColumnElement[Any]]:
    columns = [
        source.c.id.label("source_id"),
        source.c.title.label("source_title"),
        source.c.publisher.label("source_publisher"),
        source.c.published_on.label("source_published_on"),
        table.c.locator_start,
        table.c.locator_end,
        table.c.quote,
    ]
    if "locator_row" in table.c:  # a table that holds facts read from cells
        columns += [
            table.c.locator_row,
            table.c.locator_column,
            table.c.row_label,
            table.c.column_label,
            table.c.cell_unit,
            source.c.table_title.label("source_table_title"),
        ]
    return columns
